"""`kiss-automl report` and `kiss_automl.report`: both formats, a fitted estimator, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import kiss_automl
from kiss_automl import KissClassifier
from kiss_automl.cli import main
from kiss_automl.reporting.words import gain_phrase

from ..conftest import TINY

SECTIONS = ("summary", "front", "search", "energy", "leaderboard", "carbon-statement", "regions", "notes")


def _html(fit_dir, tmp_path, capsys) -> str:
    out = tmp_path / "report.html"
    assert main(["report", str(fit_dir), "--output", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    return out.read_text(encoding="utf-8")


def test_html_is_one_self_contained_page_with_every_section(fit_dir, tmp_path, capsys):
    page = _html(fit_dir, tmp_path, capsys)
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert page.count("<svg") == 3  # front, search curve, energy: inline
    # Nothing to fetch: no script, no external stylesheet, image or font.
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"url\((?!#)", page)  # an SVG's clip paths refer to the page itself: url(#id)
    assert not re.search(r'(src|href)="(?!#)', page)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left beside it
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) > 50 and len(ids) == len(set(ids))  # the plots' own ids too: valid HTML, one target each
    assert all(ref in ids for ref in re.findall(r'(?:url\(#|href="#)([^")]+)', page))


def test_html_leaderboard_has_a_row_per_candidate(fit_dir, tmp_path, capsys):
    page = _html(fit_dir, tmp_path, capsys)
    table = page[page.index('<table id="leaderboard-table"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr") - 1 == len(pd.read_csv(fit_dir / "leaderboard.csv"))


def test_summary_says_why_the_search_stopped_with_its_figures(fit_dir, tmp_path, capsys):
    run = json.loads((fit_dir / "run.json").read_text())
    assert run["stop_reason"] == "plateau"
    gain = run["stop_detail"]["doublings"][0]["gain"]
    page = _html(fit_dir, tmp_path, capsys)
    assert "Stopped at a plateau: the last doubling of energy" in page
    assert f"improved the best accuracy by {gain_phrase(gain)}, less than the tolerance" in page


def test_markdown_has_the_same_sections_and_its_plots_beside_it(fit_dir, tmp_path, capsys):
    out = tmp_path / "report.md"
    assert main(["report", str(fit_dir), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for title in ("## Summary", "## Score against energy", "## The search", "## Where the energy went",
                  "## The leaderboard", "## Carbon statement", "## The same fit elsewhere", "## Notes"):
        assert title in text
    figures = sorted(p.name for p in (tmp_path / "report_files").iterdir())
    assert figures == ["energy.svg", "score_vs_energy.svg", "search_curve.svg"]
    for name in figures:
        assert f"(report_files/{name})" in text
        assert (tmp_path / "report_files" / name).read_text().startswith("<svg")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.count("|") > 12]
    assert len(rows) - 1 == len(pd.read_csv(fit_dir / "leaderboard.csv"))  # header + one per candidate
    assert "```latex" in text


def test_format_option_overrides_the_extension(fit_dir, tmp_path):
    out = tmp_path / "report.txt"
    assert main(["report", str(fit_dir), "--output", str(out), "--format", "md"]) == 0
    assert out.read_text().startswith("# kiss-automl report")


def test_a_failed_candidate_is_listed_not_plotted(fit_with_failure, tmp_path, capsys):
    page = _html(fit_with_failure, tmp_path, capsys)
    front = page[page.index('<section id="front">'):page.index('<section id="search">')]
    assert "Not plotted" in front and "MemoryError: out of memory" in front
    board = page[page.index('<table id="leaderboard-table"'):]
    assert '<tr class=failed>' in board[:board.index("</table>")]


def test_python_report_of_a_folder_and_of_a_fitted_estimator(fit_dir, credit, tmp_path):
    assert kiss_automl.report(fit_dir, tmp_path / "a.html") == tmp_path / "a.html"
    X, y = credit
    clf = KissClassifier(config=TINY, random_state=0).fit(X, y)
    written = kiss_automl.report(clf, tmp_path / "b.html")
    page = written.read_text(encoding="utf-8")
    assert f"{len(X):,} rows × {X.shape[1]} columns" in page
    table = page[page.index('<table id="leaderboard-table"'):]
    assert table[:table.index("</table>")].count("<tr") - 1 == len(clf.leaderboard_)


def test_an_interrupted_fit_is_reported(credit, tmp_path):
    X, y = credit
    seen = []

    def stop_after_three(name, **info):
        if name == "candidate":
            seen.append(info)
            if len(seen) == 3:
                raise KeyboardInterrupt

    clf = KissClassifier(config={**TINY, "max_trials": 10}, random_state=0).fit(X, y, on_event=stop_after_three)
    assert clf.stop_reason_ == "interrupted"
    page = kiss_automl.report(clf, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "interrupted (Ctrl-C or SIGTERM)" in page


def test_an_unfitted_estimator_is_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        kiss_automl.report(KissClassifier(), tmp_path / "r.html")


# ---- bad input: one line on stderr, exit 2, nothing written, an earlier report untouched ----------------
def _damage_run(folder):
    (folder / "run.json").write_text("{not json")


def _drop_run(folder):
    (folder / "run.json").unlink()


def _damage_board(folder):
    (folder / "leaderboard.csv").write_text("rank,family\n1,linear\n")


def _older_format(folder):
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**meta, "format_version": 0, "kiss_automl_version": "0.0.1"}))


def _run_without_keys(folder):
    run = json.loads((folder / "run.json").read_text())
    del run["stop_reason"], run["energy"]
    (folder / "run.json").write_text(json.dumps({**run, "kiss_automl_version": "0.0.9"}))


def _edit_run(**changes):
    """A run.json edited by hand: `changes` maps a dotted key to its new value."""
    def edit(folder):
        run = json.loads((folder / "run.json").read_text())
        for dotted, value in changes.items():
            *path, last = dotted.split(".")
            target = run
            for key in path:
                target = target[key]
            target[last] = value
        (folder / "run.json").write_text(json.dumps(run))
    return edit


def _board_header_only(folder):
    lines = (folder / "leaderboard.csv").read_text().splitlines()
    (folder / "leaderboard.csv").write_text(lines[0] + "\n")


def _board_trial_text(folder):
    board = pd.read_csv(folder / "leaderboard.csv")
    board["trial"] = board["trial"].astype(object)
    board.loc[0, "trial"] = "first"
    board.to_csv(folder / "leaderboard.csv", index=False)


@pytest.mark.parametrize("damage, message", [
    (_damage_run, "run.json is damaged"),
    (_drop_run, "is not a kiss-automl output folder"),
    (_damage_board, "leaderboard.csv is damaged: no column(s) trial, rung"),
    (_older_format, "written in model format 0 by kiss-automl 0.0.1"),
    (_run_without_keys, "lacks stop_reason, energy: it is damaged, or was written by kiss-automl 0.0.9"),
    (_board_header_only, "leaderboard.csv is damaged: it lists no candidate"),
    (_board_trial_text, "leaderboard.csv is damaged: trial must be numbers on every row"),
    (_edit_run(**{"carbon_intensity.g_per_kwh": None}), "lacks carbon_intensity.g_per_kwh"),
    (_edit_run(**{"energy": {}}), "lacks energy.candidates_j"),
    (_edit_run(**{"stop_detail.doublings": [{"from_j": 1}]}), "holds a value the report cannot read (KeyError"),
    (_edit_run(hardware="x", config=None), "holds a value the report cannot read"),
])
def test_a_damaged_or_foreign_folder_gets_one_line(fit_copy, tmp_path, capsys, damage, message):
    damage(fit_copy)
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(fit_copy), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["report", "no/such/folder", "--output", "r.html"], "no/such/folder does not exist"),
    (["report", "{fit}", "--output", "r.pdf"], "Cannot tell the report format from 'r.pdf'"),
    (["report", "{fit}", "--output", "r.html", "--format", "pdf"], "invalid choice: 'pdf'"),
])
def test_bad_arguments_get_one_line(fit_dir, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main([a.replace("{fit}", str(fit_dir)) for a in args])
    except SystemExit as exit:  # argparse's errors leave through SystemExit, with the code
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_leaves_the_old_report(fit_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("the old report")
    write_text = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name.startswith(".report.html.tmp"):
            write_text(self, "half a page")
            raise OSError(28, "No space left on device")
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    assert main(["report", str(fit_dir), "--output", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_an_output_that_is_a_folder_is_refused(fit_dir, tmp_path, capsys):
    assert main(["report", str(fit_dir), "--output", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_markdown_rewrite_replaces_the_old_plots(fit_dir, tmp_path):
    out = tmp_path / "r.md"
    (tmp_path / "r_files").mkdir()
    (tmp_path / "r_files" / "stale.svg").write_text("<svg/>")
    assert main(["report", str(fit_dir), "--output", str(out)]) == 0
    assert "stale.svg" not in {p.name for p in (tmp_path / "r_files").iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md", "r_files"]


def test_a_full_disk_while_writing_plots_leaves_the_old_markdown_report(fit_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r.md"
    assert main(["report", str(fit_dir), "--output", str(out)]) == 0
    before = {p.name: p.read_text() for p in [out, *(tmp_path / "r_files").iterdir()]}
    write_text = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.suffix == ".svg":
            raise OSError(28, "No space left on device")
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    assert main(["report", str(fit_dir), "--output", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_text() for p in [out, *(tmp_path / "r_files").iterdir()]} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md", "r_files"]


def test_a_hand_edited_score_is_read_as_missing_not_a_crash(fit_copy, tmp_path):
    board = pd.read_csv(fit_copy / "leaderboard.csv")
    board["score"] = board["score"].astype(object)
    board.loc[len(board) - 1, "score"] = "notanumber"
    board.to_csv(fit_copy / "leaderboard.csv", index=False)
    assert main(["report", str(fit_copy), "--output", str(tmp_path / "r.html")]) == 0
