"""Search configuration: defaults, YAML presets (default, fast, thorough) and validation.

A configuration is a frozen dataclass; presets and user YAML files only override fields.
Every rule is data (`_RULES`) so an invalid value gets one clear message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

PRESETS_DIR = Path(__file__).parent / "configs"
ALL_FAMILIES = (
    "baseline",
    "linear",
    "random_forest",
    "extra_trees",
    "lightgbm",
    "xgboost",
    "mlp",
)


@dataclass(frozen=True)
class SearchConfig:
    """Everything that steers a search; see configs/default.yaml for what each field means."""

    families: tuple[str, ...] = ALL_FAMILIES
    metric: str | None = None
    time_budget: float | None = 600.0
    energy_budget: float | None = None
    co2_budget: float | None = None
    max_trials: int | None = 200
    trial_timeout: float | None = 300.0
    isolation: str = "auto"
    memory_limit: float | None = None
    tol: float = 0.002
    patience: int = 1
    noise_aware: bool = True
    decision_energy: str = "estimated"
    family_patience: int = 3
    always_probe: tuple[str, ...] = ("baseline", "linear", "random_forest", "lightgbm")
    cv: int | str = "auto"
    small_data_rows: int = 2000
    small_data_folds: int = 5
    folds: int = 3
    holdout_rows: int = 10000
    validation_fraction: float = 0.2
    max_validation_rows: int = 10000
    min_rung_rows: int = 4000
    rung_factor: int = 4
    promote_top: int = 4
    promote_eta: int = 2
    early_stopping_rounds: int = 20
    selection: str = "best"
    refit: str = "auto"  # auto (when more rows are expected to pay) | always
    ensemble: bool | str = "auto"  # true, false or 'auto' (ensemble.wanted)
    n_jobs: int = 1
    device: str = "auto"
    pue: float = 1.0  # power usage effectiveness of the data centre: CO2 counts energy x PUE
    text_columns: str | tuple[str, ...] = "auto"  # free text: 'auto', the columns' names, or () for none
    text_model: str | None = None  # sentence encoder of the text extra (None: all-MiniLM-L6-v2, offline)
    text_embeddings: str = "auto"  # auto (when text pays and the plateau rule allows) | always | never
    scheduler: str | None = None  # a Dask scheduler's address or 'local:N' (the dask extra; cluster/)
    in_flight: int | None = None  # candidates in flight on a cluster (null: its worker threads)

    def replace(self, **changes: Any) -> "SearchConfig":
        """A copy with `changes` applied (None values are ignored) and validated."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return validate(dataclasses.replace(self, **changes))


_POSITIVE_OR_NONE = ("time_budget", "energy_budget", "co2_budget", "trial_timeout", "memory_limit")
_RULES: dict[str, tuple[type, float, float]] = {
    # name: (type, lowest allowed, highest allowed)
    "max_trials": (int, 1, math.inf),
    "tol": (float, 0.0, 1.0),
    "patience": (int, 1, 100),
    "family_patience": (int, 1, 1000),
    "small_data_rows": (int, 0, math.inf),
    "small_data_folds": (int, 2, 20),
    "folds": (int, 2, 20),
    "holdout_rows": (int, 10, math.inf),
    "validation_fraction": (float, 0.01, 0.9),
    "max_validation_rows": (int, 10, math.inf),
    "min_rung_rows": (int, 10, math.inf),
    "rung_factor": (int, 2, 100),
    "promote_top": (int, 1, 100),
    "promote_eta": (int, 2, 100),
    "early_stopping_rounds": (int, 1, 10000),
    "n_jobs": (int, -1, 1024),
    "pue": (float, 1.0, 5.0),
    "in_flight": (int, 1, 1024),
}
_OPTIONAL = {"max_trials", "in_flight"}  # null: no limit; every other rule's value is required
_CHOICES = {"selection": ("best", "simplest"), "device": ("auto", "cpu", "cuda"),
            "isolation": ("auto", "process", "none"), "decision_energy": ("estimated", "measured"),
            "text_embeddings": ("auto", "always", "never"),
            "refit": ("auto", "always")}


def rung_sizes(n_train: int, config: SearchConfig) -> tuple[int, ...]:
    """Successive halving's training sizes: geometric from `min_rung_rows` up to all training
    rows. Here, with the settings, so that `estimate` plans as the search does without
    importing the evaluation code's scikit-learn."""
    sizes = []
    size = config.min_rung_rows
    while size < n_train:
        sizes.append(size)
        size *= config.rung_factor
    # A last step of less than 1.5x is not worth its own rung.
    if sizes and n_train < 1.5 * sizes[-1]:
        sizes.pop()
    return tuple(sizes) + (n_train,)


def _check_number(name: str, value: Any, kind: type, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"'{name}' must be a number, got {value!r}")
    if kind is int and (not math.isfinite(value) or float(value) != int(value)):
        raise ConfigError(f"'{name}' must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"'{name}' must be between {low:g} and {high:g}, got {value!r}")
    return kind(value)


def validate(config: SearchConfig) -> SearchConfig:
    """Check every field; return the config with numbers normalised to their types."""
    values = dataclasses.asdict(config)
    for name in _POSITIVE_OR_NONE:
        if values[name] is not None:
            values[name] = _check_number(name, values[name], float, -math.inf, math.inf)
            if not values[name] > 0:
                raise ConfigError(f"'{name}' must be positive, got {values[name]!r}")
            if math.isinf(values[name]):
                values[name] = None  # .inf in YAML, inf on the command line: no limit, as null
    for name, (kind, low, high) in _RULES.items():
        if values[name] is None and name in _OPTIONAL:
            continue
        values[name] = _check_number(name, values[name], kind, low, high)
    if values["n_jobs"] == 0:
        raise ConfigError("'n_jobs' must be -1 or a positive number of workers, got 0")
    for name, choices in _CHOICES.items():
        if values[name] not in choices:
            raise ConfigError(f"'{name}' must be one of {', '.join(choices)}, got {values[name]!r}")
    if not isinstance(values["noise_aware"], bool):
        raise ConfigError(f"'noise_aware' must be true or false, got {values['noise_aware']!r}")
    if not (isinstance(values["ensemble"], bool) or values["ensemble"] == "auto"):
        raise ConfigError(f"'ensemble' must be true, false or auto, got {values['ensemble']!r}")
    values["families"] = _check_families(values["families"])
    values["always_probe"] = _check_families(values["always_probe"], "always_probe", allow_empty=True)
    values["cv"] = _check_cv(values["cv"])
    values["text_columns"] = _check_text_columns(values["text_columns"])
    if values["text_model"] is not None and not (isinstance(values["text_model"], str) and values["text_model"].strip()):
        raise ConfigError(f"'text_model' must be a model name or a folder, got {values['text_model']!r}")
    values["scheduler"] = check_scheduler(values["scheduler"])
    return SearchConfig(**values)


def _check_families(families: Any, name: str = "families", allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(families, str):
        families = [families]
    if families is None and allow_empty:
        families = []
    if not isinstance(families, (list, tuple)) or not (families or allow_empty):
        raise ConfigError(f"'{name}' must be a non-empty list of model families, got {families!r}")
    unknown = [f for f in families if f not in ALL_FAMILIES]
    if unknown:
        raise ConfigError(f"Unknown model families {unknown} in '{name}'; known: {', '.join(ALL_FAMILIES)}")
    # Cost order is the registry's, whatever order the user wrote.
    return tuple(f for f in ALL_FAMILIES if f in families)


def _check_text_columns(value: Any) -> str | tuple[str, ...]:
    if value == "auto":
        return value
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value):
        return tuple(dict.fromkeys(value))
    raise ConfigError(f"'text_columns' must be auto, a list of column names, or [] for none, got {value!r}")


def _check_cv(cv: Any) -> int | str:
    if cv in ("auto", "holdout"):
        return cv
    if isinstance(cv, int) and not isinstance(cv, bool) and 2 <= cv <= 20:
        return cv
    raise ConfigError(f"'cv' must be 'auto', 'holdout' or a number of folds from 2 to 20, got {cv!r}")


def scheduler_asked(flag: str | None, config: str) -> str | None:
    """The scheduler a fit runs on: the --scheduler flag, else `config`'s `scheduler:`."""
    return flag if flag is not None else load(config).scheduler


def check_scheduler(scheduler: Any) -> str | None:
    """An address (tcp://host:8786, host:8786) or 'local:N'; checked here without importing dask."""
    if scheduler is None:
        return None
    text = scheduler.strip() if isinstance(scheduler, str) else None
    if text and text.startswith("local:"):
        count = text[len("local:"):]
        if count.isdigit() and 1 <= int(count) <= 1024:
            return text
    elif text and " " not in text and (":" in text or "://" in text):
        return text
    raise ConfigError(f"'scheduler' must be a Dask scheduler address (tcp://host:8786) or local:N "
                      f"(N worker processes on this machine), got {scheduler!r}")


def from_mapping(values: Mapping[str, Any], base: SearchConfig | None = None, source: str = "config") -> SearchConfig:
    """Override `base` (the defaults) with `values`, rejecting unknown keys."""
    known = {f.name for f in fields(SearchConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"Unknown setting(s) {', '.join(unknown)} in {source}; known: {', '.join(sorted(known))}")
    return validate(dataclasses.replace(base or SearchConfig(), **dict(values)))


def load(config: "str | Path | Mapping[str, Any] | SearchConfig | None") -> SearchConfig:
    """A preset name ('default', 'fast', 'thorough'), a YAML path, a mapping or a SearchConfig."""
    if config is None:
        config = "default"
    if isinstance(config, SearchConfig):
        return validate(config)
    if isinstance(config, Mapping):
        return from_mapping(config, source="the config mapping")
    path = Path(config)
    if not path.suffix and (PRESETS_DIR / f"{config}.yaml").is_file():
        path = PRESETS_DIR / f"{config}.yaml"
    if not path.is_file():
        presets = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
        raise ConfigError(f"Config '{config}' is neither a preset ({presets}) nor a YAML file")
    return from_mapping(_read_yaml(path), source=str(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config {path}: {exc}".splitlines()[0]) from None
    if not isinstance(values, dict):
        raise ConfigError(f"Config {path} must be a mapping of setting: value")
    return values
