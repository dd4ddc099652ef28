"""The project's exceptions: one base, so callers (the CLI) can catch ours and nothing else."""


class KissError(Exception):
    """Base class of every error kiss-automl raises on purpose."""


class DataError(KissError, ValueError):
    """The input data cannot be used: missing file, bad CSV, no such column, one class..."""


class ConfigError(KissError, ValueError):
    """An option or configuration value is invalid."""


class ModelFormatError(KissError):
    """A saved model folder is missing, untrusted, or from an incompatible version."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """`Type: message`, first line only and at most `limit` characters: for a leaderboard cell."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:limit]
