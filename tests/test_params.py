"""Declared parameters: what a declaration accepts, and the one order in which parameters win."""

import pytest

from stackfold.core.params import Param, check_params, count, fraction, positive, resolve_params
from stackfold.errors import ConfigError, StackfoldError
from stackfold.run_folder import Level, RunFolder

DECLARED = {
    "C": positive(3.0),
    "max_iter": count(100),
    "patience": count(3, low=0),
    "dropout": fraction(0.5),
    "border": Param(0.0, low=0, below=0.5),
    "solver": Param("lbfgs", choices=("lbfgs", "saga")),
    "gamma": Param(None, above=0, kind=float),
    "flip": Param(False),
}


@pytest.mark.parametrize(("name", "value", "match"), [
    ("C", 0.0, r"\[params.m\] C = 0.0: must be above 0"),
    ("C", "1", r"C = '1': expected float, like the default 3.0"),
    ("max_iter", 2.5, r"max_iter = 2.5: expected int"),
    ("max_iter", True, r"max_iter = True: expected int"),
    ("max_iter", 0, r"max_iter = 0: must be at least 1"),
    ("patience", -1, r"patience = -1: must be at least 0"),
    ("dropout", 1.5, r"dropout = 1.5: must be at most 1"),
    ("border", 0.5, r"border = 0.5: must be below 0.5"),
    ("solver", "adam", r"solver = 'adam': expected one of 'lbfgs', 'saga'"),
    ("gamma", -1.0, r"gamma = -1.0: must be above 0"),
    ("flip", 1, r"flip = 1: expected bool"),
    ("nope", 1, r"\[params.m\] has no parameter 'nope'; known: C, border"),
])
def test_a_value_outside_its_declaration_is_one_line(name, value, match):
    with pytest.raises(ConfigError, match=match) as info:
        check_params(DECLARED, {name: value}, "[params.m]")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "value"), [
    ("C", 2), ("C", 1e-9), ("max_iter", 1), ("patience", 0), ("dropout", 0.0), ("dropout", 1.0), ("border", 0.49),
    ("solver", "saga"), ("gamma", None), ("gamma", 0.5), ("flip", True),
])
def test_a_value_inside_its_declaration_passes(name, value):
    check_params(DECLARED, {name: value}, "[params.m]")


class _Owner:
    parameters = {"a": Param(1), "b": Param(2), "c": Param(3)}


def test_configured_beats_tuned_beats_default():
    assert resolve_params(_Owner, tuned={"b": 20, "c": 30}, configured={"c": 300}) == {"a": 1, "b": 20, "c": 300}
    assert resolve_params(_Owner) == {"a": 1, "b": 2, "c": 3}


def test_a_level_is_one_of_two_and_a_typo_never_becomes_a_folder(tmp_path):
    run = RunFolder(tmp_path)
    assert run.model_dir(Level.BASE, "m") == tmp_path / "models" / "m"
    assert run.model_dir(Level.STACK, "m") == tmp_path / "stackers" / "m"
    with pytest.raises(ValueError):
        run.model_dir("stakc", "m")


def test_an_error_knows_its_place_apart_from_its_message():
    error = ConfigError("size = 8: too small")
    located = error.at("[features.vgg16]")
    assert str(located) == "[features.vgg16] size = 8: too small" and located.where == "[features.vgg16]"
    assert isinstance(located, ConfigError) and located.at("[elsewhere]") is located
    assert str(StackfoldError("plain")) == "plain"
