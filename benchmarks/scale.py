"""Build, load, per-question time and peak memory of StoryBot, rank-bm25 and bm25s, side by side.

usage: python benchmarks/scale.py [--sizes 1000,10000,100000,200000,1000000] [--work DIR]

Corpora come from ../shared/eval/gen_corpus.py (synthetic passages of real English words, 20 to a
file, with questions made of one passage's rarest words). Each system is measured in a process of
its own, so that its peak memory is its own. StoryBot's question time is a whole answer (sentences
scored, quotes chosen), the others' a top-10 retrieval. Prints a Markdown table.
"""

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared"

def _questions(corpus: Path) -> list[str]:
    return Path(str(corpus) + ".questions").read_text().split("\n")[:100]


def _paragraphs(corpus: Path) -> list[str]:
    return [p for f in sorted(corpus.glob("*.txt")) for p in f.read_text().split("\n\n")[1:] if p.strip()]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def storybot_build(corpus: Path, work: Path) -> dict[str, float]:
    from retrieval import store
    from retrieval.corpus import load_corpus
    from retrieval.index import Index

    start = time.perf_counter()
    index = Index.build(load_corpus(corpus))
    store.save(index, store.stored_path(work, corpus), store.Fingerprint(corpus))
    return {"build": time.perf_counter() - start, "peak": _peak_mb()}


def storybot_ask(corpus: Path, work: Path) -> dict[str, float]:
    from retrieval import answer, store

    questions = _questions(corpus)
    start = time.perf_counter()
    index = store.load(store.stored_path(work, corpus), store.Fingerprint(corpus))
    loaded = time.perf_counter() - start
    answer(index, questions[0])  # the first question reads wordfreq's list
    start = time.perf_counter()
    for question in questions:
        answer(index, question)
    return {"load": loaded, "question": (time.perf_counter() - start) / len(questions), "peak": _peak_mb()}


# One article of words the synthetic corpora do not use, added, then edited, then removed (issue 17).
ARTICLE = "The quokka rode a zeppelin over the marmalade factory. Nobody in the harbour had seen one before."
EDITED = "The quokka flew a kite over the marmalade factory. The harbour master wrote it down."
ASKED = "What did the quokka do over the marmalade factory?"


def storybot_update(corpus: Path, work: Path) -> dict[str, float]:
    """An article added to the kept index, edited, then removed: each until a question is answered from the result."""
    from retrieval import Document, answer, store

    index = store.load(store.stored_path(work, corpus), store.Fingerprint(corpus))
    answer(index, ASKED)  # the first question reads wordfreq's list
    times = {}
    for step, added, removed in (
        ("add", [Document("new.txt", "New", (ARTICLE,))], []),
        ("edit", [Document("new.txt", "New", (EDITED,))], []),
        ("remove", [], ["new.txt"]),
    ):
        start = time.perf_counter()
        index = index.updated(added, removed)
        quotes = answer(index, ASKED).quotes
        times[step] = time.perf_counter() - start
        found = bool(quotes) and quotes[0].doc_id == "new.txt" and ("kite" in quotes[0].text) == (step == "edit")
        if found != (step != "remove"):
            sys.exit(f"after the {step}, the answer is not what the corpus now says: {quotes[:1]}")
    return times | {"peak": _peak_mb()}


def rank_bm25_build_and_ask(corpus: Path, work: Path) -> dict[str, float]:
    import numpy as np
    from rank_bm25 import BM25Okapi

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    start = time.perf_counter()
    bm25 = BM25Okapi([words(p) for p in _paragraphs(corpus)])
    built = time.perf_counter() - start
    questions = _questions(corpus)[:5]
    start = time.perf_counter()
    for question in questions:
        np.argsort(-bm25.get_scores(words(question)))[:10]
    return {"build": built, "question": (time.perf_counter() - start) / len(questions), "peak": _peak_mb()}


def bm25s_build(corpus: Path, work: Path) -> dict[str, float]:
    import bm25s

    start = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(_paragraphs(corpus), show_progress=False), show_progress=False)
    retriever.save(work / "bm25s")
    return {"build": time.perf_counter() - start, "peak": _peak_mb()}


def bm25s_ask(corpus: Path, work: Path) -> dict[str, float]:
    import bm25s

    start = time.perf_counter()
    retriever = bm25s.BM25.load(work / "bm25s", mmap=False)
    loaded = time.perf_counter() - start
    questions = _questions(corpus)
    tokens = bm25s.tokenize(questions, show_progress=False)
    start = time.perf_counter()
    retriever.retrieve(tokens, k=10, show_progress=False, n_threads=1)
    return {"load": loaded, "question": (time.perf_counter() - start) / len(questions), "peak": _peak_mb()}


# Each measurement runs in a fresh interpreter (this file, with --measure), so that its peak memory is its own.
MEASUREMENTS: dict[str, Callable[[Path, Path], dict[str, float]]] = {
    f.__name__: f
    for f in (storybot_build, storybot_ask, storybot_update, rank_bm25_build_and_ask, bm25s_build, bm25s_ask)
}


def measure(name: str, corpus: Path, work: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", name, str(corpus), str(work)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
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
    parser.add_argument("--sizes", default="1000,10000,100000,200000,1000000", help="passages, comma-separated")
    parser.add_argument("--work", type=Path, help="where corpora and indexes go (default: a temporary folder)")
    parser.add_argument("--measure", nargs=3, metavar=("NAME", "CORPUS", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        name, corpus, folder = args.measure
        print(json.dumps(MEASUREMENTS[name](Path(corpus), Path(folder))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="storybot-scale-"))
    print(
        "| passages | system | build (s) | load (s) | per question (ms) | peak MB, building | peak MB, serving "
        "| one article added / edited / removed, then answered (s) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = corpus_of(size, work)
        folder = work / f"index-{size}"
        folder.mkdir(exist_ok=True)
        rows = {
            "StoryBot": (measure("storybot_build", corpus, folder), measure("storybot_ask", corpus, folder)),
            "bm25s": (measure("bm25s_build", corpus, folder), measure("bm25s_ask", corpus, folder)),
            "rank-bm25": (measure("rank_bm25_build_and_ask", corpus, folder), None),
        }
        updates = measure("storybot_update", corpus, folder)
        changes = " / ".join(f"{updates[step]:.2f}" for step in ("add", "edit", "remove"))
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
                changes if system == "StoryBot" else "(rebuilds)",
            ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
