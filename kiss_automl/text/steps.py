"""The text steps' rules, as pure functions the search calls: simple first, each paying its way.

1. TF-IDF: every candidate sees the text as TF-IDF from the start. The cheapest family that
   takes text also runs its first start without it; when the text does not beat that by
   more than the noise tolerance, the rest of the search leaves the text out (and saves
   vectorizing it).
2. Sentence embeddings (the text extra): after the TF-IDF search stops, and only when the
   text paid, the best configurations are tried on embeddings, if the embedding's estimated
   energy is within one doubling of what the search spent (the plateau rule's unit: it asks
   a doubling of energy for a gain) and within the budgets. When they beat the best by more
   than the noise tolerance, tuning goes on with embeddings, under the plateau rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Configurations tried on embeddings: the best distinct ones of the TF-IDF search.
EMBED_TRIES = 2


@dataclass
class TextRecord:
    """What the search decided about text, for run.json, the notes and the report."""

    columns: list[str]
    view: str = "tfidf"  # what the selected-to-be candidates saw last
    pays: bool | None = None
    with_text: float | None = None  # the score of the first start with and without the text
    without_text: float | None = None
    tolerance: float | None = None
    embeddings: str = "not tried"  # why not, or what they did
    embedding_estimate_j: float | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"columns": self.columns, "view": self.view, "pays": self.pays, "with_text": self.with_text,
                "without_text": self.without_text, "tolerance": self.tolerance, "embeddings": self.embeddings,
                "embedding_estimate_j": self.embedding_estimate_j}


def text_pays(with_text: float, without_text: float, tolerance: float) -> bool:
    """Whether the text raised the (higher-is-better) score by more than the tolerance."""
    if not math.isfinite(with_text):
        return False
    return not math.isfinite(without_text) or with_text > without_text + tolerance


def embeddings_refused(mode: str, pays: bool | None, estimate_j: float, spent_j: float) -> str | None:
    """Why embeddings are not tried (None: try them). `mode` is the text_embeddings setting."""
    if mode == "never":
        return "not tried: text_embeddings is never"
    if mode == "always":
        return None
    if not pays:
        return "not tried: the text did not pay on TF-IDF"
    if estimate_j > 2 * max(spent_j, 0.0):
        return (f"not tried: their estimated {estimate_j:.3g} J is more than a doubling of the "
                f"{spent_j:.3g} J the search spent (text_embeddings: always tries them)")
    return None
