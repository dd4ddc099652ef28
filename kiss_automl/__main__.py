"""`python -m kiss_automl` is the `kiss-automl` command."""

import sys

from .cli import main

sys.exit(main())
