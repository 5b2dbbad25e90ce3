"""Follow-up questions: how `read_in_context` does on the dev conversations and on synthetic ones built from SQuAD,
beside the same questions asked alone, and what a follow-up costs. A benchmark and the fit of `Reading`, not a test.

usage: python benchmarks/followup_fit.py [--shared ../shared] [--sweep] [--show]

Every conversation's turns are fed in order, the history being the turns as understood and answered, and every turn
is also asked alone. Judged as ../shared/eval/followup_eval.py judges (its `hit`, copied): context turns with a gold
phrase in a quote of an answered or closest reply, and in the first quote; self-contained turns beside the same
turns asked alone (and whether they were answered exactly as alone); off-topic turns declined; related-unanswerable
turns answered with confidence.

- dev: ../shared/eval/story-followup-dev.jsonl, the story ../shared/stories.
- SQuAD (../shared/benchmarks/squad-dev-public), each article's questions grouped by the one paragraph that holds
  their answer. A group makes turns: its first question in full, then up to two later ones as follow-ups, the name or
  noun phrase they share with the first replaced by a pronoun ("When did it end?"), or cut to "why?" /
  "when?" when they ask nothing else. Two groups make a conversation, so the second is a change of subject.
  - "an article a story": each article a story of its own, a question of another article (off-topic) after the
    first group's first question, so that its follow-ups must skip it;
  - "all articles one story": one story of all eight, the two groups from different articles, so that a follow-up
    that lost its subject may be read about any of them.

Cost: every `answer()` call `read_in_context` makes is counted, and each follow-up (a turn read in context) is
timed against the same question asked alone, the best of 5 runs each.

--sweep: each setting of `Reading` in turn, the others as they are, on every set.
"""

import argparse
import itertools
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from unittest import mock

import retrieval.followup
from retrieval.answer import POLICY, Answer, Outcome, Policy, answer
from retrieval.corpus import load_corpus
from retrieval.followup import READING, Reading, Turn, read_in_context
from retrieval.index import Index

# ../shared/eval/answers.py's judging, copied: the same figures as followup_eval.py.
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().lower()


def hit(result: Answer, golds: list[str], top: int | None = None) -> bool:
    quotes = result.quotes[:top] if top else result.quotes
    return any(norm(gold) in norm(quote.text) for gold in golds for quote in quotes)


@dataclass(frozen=True)
class Asked:
    q: str
    kind: str  # answerable | related-unanswerable | offtopic
    context: bool  # the turn leans on the ones before it
    gold: list[str]


@dataclass(frozen=True)
class Conversation:
    story: str  # which index answers it
    turns: list[Asked]


class CountedAnswer:
    """`answer`, counting its calls: what `read_in_context` calls, in the benchmark."""

    def __init__(self) -> None:
        self.calls = 0
        self.last: tuple[str, Policy] | None = None  # what it was last asked: a follow-up's question made explicit

    def __call__(self, index: Index, question: str, policy: Policy = POLICY) -> Answer:
        self.calls += 1
        self.last = question, policy
        return answer(index, question, policy)


COUNTED = CountedAnswer()


@dataclass
class Tally:
    ctx: int = 0
    ctx_hit: int = 0
    ctx_first: int = 0
    ctx_alone: int = 0  # the same context turns asked alone
    ctx_alone_first: int = 0
    own: int = 0
    own_hit: int = 0
    own_alone: int = 0
    own_same: int = 0  # self-contained turns answered exactly as alone, and read alone
    off: int = 0
    off_declined: int = 0
    off_confident: int = 0
    off_alone_declined: int = 0
    off_alone_confident: int = 0
    rel: int = 0
    rel_answered: int = 0
    rel_alone_answered: int = 0
    calls: list[int] = field(default_factory=list)  # answer() calls of each turn
    followup_ms: list[float] = field(default_factory=list)  # each turn read in context...
    alone_ms: list[float] = field(default_factory=list)  # ...and the same question asked alone
    alone_searched: list[bool] = field(default_factory=list)  # ...which, alone, found something
    followup_calls: list[int] = field(default_factory=list)  # ...and the answer() calls reading it took
    explicit_ms: list[float] = field(default_factory=list)  # ...and the question made explicit, asked alone
    misses: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return (
            f"{name}: context turns {self.ctx_hit}/{self.ctx} in reply, {self.ctx_first} first (alone: "
            f"{self.ctx_alone}, {self.ctx_alone_first} first); self-contained {self.own_hit}/{self.own} (alone: "
            f"{self.own_alone}), {self.own_same} answered exactly as alone; off-topic declined "
            f"{self.off_declined}/{self.off} (alone: {self.off_alone_declined}), answered with confidence "
            f"{self.off_confident} (alone: {self.off_alone_confident}); not in story but answered "
            f"{self.rel_answered}/{self.rel} (alone: {self.rel_alone_answered}); answer() calls a turn: at most "
            f"{max(self.calls, default=0)}"
        )


def timed(call: Callable[[], tuple[Answer, str | None]], rounds: int) -> tuple[Answer, str | None, float]:
    """The call's result and its best time of `rounds`, in milliseconds (the best: the least disturbed)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        result, understood = call()
        best = min(best, 1000 * (time.perf_counter() - start))
    return result, understood, best


def _alone(index: Index, question: str, policy: Policy = POLICY) -> tuple[Answer, None]:
    return answer(index, question, policy), None


def run(
    conversations: list[Conversation], indexes: dict[str, Index], reading: Reading, show: bool = False, rounds: int = 1
) -> Tally:
    tally = Tally()
    for conversation in conversations:
        index = indexes[conversation.story]
        history: list[Turn] = []
        for turn in conversation.turns:
            COUNTED.calls = 0
            in_context = partial(read_in_context, index, turn.q, list(history), reading=reading)
            result, understood, took = timed(in_context, rounds)
            calls = COUNTED.calls // rounds
            tally.calls.append(calls)
            explicit = COUNTED.last
            alone, _, took_alone = timed(partial(_alone, index, turn.q), rounds)
            history.append(Turn.of(understood or result.question, result))
            if understood is not None and explicit is not None:
                tally.explicit_ms.append(timed(partial(_alone, index, explicit[0], explicit[1]), rounds)[2])
                tally.followup_ms.append(took)
                tally.alone_ms.append(took_alone)
                tally.alone_searched.append(alone.outcome is not Outcome.DECLINED)
                tally.followup_calls.append(calls)
            if show:
                mark = "C" if turn.context else "-"
                print(
                    f"  {mark} {turn.kind[:6]} {turn.q!r} -> {understood!r} {result.outcome.value}"
                    f"{' HIT' if hit(result, turn.gold) else ''}"
                )
            _judge(tally, turn, result, understood, alone)
    return tally


def _judge(tally: Tally, turn: Asked, result: Answer, understood: str | None, alone: Answer) -> None:
    if turn.kind == "answerable" and turn.context:
        tally.ctx += 1
        tally.ctx_hit += hit(result, turn.gold)
        tally.ctx_first += hit(result, turn.gold, top=1)
        tally.ctx_alone += hit(alone, turn.gold)
        tally.ctx_alone_first += hit(alone, turn.gold, top=1)
        if not hit(result, turn.gold):
            tally.misses.append(f"{turn.q!r} read as {understood!r}: {result.outcome.value}")
    elif turn.kind == "answerable":
        tally.own += 1
        tally.own_hit += hit(result, turn.gold)
        tally.own_alone += hit(alone, turn.gold)
        tally.own_same += result == alone and understood is None
    elif turn.kind == "offtopic":
        tally.off += 1
        tally.off_declined += result.outcome is Outcome.DECLINED
        tally.off_confident += result.outcome is Outcome.ANSWERED
        tally.off_alone_declined += alone.outcome is Outcome.DECLINED
        tally.off_alone_confident += alone.outcome is Outcome.ANSWERED
    else:
        tally.rel += 1
        tally.rel_answered += result.outcome is Outcome.ANSWERED
        tally.rel_alone_answered += alone.outcome is Outcome.ANSWERED


def dev_set(shared: Path) -> tuple[list[Conversation], dict[str, Index]]:
    rows = [json.loads(line) for line in (shared / "eval/story-followup-dev.jsonl").open(encoding="utf-8") if line]
    conversations = [
        Conversation("story", [Asked(t["q"], t["kind"], t["context"], t["gold"]) for t in row["turns"]]) for row in rows
    ]
    return conversations, {"story": Index.build(load_corpus(shared / "stories"))}


# -- the synthetic set --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[\w’-]+(?:'(?!s\b)[\w-]+)?|'s\b|[^\w\s]")
_SMALL = frozenset(
    "a an the of in on at to for by with from and or as is are was were be been did do does what which who whom whose "
    "when where why how that this these those it its his her their they he she has have had can could will would "
    "s 's".split()
)
_WHOLE = re.compile(r"^(why|when)\b", re.IGNORECASE)
_OPENS = frozenset("did do does was were is are will can could would has have had".split())


def _content(tokens: list[str]) -> set[str]:
    return {t.lower() for t in tokens if t[0].isalnum() and t.lower() not in _SMALL}


def _phrases(tokens: list[str]) -> list[tuple[int, int]]:
    """Where `tokens` name something: runs of capitalized words ("Rio Grande", "Treaty of Paris"),
    and "the" before a few plain words ("the parliament"); longest first."""
    found = []
    for start in range(1, len(tokens)):
        end = start
        while end < len(tokens) and (
            tokens[end][:1].isupper()
            or (end > start and tokens[end] in ("of", "de"))
            or (end > start and tokens[end].isdigit())
        ):
            end += 1
        while end > start and tokens[end - 1] in ("of", "de"):
            end -= 1
        adjective = end < len(tokens) and tokens[end][:1].islower() and tokens[end] not in _SMALL
        inside = start > 1 and tokens[start - 1][:1].isupper()
        if end > start and not adjective and not inside:
            found.append((start - (tokens[start - 1].lower() in ("the", "a", "an")), end))
        if tokens[start - 1].lower() == "the":
            end = start
            while (
                end < len(tokens)
                and end - start < 3
                and tokens[end][:1].isalpha()
                and tokens[end].islower()
                and tokens[end] not in _SMALL
            ):
                end += 1
            ends = end == len(tokens) or not tokens[end][:1].isalnum() or tokens[end] in _SMALL - {"of", "'s"}
            if end > start and ends:
                found.append((start - 1, end))
    return sorted(found, key=lambda span: span[0] - span[1])


def followup(first: str, later: str) -> str | None:
    """`later` leaning on `first`: cut to "why?" / "when?" when it asks nothing `first` did not, else the name or
    noun phrase it shares with `first` replaced by a pronoun; None when they share none."""
    mine = _WORD.findall(later)
    if _WHOLE.match(later) and _content(mine) and not _content(mine) - _content(_WORD.findall(first)):
        return f"{mine[0].lower()}?"
    shared = {t.lower() for t in _WORD.findall(first)}
    for start, end in _phrases(mine):
        named = _content(mine[start:end])
        if not named or not named <= shared or end - start >= len(mine) - 2:
            continue
        plural = mine[end - 1].endswith("s") and not mine[end - 1].endswith("ss")
        if end < len(mine) and mine[end] == "'s":
            pronoun, end = ("their" if plural else "its"), end + 1
        elif start <= 1 or mine[start - 1].lower() in _OPENS:
            pronoun = "they" if plural else "it"
        else:
            pronoun = "them" if plural else "it"
        text = " ".join([*mine[:start], pronoun, *mine[end:]])
        return re.sub(r"\s+([?.,!;:])", r"\1", text)
    return None


FOLLOWUPS = 2  # a group's follow-ups, one after the other
ROUNDS = 5  # times each turn is asked, in context and alone, for its best time


Group = list[dict[str, object]]  # questions about one paragraph, in SQuAD's order


def squad_groups(shared: Path) -> dict[str, list[Group]]:
    """Each article's questions grouped by the one paragraph that holds their answer, groups of two or more."""
    folder = shared / "benchmarks/squad-dev-public"
    rows = [json.loads(line) for line in (folder / "questions.jsonl").open(encoding="utf-8") if line.strip()]
    groups: dict[str, list[Group]] = {}
    for article in sorted({row["article"] for row in rows}):
        text = (folder / "corpus" / f"{article}.txt").read_text(encoding="utf-8")
        paragraphs = [norm(p) for p in text.split("\n\n")[1:] if p.strip()]
        by_paragraph: dict[int, Group] = {}
        for row in rows:
            if row["article"] != article or row["is_impossible"] or not row["answers"]:
                continue
            holding = {i for i, p in enumerate(paragraphs) for gold in row["answers"] if norm(gold) in p}
            if len(holding) == 1:
                by_paragraph.setdefault(holding.pop(), []).append(row)
        groups[article] = [g for _, g in sorted(by_paragraph.items()) if len(g) >= 2]
    return groups


def _turns(group: Group) -> list[Asked]:
    """The group's first question in full, then up to FOLLOWUPS later ones as follow-ups; none if none can be."""
    first = str(group[0]["question"])
    later = [(row, text) for row in group[1:] if (text := followup(first, str(row["question"])))][:FOLLOWUPS]
    if not later:
        return []
    return [Asked(first, "answerable", False, _golds(group[0]))] + [
        Asked(text, "answerable", True, _golds(row)) for row, text in later
    ]


def squad_by_article(shared: Path, groups: dict[str, list[Group]]) -> tuple[list[Conversation], dict[str, Index]]:
    """Each article a story of its own; two groups of it a conversation, with a question of another article (off the
    subject) after the first group's first question, so that its follow-ups come back to the subject."""
    folder = shared / "benchmarks/squad-dev-public"
    indexes = {article: Index.build(load_corpus(folder / "corpus" / f"{article}.txt")) for article in groups}
    offtopic = _round_robin({article: [g[0] for g in article_groups] for article, article_groups in groups.items()})
    conversations = []
    for article, article_groups in groups.items():
        for pair in zip(article_groups[::2], article_groups[1::2], strict=False):
            first, second = _turns(pair[0]), _turns(pair[1])
            if first:
                other = next(row for row in offtopic if row["article"] != article)
                first.insert(1, Asked(str(other["question"]), "offtopic", False, []))
            if first or second:
                conversations.append(Conversation(article, first + second))
    return conversations, indexes


def squad_together(shared: Path, groups: dict[str, list[Group]]) -> tuple[list[Conversation], dict[str, Index]]:
    """All the articles one story, where a follow-up that lost its subject may be read about any of them; two groups of
    different articles a conversation (a change of subject between them)."""
    index = Index.build(load_corpus(shared / "benchmarks/squad-dev-public/corpus"))
    interleaved = [g for column in itertools.zip_longest(*groups.values()) for g in column if g is not None]
    conversations = []
    for pair in zip(interleaved[::2], interleaved[1::2], strict=False):
        turns = _turns(pair[0]) + _turns(pair[1])
        if turns:
            conversations.append(Conversation("all", turns))
    return conversations, {"all": index}


def _golds(row: dict[str, object]) -> list[str]:
    golds = row["answers"]
    assert isinstance(golds, list)
    return [str(gold) for gold in golds]


def _round_robin(by_article: dict[str, list[dict[str, object]]]) -> Iterator[dict[str, object]]:
    position = 0
    while True:
        for rows in by_article.values():
            yield rows[(position * 7) % len(rows)]
        position += 1


# -- fitting ------------------------------------------------------------------------------------------------------

SWEEP: dict[str, list[float]] = {
    "context_weight": [0.1, 0.25, 0.5, 1.0],
    "subject_words": [1, 2, 3, 4, 6],
    "subject_words_beside_own": [1, 2, 3, 6],
    "own_words": [0, 1, 2],
    "quote_words": [0, 4, 8, 12],
    "passage_weight": [0.0, 0.25, 0.5, 1.0],
    "foreign_names": [0, 1],
}


def main() -> None:
    with mock.patch.object(retrieval.followup, "answer", COUNTED):
        measure()


def measure() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--sweep", action="store_true", help="each rule and weight of Reading in turn, on every set")
    parser.add_argument("--show", action="store_true", help="every dev turn as it was understood")
    args = parser.parse_args()
    groups = squad_groups(args.shared)
    sets = {
        "dev": dev_set(args.shared),
        "SQuAD, an article a story": squad_by_article(args.shared, groups),
        "SQuAD, all articles one story": squad_together(args.shared, groups),
    }
    for name, (conversations, _) in sets.items():
        turns = [t for c in conversations for t in c.turns]
        print(
            f"{name}: {len(conversations)} conversations, {len(turns)} turns, "
            f"{sum(t.context for t in turns)} follow-ups"
        )
    for conversations, indexes in sets.values():
        run(conversations, indexes, READING)  # warm every cache
    if args.sweep:
        for setting in (f.name for f in fields(Reading)):
            for value in SWEEP.get(setting, []):
                reading = replace(READING, **{setting: type(getattr(READING, setting))(value)})
                for name, (conversations, indexes) in sets.items():
                    print(run(conversations, indexes, reading).line(f"{setting}={value}, {name}"))
        return
    tallies = {
        name: run(conversations, indexes, READING, show=args.show and name == "dev", rounds=ROUNDS)
        for name, (conversations, indexes) in sets.items()
    }
    for miss in tallies["dev"].misses:
        print(f"dev miss: {miss}")
    for name, tally in tallies.items():
        print(tally.line(name))
    both = [ms for tally in tallies.values() for ms in tally.followup_ms]
    alone = [ms for tally in tallies.values() for ms in tally.alone_ms]
    searched = [flag for tally in tallies.values() for flag in tally.alone_searched]
    ratios = [f / a for f, a in zip(both, alone, strict=True)]
    fair = [r for r, s in zip(ratios, searched, strict=True) if s]
    made_explicit = [ms for tally in tallies.values() for ms in tally.explicit_ms]
    explicit = [f / e for f, e in zip(both, made_explicit, strict=True)]
    calls = sorted({c for tally in tallies.values() for c in tally.followup_calls})
    print(
        f"cost: {len(both)} turns read in context, answer() calls each: {' or '.join(map(str, calls))} "
        f"({statistics.median(both):.2f} ms median); "
        f"the same questions alone {statistics.median(alone):.2f} ms median. In context / alone, turn by turn: "
        f"median {statistics.median(ratios):.2f}x, 90th percentile {_tenth(ratios):.2f}x; leaving out the "
        f'{len(ratios) - len(fair)} that alone found nothing and declined at once (a bare "why?", or words it lacks): '
        f"median {statistics.median(fair):.2f}x, 90th percentile {_tenth(fair):.2f}x, most {max(fair):.2f}x. "
        f"Against the question made explicit (what the follow-up is read as) asked alone: median "
        f"{statistics.median(explicit):.2f}x, 90th percentile {_tenth(explicit):.2f}x, most {max(explicit):.2f}x"
    )


def _tenth(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    main()
