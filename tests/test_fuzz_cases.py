"""The fuzzed corpus's finds, kept as fixed cases (tests/malformed/fuzz/cases.json says what each
found and what it must end in now): each fit ends as test_fuzz.py requires of every CSV."""

import json
from pathlib import Path

import pytest

from .fit_outcome import check_model, check_quiet, check_refusal, fit

FOUND = Path(__file__).parent / "malformed" / "fuzz"
CASES = json.loads((FOUND / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}:{c['target']!r}" for c in CASES])
def test_a_case_the_fuzzer_found(case, tmp_path, capfd):
    source, out = FOUND / case["file"], tmp_path / "out"
    code, err = fit(source, case["target"], case.get("task", "auto"), True, out, capfd)
    assert code == case["exit"], err
    if code == 2:
        assert case["words"] in check_refusal(err, quiet=True)
        assert not out.exists()
    else:
        check_quiet(err)
        check_model(source, out, capfd)


def test_every_found_file_is_a_case():
    assert {p.name for p in FOUND.iterdir()} - {"cases.json"} == {c["file"] for c in CASES}
