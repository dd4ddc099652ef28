"""The search journal: one JSON line per finished candidate, so a stopped search resumes.

Replaying works because the search is deterministic given its history: the same seed and the
same recorded scores and joules make optuna and the family choice propose the same
candidates again, which the journal then answers without training anything.

Every line carries a seal: a digest of the search's key and of the line itself. A line
that is not valid JSON (a write torn by a crash or a full disk), was edited by hand, or
belongs to another search is skipped with a note, and its candidate is trained again.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import logging
import math
from collections import deque
from pathlib import Path

import numpy as np

from .errors import KissError
from .evaluation import Evaluation
from .persist import json_safe, write_atomically

logger = logging.getLogger(__name__)
FORMAT = 2  # 2: lines are sealed


class JournalError(KissError):
    """A journal cannot be resumed from, or cannot be written."""


@dataclasses.dataclass
class _Entry:
    """A journaled candidate: its line as written, and what it replays as."""

    line: str
    family: str
    rung: int
    search_params: dict
    evaluation: Evaluation


class Journal:
    """Records candidates in `path`; replays the candidates of an earlier run with the same key.

    `key` identifies the problem (data shape, target, task, seed, settings): a journal with
    another key is refused rather than replayed into the wrong search. With
    `keep_predictions` (set by the engine when the search will blend) the candidates'
    out-of-fold predictions are recorded too (float32, base64), so that the ensemble of a
    resumed search can still blend replayed candidates.

    The file holds the search's candidates in the order they were proposed: those taken so
    far, then those not yet replayed, which are kept until the search diverges from them,
    so a resume stopped again part-way loses nothing.
    """

    def __init__(self, path: str | Path, key: dict, resume_from: str | Path | None = None,
                 keep_predictions: bool = False):
        self.path = Path(path)
        self.key = key
        self.keep_predictions = keep_predictions
        self._key_text = json.dumps(key, sort_keys=True)
        self._header = json.dumps({"journal_format": FORMAT, "key": key}) + "\n"
        # Candidates a cluster kept in flight: the proposals depend on it, so a resume (here
        # or on another cluster) takes it from the header. Absent: one at a time.
        self.in_flight: int | None = None
        self.resuming = resume_from is not None
        self._done: list[str] = []  # lines of the candidates of this run, in order
        # Candidates to replay, in order; None stands for a damaged line (one candidate reruns).
        self.replay: deque[_Entry | None] = deque()
        self.replayed = 0
        if resume_from is not None:
            self._load(Path(resume_from))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._rewrite()

    # ---- reading --------------------------------------------------------------------------
    def _load(self, source: Path) -> None:
        if not source.is_file():
            raise JournalError(f"Nothing to resume: no journal at {source}")
        lines = source.read_bytes().split(b"\n")
        check_header(source, lines[0], self.key)
        in_flight = json.loads(lines[0].decode("utf-8")).get("in_flight")
        self.in_flight = in_flight if isinstance(in_flight, int) and in_flight > 0 else None
        damaged = []
        for number, raw in enumerate(lines[1:], start=2):
            if not raw.strip():
                continue
            entry = self._entry(raw)
            if entry is None:
                damaged.append(number)
            self.replay.append(entry)
        if damaged:
            logger.warning("Skipped %d damaged line(s) of the journal %s (line %s: cut short, edited or from "
                           "another search); their candidates will be trained again", len(damaged), source,
                           ", ".join(map(str, damaged[:10])) + (", ..." if len(damaged) > 10 else ""))

    def _entry(self, raw: bytes) -> _Entry | None:
        """The candidate of one line, or None when the line is damaged or not this search's."""
        try:
            record = json.loads(raw.decode("utf-8"))
            seal = record.pop("seal")
            if seal != self._seal(record):
                return None
            values = _evaluation_fields(record["evaluation"])
            values["oof"] = [_decode(fold) for fold in record.get("oof", [])]
            entry = _Entry(json.dumps({**record, "seal": seal}), record["family"], record["rung"],
                           record["search_params"], Evaluation(**values))
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError,
                binascii.Error):
            return None
        shaped = isinstance(entry.family, str) and isinstance(entry.rung, int) and isinstance(entry.search_params, dict)
        return entry if shaped else None

    def _seal(self, record: dict) -> str:
        text = self._key_text + "\n" + json.dumps(record, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    # ---- replaying ------------------------------------------------------------------------
    def take(self, family: str, rung: int, params: dict) -> Evaluation | None:
        """The recorded evaluation when the next journaled candidate is this one, else None."""
        ahead = next((i for i, entry in enumerate(self.replay) if entry is not None), None)
        if ahead is None:  # nothing left but damaged lines: the rest runs anew
            self.replay.clear()
            return None
        entry = self.replay[ahead]
        if (entry.family, entry.rung, entry.search_params) == (family, rung, json.loads(json.dumps(params))):
            for _ in range(ahead + 1):  # damaged lines before it held no candidate of this search
                self.replay.popleft()
            self._done.append(entry.line)
            self.replayed += 1
            return entry.evaluation
        if ahead > 0:  # the damaged line was most likely this candidate: it reruns in its place
            self.replay.popleft()
            return None
        logger.warning("The search diverged from its journal after %d candidates; the rest will rerun",
                       self.replayed)
        self.replay.clear()
        self._rewrite()
        return None

    def record_in_flight(self, window: int) -> None:
        """Write the search's window into the header (not part of the key: it is not checked)."""
        self.in_flight = window
        self._header = json.dumps({"journal_format": FORMAT, "key": self.key, "in_flight": window}) + "\n"
        self._rewrite()

    def discard_if_empty(self) -> None:
        """Remove the file when no candidate was recorded (a fit refused before it began)."""
        if not self._done and not self._pending() and self.path.is_file():
            self.path.unlink()

    # ---- writing --------------------------------------------------------------------------
    def append(self, candidate) -> None:
        """Record a finished candidate (flushed at once: a crash loses at most this line)."""
        if getattr(candidate, "replayed", False):
            return  # its line is in the file already
        record = {"family": candidate.family, "rung": candidate.rung, "phase": candidate.phase,
                  "search_params": candidate.search_params,
                  "evaluation": json_safe({f.name: getattr(candidate.evaluation, f.name)  # shallow: no model copy
                                           for f in dataclasses.fields(candidate.evaluation)
                                           if f.name not in ("oof", "model")})}
        if self.keep_predictions and candidate.evaluation.oof:
            record["oof"] = [_encode(fold) for fold in candidate.evaluation.oof]
        record = json.loads(json.dumps(record))  # as it reads back, so that its seal checks
        line = json.dumps({**record, "seal": self._seal(record)})
        self._done.append(line)
        if self._pending():  # a rerun before candidates still to replay: it goes in its place
            self._rewrite()
            return
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise self._write_error(exc) from None

    def _pending(self) -> list[str]:
        return [entry.line for entry in self.replay if entry is not None]

    def _rewrite(self) -> None:
        """The whole file, swapped in at once: a failure leaves the previous one whole."""
        text = self._header + "".join(line + "\n" for line in self._done + self._pending())
        try:
            write_atomically(self.path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> JournalError:
        try:
            kept = self.path.read_bytes().count(b"\n") - 1  # whole lines after the header
        except OSError:  # the folder itself is gone
            kept = 0
        hint = f"; the {kept} candidate(s) before are kept in it: make room and rerun with --resume" if kept > 0 else ""
        return JournalError(f"Cannot write the search journal {self.path} ({exc.strerror or exc}){hint}")


def check_header(source: Path, first_line: bytes, key: dict) -> None:
    """Refuse a journal whose first line is not the header of this search."""
    try:
        header = json.loads(first_line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or "journal_format" not in header:
        raise JournalError(f"The journal {source} is damaged (its first line is not a journal header); "
                           "run without --resume to start afresh")
    if header["journal_format"] != FORMAT:
        raise JournalError(f"The journal {source} is in format {header['journal_format']}, this kiss-automl reads "
                           f"format {FORMAT}; run without --resume to start afresh")
    if header.get("key") != key:
        raise JournalError(f"The journal {source} belongs to another search (other data, target, seed or "
                           "settings); run without --resume to start afresh")


def matches(source: Path, key: dict) -> bool:
    """Whether `source` is a journal of the search `key`."""
    try:
        with source.open("rb") as f:
            check_header(source, f.readline().rstrip(b"\n"), key)
    except (OSError, JournalError):
        return False
    return True


def _evaluation_fields(saved: dict) -> dict:
    """The Evaluation's fields from a journal line (JSON has no NaN: it wrote None)."""
    fields = {f.name for f in dataclasses.fields(Evaluation)} - {"oof", "model"}
    values = {k: v for k, v in saved.items() if k in fields}
    if values.get("chunk_std", 0.0) is None:
        values["chunk_std"] = math.nan
    values["scores"] = [math.nan if s is None else float(s) for s in values.get("scores", [])]
    return values


def _encode(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "float32": base64.b64encode(array.tobytes()).decode("ascii")}


def _decode(record: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(record["float32"], validate=True),
                         dtype=np.float32).reshape(record["shape"]).copy()
