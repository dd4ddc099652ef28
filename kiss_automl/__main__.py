"""`python -m kiss_automl` is the `kiss-automl` command."""

from .cli import run

run()
