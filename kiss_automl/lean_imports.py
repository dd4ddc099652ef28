"""Work that the `kiss-automl` command's own process skips at import and at exit.

Only in a process that is ours alone (`process.command_line`), never in a user's program.
Measured on a 750-row fit and its predict (benchmarks/SMALL_DATA_COST.md):

- SciPy (1.17) parses the numpydoc docstrings of ~600 of its functions at import, to append
  a note to each (`xp_capabilities`, `_axis_nan_policy`...), and every `import sklearn`
  imports scipy.stats: ~0.2-0.3 CPU-s in each of `fit` and `predict`. Here the functions
  keep their docstrings as written, without the notes.
- The imports make ~220,000 objects that the garbage collector tracks, all living until
  exit, and it walks them again and again as they are made, then once more at exit.
  Imported with it paused, then frozen out of its reach, they cost ~0.1-0.2 CPU-s less in
  each command. The end of the process is left to the OS the same way: `gc.freeze` at exit
  (atexit handlers still run, and files are closed by the code that opened them).
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Iterable


def import_with_gc_paused(modules: Iterable[str]) -> None:
    """Import `modules` with the cyclic garbage collector off, then freeze what they made:
    module-level objects are never garbage, so no later collection need walk them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def skip_scipy_docstring_parsing() -> bool:
    """Make scipy's FunctionDoc keep a docstring as written instead of parsing it. True when
    done; False when too late (scipy.stats already imported) or when this scipy has no such
    class, and then nothing is changed."""
    if "scipy.stats" in sys.modules:
        return False
    try:
        from scipy._lib import _docscrape
    except ImportError:
        return False
    parsing = getattr(_docscrape, "FunctionDoc", None)
    if not isinstance(parsing, type) or not isinstance(getattr(parsing, "sections", None), dict):
        return False
    if getattr(parsing, "keeps_docstring_as_written", False):
        return True

    class UnparsedFunctionDoc(parsing):
        """A FunctionDoc with every section empty and the docstring kept as written. Callers
        append to sections, then read `str(doc)` minus its first line (the signature)."""

        keeps_docstring_as_written = True

        def __init__(self, func, role="func", doc=None, config=None):
            self._f, self._role = func, role
            self._written = (getattr(func, "__doc__", None) if doc is None else doc) or ""
            self._parsed_data = {name: type(value)() if isinstance(value, (list, dict)) else value
                                 for name, value in self.sections.items()}

        def __str__(self):
            return "\n" + self._written

    _docscrape.FunctionDoc = UnparsedFunctionDoc
    return True
