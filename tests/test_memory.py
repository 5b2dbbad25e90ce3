"""The conversations' memory: a handful of turns each, forgotten after quiet or on /new, bounded in all."""

import pytest

from bot.memory import MAX_TURNS, QUIET_SECONDS, Memory
from bot.story import Story
from retrieval import Turn, answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def turn(story: Story) -> Turn:
    return Turn.of("Who is Sergei Shoigu?", answer(story.index, "Who is Sergei Shoigu?"))


def test_a_conversation_keeps_its_last_few_turns(turn: Turn) -> None:
    memory = Memory(clock=Clock())
    memory.remember("a", (turn,) * (MAX_TURNS + 3))
    assert len(memory.recall("a")) == MAX_TURNS
    assert memory.recall("b") == ()


def test_quiet_forgets_and_use_keeps(turn: Turn) -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    memory.remember("a", (turn,))
    clock.now += QUIET_SECONDS - 1
    assert memory.recall("a") and memory.recall("a")[0].question == turn.question
    memory.remember("a", (turn, turn))  # asked again: the half hour starts over
    clock.now += QUIET_SECONDS - 1
    assert len(memory.recall("a")) == 2
    clock.now += 2
    assert memory.recall("a") == ()


def test_forget_is_for_one_conversation_only(turn: Turn) -> None:
    memory = Memory(clock=Clock())
    memory.remember(("private", 1), (turn,))
    memory.remember(("private", 2), (turn,))
    memory.forget(("private", 1))
    assert memory.recall(("private", 1)) == () and memory.recall(("private", 2))


def test_expired_conversations_are_dropped_as_others_are_used(turn: Turn) -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    for chat in range(1000):
        memory.remember(chat, (turn,))
    clock.now += QUIET_SECONDS + 1
    for chat in range(1000, 1600):  # each use drops a couple of the expired ones
        memory.remember(chat, (turn,))
    assert len(memory) == 600


def test_capacity_drops_the_least_recently_used(turn: Turn) -> None:
    memory = Memory(capacity=3, clock=Clock())
    for chat in "abcd":
        memory.remember(chat, (turn,))
    memory.recall("b")  # reading is not using: "b" stays oldest after "a" is gone
    assert len(memory) == 3 and memory.recall("a") == () and memory.recall("d")


def test_chats_share_quotes_not_turns(story: Story, turn: Turn) -> None:
    memory = Memory(clock=Clock())
    again = Turn.of(turn.question, answer(story.index, turn.question))
    assert again.quote is not turn.quote  # asked twice, answered twice
    memory.remember(1, (turn,))
    memory.remember(2, (again,))
    first, second = memory.recall(1)[0], memory.recall(2)[0]
    assert first.quote is not None and first.quote is second.quote
