"""Free-text columns: detection, typing settings, the text features, and fits that use them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiss_automl import KissClassifier
from kiss_automl.columns import MAX_TEXT_CHARS, ColumnTyper
from kiss_automl.errors import DataError
from kiss_automl.text import TEXT_PARAM, split_params, text_features_in
from kiss_automl.text.detect import looks_like_text
from kiss_automl.text.features import TOP_TERMS, TextFeatures, clear_cache, text_stats

ROOT = Path(__file__).resolve().parents[1]
FOODS = ROOT / "datasets" / "fine_foods_small.csv"
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def _sentences(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(4, 9))) for _ in range(n)]


def _foods(rows: int | None = None) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(FOODS)
    if rows:
        frame = frame.iloc[:rows]
    return frame.drop(columns=["score"]), frame["score"]


# ---- detection ---------------------------------------------------------------------------
def test_prose_is_text_and_codes_urls_emails_and_phrases_are_not():
    n = 300
    assert looks_like_text(pd.Series(_sentences(n)))
    assert not looks_like_text(pd.Series([f"B{i:09d}" for i in range(n)]))  # codes: one token
    assert not looks_like_text(pd.Series([f"https://example.org/item/{i}" for i in range(n)]))
    assert not looks_like_text(pd.Series([f"user{i}@example.org" for i in range(n)]))
    # Wordy but repeated: a handful of phrases is a categorical.
    phrases = ["UNKNOWN BIRD - MEDIUM", "MOURNING DOVE OF THE EAST", "RED TAILED HAWK NEAR RUNWAY"]
    assert not looks_like_text(pd.Series([phrases[i % 3] for i in range(n)]))
    assert not looks_like_text(pd.Series([None] * n, dtype=object))


def test_typer_reads_prose_as_text_where_it_used_to_drop_it_as_id_like():
    X = pd.DataFrame({"note": _sentences(200), "x": np.arange(200) % 7})
    typer = ColumnTyper().fit(X)
    assert typer.text_columns_ == ["note"] and "note" not in typer.dropped_
    assert any("free text" in n for n in typer.notes_)
    assert list(typer.get_feature_names_out()) == ["x", "note"]
    none = ColumnTyper(text_columns=[]).fit(X)
    assert none.text_columns_ == [] and "ID-like" in none.dropped_["note"]


def test_missing_text_is_the_empty_string_at_fit_and_at_predict():
    X = pd.DataFrame({"note": _sentences(100), "x": np.arange(100) % 5})
    X.loc[3, "note"] = None
    typer = ColumnTyper(text_columns=["note"])
    typed = typer.fit_transform(X)
    assert typed.loc[3, "note"] == ""
    later = typer.transform(pd.DataFrame({"note": [None, "new words here"], "x": [1, 2]}))
    assert list(later["note"]) == ["", "new words here"]


def test_forced_text_column_errors_are_one_clear_line():
    X = pd.DataFrame({"note": _sentences(60), "x": np.arange(60.0)})
    with pytest.raises(DataError, match="'nope' not in the data"):
        ColumnTyper(text_columns=["nope"]).fit(X)
    with pytest.raises(DataError, match="holds numbers, not text"):
        ColumnTyper(text_columns=["x"]).fit(X)


def test_all_missing_or_empty_text_is_dropped_with_a_note():
    X = pd.DataFrame({"note": [""] * 30 + [None] * 30, "x": np.arange(60) % 4})
    typer = ColumnTyper(text_columns=["note"]).fit(X)
    assert typer.text_columns_ == [] and "empty or missing" in typer.dropped_["note"]


def test_very_long_text_is_cut_with_a_note():
    texts = _sentences(80)
    texts[0] = "word " * (MAX_TEXT_CHARS // 2)
    X = pd.DataFrame({"note": texts, "x": np.arange(80) % 3})
    typer = ColumnTyper()
    typed = typer.fit_transform(X)
    assert len(typed.loc[0, "note"]) == MAX_TEXT_CHARS
    assert any("cut to that length" in n for n in typer.notes_)


# ---- features ----------------------------------------------------------------------------
def test_score_output_is_out_of_fold_and_sparse_output_is_the_tfidf():
    clear_cache()
    X, y = _foods(300)
    texts = X[["review"]]
    target = (y == "great").to_numpy().astype(int)
    score = TextFeatures(["review"], output="score", task="binary")
    oof = score.fit_transform(texts, target)
    top = len(score.top_terms_["review"])
    assert 0 < top <= TOP_TERMS and oof.shape == (300, 1 + top + 5)
    in_sample = score.transform(texts)
    # A model scored on its own training rows is surer than out of fold: the features differ.
    assert np.abs(in_sample[:, 0] - 0.5).mean() > np.abs(oof[:, 0] - 0.5).mean()
    sparse = TextFeatures(["review"], output="sparse", task="binary").fit_transform(texts, target)
    assert sparse.shape[0] == 300 and sparse.shape[1] > 100 and hasattr(sparse, "tocsr")


def test_text_features_are_computed_once_per_set_of_rows(monkeypatch):
    from kiss_automl.text import features

    clear_cache()
    X, y = _foods(200)
    target = (y == "great").to_numpy().astype(int)
    calls = []
    real = features._fit_tfidf
    monkeypatch.setattr(features, "_fit_tfidf", lambda texts: calls.append(1) or real(texts))
    first = TextFeatures(["review"], output="score").fit_transform(X[["review"]], target)
    again = TextFeatures(["review"], output="sparse").fit_transform(X[["review"]], target)
    assert len(calls) == 1  # the second candidate on the same rows reuses the vectorizer
    TextFeatures(["review"], output="score").fit_transform(X[["review"]].iloc[:150], target[:150])
    assert len(calls) == 2  # other rows: fitted again
    assert first.shape[0] == again.shape[0] == 200


def test_text_stats_count_length_words_digits_links_and_capitals():
    stats = text_stats(pd.Series(["Buy NOW at https://x.org 42", ""]))
    assert stats.shape == (2, 5)
    assert stats[0, 3] > 0 and stats[0, 2] > 0 and stats[0, 4] > 0
    assert np.all(stats[1] == 0)


def test_split_params_keeps_the_view_out_of_the_model():
    model, view = split_params({"C": 1.0, TEXT_PARAM: "tfidf"})
    assert model == {"C": 1.0} and view == "tfidf"


# ---- fits --------------------------------------------------------------------------------
def test_a_fit_uses_the_text_and_says_how(tmp_path):
    X, y = _foods()
    with_text = KissClassifier(max_trials=8, random_state=0, config={"text_embeddings": "never"}).fit(X, y)
    board = with_text.leaderboard_
    views = {json.loads(p).get(TEXT_PARAM) for p in board["params"] if "members" not in json.loads(p)}
    assert "tfidf" in views
    text = with_text.search_summary_["text"]
    assert text["columns"] == ["review"] and text["pays"] is True
    assert text["with_text"] > text["without_text"]
    assert with_text.best_score_ > text["without_text"]  # the baseline: the text is the only signal
    proba = with_text.predict_proba(X.iloc[:20])
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)


def test_no_text_gives_the_leaderboard_of_before_on_a_table_without_text():
    """No table of the tabular suite has free text: its leaderboards must not change (the
    22 datasets are checked by benchmarks/text_check.py; here, the bundled ones)."""
    X = pd.read_csv(ROOT / "datasets" / "credit-approval.csv")
    y = X.pop("class")
    auto = KissClassifier(max_trials=6, random_state=0).fit(X, y)
    none = KissClassifier(max_trials=6, random_state=0, text_columns=[]).fit(X, y)
    assert "text" not in auto.search_summary_
    assert list(auto.leaderboard_["params"]) == list(none.leaderboard_["params"])
    assert list(auto.leaderboard_["score"]) == list(none.leaderboard_["score"])
    assert all(TEXT_PARAM not in json.loads(p) for p in auto.leaderboard_["params"])


def test_text_that_does_not_pay_is_left_out(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x, "note": _sentences(n, seed=1)})  # words unrelated to the target
    y = np.where(x > 0, "yes", "no")
    model = KissClassifier(max_trials=7, random_state=0).fit(X, y)
    text = model.search_summary_["text"]
    assert text["pays"] is False and text["view"] == "none"
    board = model.leaderboard_.sort_values("trial")
    views = [json.loads(p).get(TEXT_PARAM) for p in board["params"]]
    families = list(board["family"])
    # The judge is the first tree family: its start with the text, then the same without it.
    twin = next(i for i, (v, f) in enumerate(zip(views, families)) if v == "none" and f != "baseline")
    assert families[twin] == "random_forest" and views[twin - 1] == "tfidf" and families[twin - 1] == "random_forest"
    later = [v for v, f in zip(views[twin + 1:], families[twin + 1:]) if f != "ensemble"]
    assert later and all(v == "none" for v in later)
    assert any("left out" in n for n in model.notes_)


def test_cli_fit_and_predict_with_text_and_no_text(tmp_path):
    out = tmp_path / "fit"
    cmd = [sys.executable, "-m", "kiss_automl", "fit", str(FOODS), "--target", "score", "--out", str(out),
           "--max-trials", "6", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["text"]["columns"] == ["review"]
    assert any("free text" in n for n in run["notes"])
    rows = pd.read_csv(FOODS).drop(columns=["score"]).iloc[:10]
    rows.loc[2, "review"] = None
    rows.to_csv(tmp_path / "new.csv", index=False)
    predicted = subprocess.run([sys.executable, "-m", "kiss_automl", "predict", str(out), str(tmp_path / "new.csv"),
                                "--output", str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 10
    # --no-text: the review is dropped as before, and nothing else is left.
    refused = subprocess.run(cmd[:-5] + ["--out", str(tmp_path / "nt"), "--no-text", "--quiet"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "ID-like" in refused.stderr and "Traceback" not in refused.stderr
    missing = subprocess.run(cmd[:-5] + ["--out", str(tmp_path / "m"), "--text", "comments", "--quiet"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "'comments' not in the data" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_text_features_survive_the_model_file(tmp_path):
    from kiss_automl import persist

    X, y = _foods()
    model = KissClassifier(max_trials=5, random_state=0, config={"text_embeddings": "never"}).fit(X, y)
    out = tmp_path / "m"
    cmd = [sys.executable, "-m", "kiss_automl", "fit", str(FOODS), "--target", "score", "--out", str(out),
           "--max-trials", "5", "--quiet"]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    loaded, _ = persist.load(out)  # refuses untrusted types: every saved type is on the list
    assert text_features_in(loaded)
    np.testing.assert_allclose(loaded.predict_proba(X.iloc[:30]), model.model_.predict_proba(X.iloc[:30]),
                               rtol=1e-5)
    # The vocabulary is saved as one string: the folder stays small.
    assert (out / "model.skops").stat().st_size < 5_000_000


def test_estimate_names_the_free_text_and_what_it_adds():
    cmd = [sys.executable, "-m", "kiss_automl", "estimate", str(FOODS), "--target", "score"]
    said = subprocess.run(cmd, capture_output=True, text=True)
    assert said.returncode == 0, said.stderr
    assert "Free text in 'review'" in said.stdout and "TF-IDF step adds about" in said.stdout
    quiet = subprocess.run(cmd + ["--no-text"], capture_output=True, text=True)
    assert quiet.returncode == 0 and "Free text" not in quiet.stdout
