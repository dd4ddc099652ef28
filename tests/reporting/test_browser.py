"""The HTML report opened in a real headless Chromium (Debian's package), driven by Playwright.

Without Chromium or Playwright these tests skip, unless KISS_AUTOML_REQUIRE_BROWSER=1 (CI
sets it, and installs both), where a missing browser fails them instead.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil

import pandas as pd
import pytest

from kiss_automl.cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _chromium() -> str | None:
    return os.environ.get("KISS_AUTOML_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)


def _unavailable(why: str):
    if os.environ.get("KISS_AUTOML_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KISS_AUTOML_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    executable = _chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set KISS_AUTOML_CHROMIUM)")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class OpenedReport:
    """A report page as Chromium loaded it, with what it logged and asked for."""

    def __init__(self, browser, path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1000, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))

        def record(route):
            self.requests.append(route.request.url)
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                route.abort()  # never let a report reach the network, even in a test

        self.page.route("**/*", record)
        self.page.goto(path.as_uri(), wait_until="load")


@pytest.fixture(scope="module")
def opened(browser, fit_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(fit_dir), "--output", str(out)]) == 0
    report = OpenedReport(browser, out)
    yield report
    report.page.close()


def test_the_page_loads_without_console_errors(opened):
    assert opened.page.title().startswith("kiss-automl report")
    assert opened.errors == []


def test_no_request_leaves_the_file(opened):
    assert opened.requests and all(url.startswith(("file:", "data:")) for url in opened.requests)


def test_every_plot_renders_and_is_not_blank(opened):
    from matplotlib.image import imread

    plots = opened.page.locator("figure.plot svg")
    assert plots.count() == 3
    for i in range(plots.count()):
        element = plots.nth(i)
        box = element.bounding_box()
        assert box["width"] > 400 and box["height"] > 150
        pixels = imread(io.BytesIO(element.screenshot()), format="png")[..., :3]
        ink = (pixels < 0.9).any(axis=-1).mean()  # share of pixels that are not near-white
        colours = len({tuple(p) for p in (pixels.reshape(-1, 3)[::7] * 255).astype(int)})
        assert ink > 0.01 and colours > 10, f"plot {i} looks blank: {ink:.3%} ink, {colours} colours"


def test_the_leaderboard_has_one_row_per_candidate(opened, fit_dir):
    rows = opened.page.locator("#leaderboard-table tbody tr")
    assert rows.count() == len(pd.read_csv(fit_dir / "leaderboard.csv"))
    assert opened.page.locator("#leaderboard-table tbody tr.selected").count() == 1


def _amounts(text: str, unit: str) -> list[float]:
    """Figures written before `unit`: 12.3, 2.84 × 10⁻⁶ and LaTeX's $2.84\\times10^{-6}$\\,."""
    found = []
    plain = r"(\d+(?:\.\d+)?)(?: × 10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))? "
    for mantissa, exponent in re.findall(plain + unit, text):
        found.append(float(mantissa) * 10 ** int(exponent.translate(SUPERSCRIPT_DIGITS) or 0))
    for mantissa, exponent in re.findall(r"\$?(\d+(?:\.\d+)?)(?:\\times10\^\{(-?\d+)\}\$)?\\," + unit, text):
        found.append(float(mantissa) * 10 ** int(exponent or 0))
    return found


def test_the_carbon_statement_holds_the_runs_kwh_and_grams(opened, fit_dir):
    run = json.loads((fit_dir / "run.json").read_text())
    joules = run["energy"]["process_j"]
    kwh = joules / 3.6e6
    grams = run["co2_g"]["process"]
    assert grams == pytest.approx(kwh * run["carbon_intensity"]["g_per_kwh"] * run["pue"]["value"])
    assert run["pue"] == {"value": 1.25, "source": "--pue"} and run["carbon_intensity"]["country"] == "FRA"
    for selector in ("pre.statement-text", "pre.statement-latex"):
        text = opened.page.locator(selector).inner_text()
        assert any(v == pytest.approx(kwh, rel=5e-3) for v in _amounts(text, "kWh")), text
        assert any(v == pytest.approx(grams, rel=5e-3) for v in _amounts(text, "g")), text
        assert "1.25" in text and "France" in text and "kiss-automl" in text


def test_the_regions_table_starts_with_the_fits_own_place(opened):
    first = opened.page.locator("#regions-table tbody tr").first
    assert "yours" in first.get_attribute("class") and "France" in first.inner_text()
    assert opened.page.locator("#cloud-regions tbody tr").count() > 0
