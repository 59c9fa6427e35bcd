"""Presets (``preset = "fast" | "default" | "best"``) and time limits (``time_limit = "30m"``) of a run's configuration.

A preset fills the keys the configuration does not set: ``models``, ``stackers``, ``features`` and
``tune_trials``. ``fast`` keeps the models that give most of the score for their time on the real Rakuten rows;
``best`` adds the levers that were real there but too slow for the default (``title_knn``, the Lite0 + Lite2 image
encoders side by side, tuning the ``lgbm`` stacker). A time limit then trims what the preset lists to what fits
(:mod:`stackfold.pipeline.budget`), in the order of :data:`PRIORITY`.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from stackfold.config.settings import DEFAULT_MODELS, DEFAULT_STACKERS
from stackfold.errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """The keys a preset gives a configuration that does not set them itself (``None``: the key's default)."""

    description: str
    models: tuple[str, ...] | None = None
    stackers: tuple[str, ...] | None = None
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    tune_trials: int | None = None


PRESETS = {
    "fast": Preset(
        "the cheap models that carry most of the score: TF-IDF logistic regression and naive Bayes on the text, "
        "logistic regression on the photos' EfficientNet-Lite0 features; the blends and the logistic stacker",
        models=("prior", "tfidf_logreg", "complement_nb", "efficientnet_logreg"),
        stackers=("mean", "weighted_mean", "log_pool", "logreg_stack"),
    ),
    "default": Preset("every default model and stacker (decided by cross-validation on the real Rakuten rows)"),
    "best": Preset(
        "the default, plus title_knn, the EfficientNet-Lite0 and Lite2 features side by side, and 30 tuning "
        "trials of the lgbm stacker before it is fitted",
        models=(*DEFAULT_MODELS, "title_knn"),
        stackers=DEFAULT_STACKERS,
        features={"efficientnet": {"nets": ["lite0", "lite2"]}},
        tune_trials=30,
    ),
}

PRIORITY = (
    "prior", "tfidf_logreg", "complement_nb", "mean", "weighted_mean", "log_pool", "efficientnet_logreg",
    "logreg_stack", "linear_svc", "sentence_logreg", "lgbm", "logreg", "efficientnet_svc", "text_nn", "sentence_nn",
    "fusion", "title_knn",
)
"""What a time limit keeps first, base models and stackers together: the most score for the time on the real
Rakuten rows first (``bench/real.py``), the blends as soon as two models can be blended. Names not listed (the
user's own models, opt-in ones) come after, in the order of the configuration."""

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def parse_duration(value: str | int | float, where: str = "time_limit") -> float:
    """Seconds of ``"90s"``, ``"30m"``, ``"1h30m"`` or a number of seconds; a :class:`ConfigError` line otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"{where} = {value!r}: give a duration such as \"30m\", \"2h\" or 1800 (seconds)")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(value) if value.strip() else None
        if match is None or not any(match.groups()):
            raise ConfigError(f"{where} = {value!r}: give a duration such as \"30m\", \"2h\", \"1h30m\" or \"90s\"")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ConfigError(f"{where} = {value!r}: a time limit must be above zero")
    return seconds


def apply_preset(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` configuration keys with its preset's keys added where ``raw`` does not set them (``features``: the
    preset's tables under the configuration's own)."""
    name = raw.get("preset", "default")
    if name not in PRESETS:
        raise ConfigError(f"preset = {name!r}: choose from {', '.join(PRESETS)}")
    preset = PRESETS[name]
    filled = dict(raw)
    for key in ("models", "stackers", "tune_trials"):
        value = getattr(preset, key)
        if value is not None and key not in raw:
            filled[key] = value
    if preset.features:
        own = raw.get("features", {})
        filled["features"] = {view: {**values, **own.get(view, {})} for view, values in preset.features.items()}
        filled["features"].update({view: values for view, values in own.items() if view not in preset.features})
    return filled


def priority_order(names: tuple[str, ...]) -> list[str]:
    """``names`` in the order a time limit keeps them (:data:`PRIORITY`, then the rest as given)."""
    rank = {name: i for i, name in enumerate(PRIORITY)}
    return sorted(names, key=lambda name: (rank.get(name, len(PRIORITY)), names.index(name)))
