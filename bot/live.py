"""A live corpus: while the bot serves, a file added to, changed in or removed from its corpus shows in answers within
seconds, without a restart.

The corpus is watched (watchfiles), or, where it cannot be, its listing is checked every few seconds. Either way an
event only says "look": what changed is what the listing (paths, sizes, modification times) says changed since the
index was made. A changed file is read once it has held still for a quiet interval, so that a file still being
written is never indexed half. The changes that settle together become one new index, built off the event loop while
the old one keeps serving, then put in the story in one assignment: no question waits on an update, and none sees
half of one.
"""

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.listing import Listing, Status, status, take_listing
from bot.story import Story
from retrieval import CorpusError, CorpusFiles, Document, Fingerprint, Index, SkippedFile, quoted, read_file, save

log = logging.getLogger("storybot.corpus")

QUIET = 1.0  # seconds a file's size and modification time must hold still before it is read
POLL = 2.0  # seconds between listing checks, where the corpus cannot be watched
DEBOUNCE_MS = 100  # watchfiles gathers the events of this long into one
STOP_SECONDS = 30.0  # the longest a stop waits for an update under way (a thread cannot be interrupted)

# Filesystems whose changes made elsewhere (another machine, the host of a VM) raise no event here.
_NO_EVENTS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "virtiofs", "vboxsf", "davfs", "afs")


@dataclass
class _Batch:
    """The files that settled together, read, and what the index becomes with them."""

    read: dict[Path, Document] = field(default_factory=dict)
    removed: dict[Path, str] = field(default_factory=dict)  # path: doc_id of a document in the index
    unsettled: set[Path] = field(default_factory=set)  # changed again while read: read next time
    warnings: list[str] = field(default_factory=list)


class LiveCorpus:
    """Keeps a story's index in step with its corpus while the bot serves: start() with the bot, stop() at shutdown."""

    def __init__(self, story: Story, quiet: float = QUIET, poll: float = POLL, watch: bool = True) -> None:
        self.story = story
        self.quiet, self.poll = quiet, poll
        self.watch = watch  # False: listing checks only
        self.polling = not watch
        self._known: Listing | None = story.listing  # the corpus as the index in use has it
        self._pending: dict[Path, tuple[Status | None, float]] = {}  # a changed file: what it was, since when
        self._kept: set[str] = set()  # doc_ids of files gone, kept lest the story be left empty
        self._failed: str | None = None  # the listing's last error, warned about once
        self._last: tuple[CorpusFiles, Listing] | None = None  # the corpus at the last look
        self._listed = 0.0  # when the whole listing was last taken
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._to_keep: tuple[Index, Listing] | None = None  # the newest index to keep on disk, and the corpus it holds
        self._keeping = asyncio.Event()

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        """Begin following the corpus; returns at once. Differences since the story's listing count as changes."""
        self._stopping.clear()
        self._wake.set()  # a first look straight away
        self._tasks = [asyncio.create_task(self._serve(), name="storybot: live corpus")]
        if self.story.kept_at is not None:
            self._tasks.append(asyncio.create_task(self._keeper(), name="storybot: index keeper"))
        if self.watch:
            self._start_watching()
        else:
            log.info("checking %s for changes every %g s", quoted(str(self.story.source)), self.poll)

    async def stop(self) -> None:
        """Stop following the corpus, letting an update under way finish (or be dropped, past STOP_SECONDS)."""
        self._stopping.set()
        self._wake.set()
        self._keeping.set()
        tasks, self._tasks = self._tasks, []
        late = (await asyncio.wait(tasks, timeout=STOP_SECONDS))[1] if tasks else set()
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # -- noticing ---------------------------------------------------------------------------------

    def _start_watching(self) -> None:
        root = _watched(self.story.source)
        kind = _filesystem(root)
        if kind in _NO_EVENTS or kind.startswith("fuse"):
            self.polling = True
            log.warning(
                "%s is on %s, whose changes made elsewhere raise no events: checking its listing every %g s too",
                quoted(str(root)), kind, self.poll,
            )  # fmt: skip
        self._tasks.append(asyncio.create_task(self._watch(root), name="storybot: corpus watcher"))

    async def _watch(self, root: Path) -> None:
        """Wake the checker at each batch of events; on any failure to watch, check the listing every few seconds."""
        from watchfiles import awatch

        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # its "2 changes detected" says less than ours
        try:
            recursive = os.path.isdir(self.story.source)
            async for _ in awatch(
                root, watch_filter=None, debounce=DEBOUNCE_MS, stop_event=self._stopping, recursive=recursive
            ):
                self._wake.set()
        except Exception as error:  # inotify's limits, a folder gone, a filesystem that refuses to be watched
            if not self._stopping.is_set():
                self._fall_back(f"cannot watch {quoted(str(root))} ({_reason(error)})")
            return
        if not self._stopping.is_set():
            self._fall_back(f"stopped watching {quoted(str(root))}")

    def _fall_back(self, why: str) -> None:
        if not self.polling:
            log.warning("%s: checking its listing every %g s instead", why, self.poll)
        self.polling = True
        self._wake.set()

    async def _serve(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._timeout())
            woken = self._wake.is_set()
            self._wake.clear()
            if self._stopping.is_set():
                return
            # An event, or the time for a listing check, looks at the whole corpus; a pending file's time, at it alone.
            whole = woken or self._last is None or (self.polling and self._next_listing() <= 0)
            try:
                await self._check(whole)
            except Exception:  # a bug: said, and the story served as it is
                log.exception("the corpus could not be checked for changes")

    def _timeout(self) -> float | None:
        """How long to wait for an event: until the first pending file may have settled, or the next listing check."""
        waits = [since + self.quiet - time.monotonic() for _, since in self._pending.values()]
        if self.polling:
            waits.append(self._next_listing())
        return max(0.0, min(waits)) if waits else None

    def _next_listing(self) -> float:
        return self._listed + self.poll - time.monotonic()

    # -- checking ---------------------------------------------------------------------------------

    async def _check(self, whole: bool) -> None:
        """Compare the corpus with the index's, and apply what has settled."""
        before = time.monotonic()
        try:
            if whole or self._last is None:
                files, now = await asyncio.to_thread(take_listing, self.story.source)
                self._listed = before
            else:
                files, listed = self._last
                now = await asyncio.to_thread(_restated, listed, list(self._pending))
            self._last = files, now
        except CorpusError as error:
            self._last = None
            if str(error) != self._failed:
                log.warning("%s: serving the story as it is until it is back", error)
            self._failed = str(error)
            self.polling = True  # a folder gone took its watch with it
            return
        if self._failed is not None:  # the corpus is back: watch it anew, as its folder may be a new one
            self._failed = None
            if self.watch and all(task.done() for task in self._tasks[1:]):
                self.polling = False
                self._start_watching()
        if self._known is None:  # the story came without the listing it was read from: from here on
            self._known = now
            return
        settled = self._settled(now, before, time.monotonic())
        if settled:
            await self._apply(files, now, settled)

    def _settled(self, now: Listing, before: float, after: float) -> list[Path]:
        """Changed files whose status held still for the quiet interval; others wait for their next look."""
        assert self._known is not None
        changed = {file for file in self._known.keys() | now.keys() if self._known.get(file) != now.get(file)}
        self._pending = {file: seen for file, seen in self._pending.items() if file in changed}
        settled = []
        for file in sorted(changed):
            seen = self._pending.get(file)
            if seen is None or seen[0] != now.get(file):
                self._pending[file] = (now.get(file), after)
            elif before - seen[1] >= self.quiet:
                settled.append(file)
        return settled

    async def _apply(self, files: CorpusFiles, now: Listing, settled: list[Path]) -> None:
        started = time.perf_counter()
        index = self.story.index
        batch = await asyncio.to_thread(_read, files, now, settled, index)
        for warning in batch.warnings:
            log.warning("%s", warning)
        assert self._known is not None
        for file in settled:
            if file in batch.unsettled:
                continue
            self._pending.pop(file, None)
            if file in now:
                self._known[file] = now[file]
            else:
                self._known.pop(file, None)
        if not batch.read and not batch.removed:
            return
        removed = self._kept | set(batch.removed.values())
        try:
            updated = await asyncio.to_thread(_updated, index, list(batch.read.values()), removed)
        except CorpusError:  # never an empty story: the last document stays until another comes
            self._kept = removed - {document.doc_id for document in batch.read.values()}
            what = _what(files, batch)
            log.warning("%s would leave the story with nothing to quote: still serving it as it was", what)
            return
        self._kept = set()
        if self._stopping.is_set():
            return
        self.story.index = updated  # the one step: the next question meets the new index
        self._log(files, batch, index, updated, time.perf_counter() - started)
        self._to_keep = updated, dict(self._known)
        self._keeping.set()

    # -- keeping ----------------------------------------------------------------------------------

    async def _keeper(self) -> None:
        """Keep the newest index on disk, one at a time, off the event loop: a restart then starts from it rather than
        indexing the corpus again. Updates that come while one is kept are kept together, next."""
        while not self._stopping.is_set():
            await self._keeping.wait()
            self._keeping.clear()
            if self._to_keep is not None and not self._stopping.is_set():
                (index, holds), self._to_keep = self._to_keep, None
                await asyncio.to_thread(_keep, self.story, index, holds)

    def _log(self, files: CorpusFiles, batch: _Batch, old: Index, new: Index, seconds: float) -> None:
        """One line a file: which, how many quotable paragraphs, how long the update took."""
        counts = dict(zip((source.doc_id for source in new.sources), new.passage_counts(), strict=True))
        before = {source.doc_id for source in old.sources}
        together = len(batch.read) + len(batch.removed)
        took = f"{seconds:.3f} s" + (f", one update of {together} files" if together > 1 else "")
        for file, document in batch.read.items():
            done = "changed" if document.doc_id in before else "added"
            paragraphs = counts.get(document.doc_id, 0)
            said = f"{paragraphs} paragraph" + ("" if paragraphs == 1 else "s")
            log.info("%s %s: %s (%s)", done, quoted(files.name(file)), said, took)
        for file in batch.removed:
            log.info("removed %s (%s)", quoted(files.name(file)), took)


def _what(files: CorpusFiles, batch: _Batch) -> str:
    """What a batch does, in a few words: "removing a.txt", "changing b.txt and removing a.txt"."""
    changing = ", ".join(quoted(files.name(file)) for file in batch.read)
    removing = ", ".join(quoted(files.name(file)) for file in batch.removed)
    parts = [f"changing {changing}" if changing else "", f"removing {removing}" if removing else ""]
    return " and ".join(part for part in parts if part)


def _read(files: CorpusFiles, now: Listing, settled: list[Path], index: Index) -> _Batch:
    """The settled files read (in a thread): documents to add, doc_ids to remove, a warning for each unusable file."""
    batch = _Batch()
    served = {source.doc_id for source in index.sources}
    for file in settled:
        doc_id = files.doc_id(file)
        if file not in now:
            if doc_id in served:
                batch.removed[file] = doc_id
            continue
        try:
            document = read_file(files, file)
        except SkippedFile as skipped:
            if status(file) != now[file]:  # written again while read: its reason may be gone
                batch.unsettled.add(file)
            else:
                batch.warnings.append(str(skipped) + (": the story keeps it as it was" if doc_id in served else ""))
            continue
        if status(file) != now[file]:  # written again while read: what was read may be half of it
            batch.unsettled.add(file)
        else:
            batch.read[file] = document
    return batch


def _restated(listing: Listing, files: list[Path]) -> Listing:
    """The listing with a few files looked at again (in a thread): cheaper than the whole, for a file settling."""
    now = dict(listing)
    for file in files:
        if os.path.lexists(file):
            now[file] = status(file)
        else:
            now.pop(file, None)
    return now


def _updated(index: Index, added: list[Document], removed: set[str]) -> Index:
    """The successor index, made ready to serve (in a thread) before any question meets it."""
    updated = index.updated(added, removed)
    updated.searches_by_meaning  # noqa: B018 -- embeds every sentence of a story now, not in a question's time
    updated.sources  # noqa: B018 -- and lists an archive's documents here, not on the event loop
    return updated


def _keep(story: Story, index: Index, holds: Listing) -> None:
    """Keep the index (in a thread), provided the corpus is now just what it holds; else a later update will."""
    assert story.kept_at is not None
    fingerprint = Fingerprint(story.source)
    fingerprint.listing  # noqa: B018 -- taken before the look below: a change between them shows there
    try:
        if take_listing(story.source)[1] != holds:
            return
        started = time.perf_counter()
        save(index, story.kept_at, fingerprint, with_content=False)
    except (CorpusError, OSError) as error:
        log.warning("cannot keep the updated index in %s (%s)", quoted(str(story.kept_at)), _reason(error))
        return
    log.debug("kept the updated index in %s (%.2f s)", quoted(str(story.kept_at)), time.perf_counter() - started)


def _watched(source: Path) -> Path:
    """What to watch: the corpus folder, or the folder of a one-file corpus (an editor may replace the file)."""
    return source if os.path.isdir(source) else source.parent


def _filesystem(path: Path) -> str:
    """The type of the filesystem a path is on ("ext4", "nfs4", "fuse.sshfs"), "" where that cannot be told."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return ""
    where = os.path.realpath(path)
    best, kind = "", ""
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not rest:
            continue
        mount = parts[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        inside = where == mount or where.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, rest.split()[0]
    return kind


def _reason(error: BaseException) -> str:
    said = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return quoted(said or type(error).__name__)


@contextlib.contextmanager
def following(live: LiveCorpus) -> Iterator[None]:
    """The live corpus served from a thread of its own, for a channel without an event loop (the console)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    done = asyncio.Event()

    async def serve() -> None:
        await live.start()
        ready.set()
        await done.wait()
        await live.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="storybot: corpus", daemon=True)
    thread.start()
    ready.wait(STOP_SECONDS)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(STOP_SECONDS)
        if not thread.is_alive():
            loop.close()
