"""Reading: arithmetic, validation, serialisation."""

import json

import pytest

from kiss_automl.energy import Reading


def _reading(**kw):
    base = dict(joules=10.0, cpu_seconds=2.0, wall_seconds=3.0, memory_joules=1.0,
                method="rapl", scope="machine", constants={"zones": ["package-0"]})
    base.update(kw)
    return Reading(**base)


def test_add_sums_fields_and_keeps_method():
    total = _reading() + _reading(joules=5.0, gpu_joules=2.0, scope="process")
    assert total.joules == 15.0
    assert total.cpu_seconds == 4.0
    assert total.wall_seconds == 6.0
    assert total.memory_joules == 2.0
    assert total.gpu_joules == 2.0
    assert total.method == "rapl"
    assert total.scope == "machine"
    assert total.constants == {"zones": ["package-0"]}


def test_sum_of_readings_works():
    assert sum([_reading(), _reading(), _reading()]).joules == 30.0


def test_add_refuses_different_methods():
    with pytest.raises(ValueError, match="different methods"):
        _reading() + _reading(method="cpu-time-model(W/core=4)")


def test_bad_scope_rejected():
    with pytest.raises(ValueError):
        _reading(scope="galaxy")


def test_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        Reading(1.0, 2.0, 3.0, 0.0, 0.0, "rapl", "machine")  # noqa: positional
    with pytest.raises(AttributeError):
        _reading().joules = 3.0  # type: ignore[misc]


def test_to_dict_is_json_serialisable_and_total_excludes_nothing():
    r = _reading(gpu_joules=4.0)
    d = r.to_dict()
    json.dumps(d)
    assert d["total_joules"] == r.joules + r.memory_joules == 11.0
    d["constants"]["zones"] = []
    assert r.constants["zones"] == ["package-0"]  # copy, not the same dict
