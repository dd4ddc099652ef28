"""The project's exceptions: one base, so callers (the CLI) can catch ours and nothing else."""


# What str.splitlines() breaks at: a column name or label holding one must not break a message.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


class KissError(Exception):
    """Base class of every error kiss-automl raises on purpose.

    Its message is one line, whatever the user's data put in it (a column named "line\\nbreak"
    is shown escaped): the CLI prints it as one line and exits 2.
    """

    def __str__(self) -> str:
        return super().__str__().translate(_LINE_BREAKS)


class DataError(KissError, ValueError):
    """The input data cannot be used: missing file, bad CSV, no such column, one class..."""


class ConfigError(KissError, ValueError):
    """An option or configuration value is invalid."""


class ModelFormatError(KissError):
    """A saved model folder is missing, untrusted, or from an incompatible version."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """`Type: message`, first line only and at most `limit` characters: for a leaderboard cell."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:limit]
