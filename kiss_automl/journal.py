"""The search journal: one JSON line per finished candidate, so a stopped search resumes.

Replaying works because the search is deterministic given its history: the same seed and the
same recorded scores and joules make optuna and the family choice propose the same
candidates again, which the journal then answers without training anything.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
from collections import deque
from pathlib import Path

import numpy as np

from .errors import KissError
from .evaluation import Evaluation
from .persist import json_safe

logger = logging.getLogger(__name__)
FORMAT = 1


class Journal:
    """Appends candidates to `path`; replays the candidates of an earlier run with the same key.

    `key` identifies the problem (data shape, target, task, seed, settings): a journal with
    another key is refused rather than replayed into the wrong search. With
    `keep_predictions` (set by the engine when the search will blend) the candidates'
    out-of-fold predictions are recorded too (float32, base64), so that the ensemble of a
    resumed search can still blend replayed candidates.
    """

    def __init__(self, path: str | Path, key: dict, resume_from: str | Path | None = None,
                 keep_predictions: bool = False):
        self.path = Path(path)
        self.key = key
        self.keep_predictions = keep_predictions
        self.replay: deque[dict] = deque()
        self.replayed = 0
        if resume_from is not None:
            self._load(Path(resume_from))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Replayed candidates are written again as they are taken: the file always holds
        # exactly the search as it went, even if it diverges from the old journal.
        with self.path.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"journal_format": FORMAT, "key": key}) + "\n")

    def _load(self, source: Path) -> None:
        if not source.is_file():
            raise KissError(f"Nothing to resume: no journal at {source}")
        lines = source.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("journal_format") != FORMAT or header.get("key") != self.key:
            raise KissError(f"The journal {source} belongs to another search (other data, target, seed or "
                            "settings); run without --resume to start afresh")
        for line in lines[1:]:
            try:
                self.replay.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by a crash: the candidate reruns
                break

    def take(self, family: str, rung: int, params: dict) -> Evaluation | None:
        """The recorded evaluation when the next journaled candidate is this one, else None."""
        if not self.replay:
            return None
        head = self.replay[0]
        if (head["family"], head["rung"], head["search_params"]) != (family, rung, json.loads(json.dumps(params))):
            logger.warning("The search diverged from its journal after %d candidates; the rest will rerun",
                           self.replayed)
            self.replay.clear()
            return None
        self.replay.popleft()
        self.replayed += 1
        fields = {f.name for f in dataclasses.fields(Evaluation)}
        values = {k: (math.nan if v is None and k == "chunk_std" else v) for k, v in head["evaluation"].items()
                  if k in fields}
        values["oof"] = [_decode(fold) for fold in head.get("oof", [])]
        return Evaluation(**values)

    def discard_if_empty(self) -> None:
        """Remove the file when no candidate was recorded (a fit refused before it began)."""
        if self.path.is_file() and len(self.path.read_text(encoding="utf-8").splitlines()) <= 1:
            self.path.unlink()

    def append(self, candidate) -> None:
        """Record a finished candidate (flushed at once: a crash loses at most this line)."""
        record = {"family": candidate.family, "rung": candidate.rung, "phase": candidate.phase,
                  "search_params": candidate.search_params,
                  "evaluation": json_safe({k: v for k, v in dataclasses.asdict(candidate.evaluation).items()
                                           if k != "oof"})}
        if self.keep_predictions and candidate.evaluation.oof:
            record["oof"] = [_encode(fold) for fold in candidate.evaluation.oof]
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _encode(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "float32": base64.b64encode(array.tobytes()).decode("ascii")}


def _decode(record: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(record["float32"]), dtype=np.float32).reshape(record["shape"]).copy()
