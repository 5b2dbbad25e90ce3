"""Build, load, per-question time and peak memory of StoryBot, rank-bm25 and bm25s, side by side.

usage: python benchmarks/scale.py [--sizes 1000,10000,100000,200000] [--work DIR]

Corpora come from ../shared/eval/gen_corpus.py (synthetic passages of real English words, 20 to a
file, with questions made of one passage's rarest words). Each system is measured in a process of
its own, so that its peak memory is its own. StoryBot's question time is a whole answer (sentences
scored, quotes chosen), the others' a top-10 retrieval. Prints a Markdown table.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Each runs in a fresh interpreter: argv[1] the corpus, argv[2] a working folder; prints one JSON line.
_PRELUDE = """
import json, re, resource, sys, time
from pathlib import Path
corpus, work = Path(sys.argv[1]), Path(sys.argv[2])
questions = Path(str(corpus) + ".questions").read_text().split("\\n")[:100]
def paragraphs():
    return [p for f in sorted(corpus.glob("*.txt")) for p in f.read_text().split("\\n\\n")[1:] if p.strip()]
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
_STORYBOT = """
from retrieval import store
from retrieval.answer import answer
from retrieval.corpus import load_corpus
from retrieval.index import Index
path = store.stored_path(work, corpus)
if sys.argv[3] == "build":
    start = time.perf_counter()
    index = Index.build(load_corpus(corpus))
    store.save(index, path, store.Fingerprint(corpus))
    print(json.dumps({"build": time.perf_counter() - start, "peak": peak_mb()}))
else:
    start = time.perf_counter()
    index = store.load(path, store.Fingerprint(corpus))
    loaded = time.perf_counter() - start
    answer(index, questions[0])  # the first question reads wordfreq's list
    start = time.perf_counter()
    for question in questions:
        answer(index, question)
    asked = (time.perf_counter() - start) / len(questions)
    print(json.dumps({"load": loaded, "question": asked, "peak": peak_mb()}))
"""
_RANK_BM25 = """
import numpy as np
from rank_bm25 import BM25Okapi
words = lambda s: re.findall(r"\\w+", s.lower())
start = time.perf_counter()
bm25 = BM25Okapi([words(p) for p in paragraphs()])
built = time.perf_counter() - start
start = time.perf_counter()
for question in questions[:5]:
    np.argsort(-bm25.get_scores(words(question)))[:10]
print(json.dumps({"build": built, "question": (time.perf_counter() - start) / 5, "peak": peak_mb()}))
"""
_BM25S = """
import bm25s
if sys.argv[3] == "build":
    start = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(paragraphs(), show_progress=False), show_progress=False)
    retriever.save(work / "bm25s")
    print(json.dumps({"build": time.perf_counter() - start, "peak": peak_mb()}))
else:
    start = time.perf_counter()
    retriever = bm25s.BM25.load(work / "bm25s", mmap=False)
    loaded = time.perf_counter() - start
    tokens = bm25s.tokenize(questions, show_progress=False)
    start = time.perf_counter()
    retriever.retrieve(tokens, k=10, show_progress=False, n_threads=1)
    asked = (time.perf_counter() - start) / len(questions)
    print(json.dumps({"load": loaded, "question": asked, "peak": peak_mb()}))
"""


def measure(script: str, corpus: Path, work: Path, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + script, str(corpus), str(work), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def corpus_of(size: int, work: Path) -> Path:
    corpus = work / f"corpus-{size}"
    if not corpus.exists():
        vocabulary = SHARED / "benchmarks" / "squad-dev-public" / "corpus"
        generator = SHARED / "eval" / "gen_corpus.py"
        subprocess.run([sys.executable, str(generator), str(corpus), str(size), str(vocabulary)], check=True)
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,200000", help="passages, comma-separated")
    parser.add_argument("--work", type=Path, help="where corpora and indexes go (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="storybot-scale-"))
    print("| passages | system | build (s) | load (s) | per question (ms) | peak MB, building | peak MB, serving |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = corpus_of(size, work)
        folder = work / f"index-{size}"
        folder.mkdir(exist_ok=True)
        rows = {
            "StoryBot": (measure(_STORYBOT, corpus, folder, "build"), measure(_STORYBOT, corpus, folder, "ask")),
            "bm25s": (measure(_BM25S, corpus, folder, "build"), measure(_BM25S, corpus, folder, "ask")),
            "rank-bm25": (measure(_RANK_BM25, corpus, folder), None),
        }
        for system, (build, ask) in rows.items():
            served = ask or build  # rank-bm25 keeps nothing: it serves from the process that built it
            cells = [
                f"{size:,}",
                system,
                f"{build['build']:.1f}",
                f"{ask['load']:.2f}" if ask else "(rebuilds)",
                f"{served['question'] * 1000:.2f}",
                f"{build['peak']:.0f}",
                f"{served['peak']:.0f}",
            ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
