"""What each conversation is about: its last few turns, in memory only, forgotten after half an hour of quiet.

One store for every channel (a Telegram chat or reply chain, the console, `ask --chat`), keyed by the
channel: python-telegram-bot's chat_data would serve Telegram alone, and it never forgets a chat.
Every operation is O(1) (amortized): the conversations are kept in the order they were last used, so
the expired ones are always at the front, where each use drops them; past `capacity` the least
recently used go first. So memory follows the conversations of the last half hour.
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from weakref import WeakValueDictionary

from retrieval import Quote, Turn

MAX_TURNS = 3  # what a follow-up can lean on: a handful of turns
QUIET_SECONDS = 30 * 60
CAPACITY = 200_000  # conversations; past it the least recently used is dropped


class Memory:
    def __init__(
        self, quiet: float = QUIET_SECONDS, capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quiet = quiet
        self.capacity = capacity
        self.clock = clock
        self._turns: OrderedDict[Hashable, tuple[float, tuple[Turn, ...]]] = OrderedDict()
        # Chats about one story quote the same sentences: each quote is kept once, however many recall it.
        self._quotes: WeakValueDictionary[tuple[str, int, str], Quote] = WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._turns)

    def recall(self, key: Hashable) -> tuple[Turn, ...]:
        """The conversation's turns, oldest first; none when it is new, forgotten or quiet too long."""
        now = self.clock()
        self._drop_expired(now)
        kept = self._turns.get(key)
        if kept is None or kept[0] <= now - self.quiet:
            return ()
        return kept[1]

    def remember(self, key: Hashable, turns: tuple[Turn, ...]) -> None:
        now = self.clock()
        self._turns[key] = (now, tuple(self._compact(turn) for turn in turns[-MAX_TURNS:]))
        self._turns.move_to_end(key)
        self._drop_expired(now)
        while len(self._turns) > self.capacity:
            self._turns.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._turns.pop(key, None)

    def _drop_expired(self, now: float) -> None:
        """Every expired conversation: they are at the front, and each is dropped once (O(1) amortized)."""
        while self._turns:
            key, (last_used, _) = next(iter(self._turns.items()))
            if last_used > now - self.quiet:
                return
            del self._turns[key]

    def _compact(self, turn: Turn) -> Turn:
        """The turn with its quote shared with every other conversation that quoted it."""
        quote = turn.quote
        if quote is None:
            return turn
        shared = self._quotes.setdefault((quote.doc_id, quote.paragraph, quote.text), quote)
        return turn if shared is quote else Turn(turn.question, turn.outcome, shared)
