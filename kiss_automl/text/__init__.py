"""Free-text columns: telling them apart (detect), turning them into features (features), and
the optional pre-trained sentence encoder (encoder, with the `text` extra)."""

from __future__ import annotations

from typing import Any, Mapping

#: The candidate parameter that says how a candidate saw the text columns.
TEXT_PARAM = "text"
TFIDF = "tfidf"
NO_TEXT = "none"
EMBED_PREFIX = "embed:"


def split_params(params: Mapping[str, Any]) -> tuple[dict, str | None]:
    """(the model's own parameters, the text view or None): the view is not the model's."""
    model = {k: v for k, v in params.items() if k != TEXT_PARAM}
    return model, params.get(TEXT_PARAM)


def text_features_in(model) -> list:
    """Every TextFeatures inside a fitted model (pipelines, WithText, a blend's members)."""
    import sys

    features = sys.modules.get(f"{__name__}.features")
    if features is None:  # a loaded model with text imported it: no import for models without
        return []
    from sklearn.base import BaseEstimator

    TextFeatures = features.TextFeatures

    found, stack, seen = [], [model], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, TextFeatures):
            found.append(obj)
            continue
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, BaseEstimator):
            stack.extend(v for v in vars(obj).values() if isinstance(v, (BaseEstimator, list, tuple)))
    return found


def attach_encoders(model, override: str | None = None, device: str = "cpu") -> None:
    """Load the sentence encoder each embed view of a loaded model was fitted with (refusing
    other weights: encoder.load_matching); the encoder is never saved with the model."""
    for features in text_features_in(model):
        spec = getattr(features, "encoder_spec_", None)
        if spec is not None and features.encoder is None:
            from . import encoder

            features.encoder = encoder.load_matching(spec, override, device)
