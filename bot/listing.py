"""What a corpus holds at a glance, each file's size, modification time and inode: tells what changed without
reading a byte, so that a corpus can be checked every few seconds."""

import os
from pathlib import Path

from retrieval import CorpusFiles, corpus_files

# (size, modification time in ns, inode); a file that cannot be stat'ed counts by why (-1, errno, 0).
Status = tuple[int, int, int]
Listing = dict[Path, Status]


def status(file: Path) -> Status:
    """The file's status now, links followed: a file replaced by a rename has a new inode even with the same size."""
    try:
        found = os.stat(file)
    except OSError as error:
        return (-1, error.errno or 0, 0)
    return (found.st_size, found.st_mtime_ns, found.st_ino)


def take_listing(source: Path) -> tuple[CorpusFiles, Listing]:
    """The corpus's files and each one's status; raises CorpusError when the corpus itself is gone or unreadable."""
    files = corpus_files(source)
    return files, {file: status(file) for file in files.files}
