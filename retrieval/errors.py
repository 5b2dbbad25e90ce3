"""One error tree: whatever a user can cause or fix is a StoryBotError, whose message is the one line they see."""


class StoryBotError(Exception):
    """Caught once, by the command line, which prints the message and exits with `exit_status`."""

    exit_status = 2  # misconfigured: a bad setting, corpus or command line


class CorpusError(StoryBotError):
    """No usable corpus: a missing path, or no document in it that can be read."""


class CacheError(StoryBotError):
    """A kept index that cannot be used; never seen by a user, who gets a warning and a rebuild instead."""


class ModelError(StoryBotError):
    """The meaning model cannot be loaded from its package."""


class EvaluationError(StoryBotError):
    """A question file that cannot be read."""
