"""The SHAP pass of a run: it explains the lgbm stacker the run saved (the same shares as a fresh refit), and a
rerun whose lgbm stacker did not change reuses the saved shares."""

import json

import pytest

import stackfold
from stackfold.explain import explain_run
from stackfold.run_folder import RunFolder
from stackfold.synthetic import write_demo_data


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    data = tmp_path_factory.mktemp("twin")
    write_demo_data(data, 300, seed=0, image_size=16)
    out = data.parent / "run"
    stackfold.run(data, out, images=False, models=["prior", "complement_nb"], stackers=["mean", "lgbm"],
                  report=False)
    return out


@pytest.mark.slow
def test_the_saved_refit_explains_as_a_fresh_refit_would(run_folder, monkeypatch):
    overall, per_class, rows = explain_run(run_folder)
    saved = json.loads((run_folder / "explain" / "shares.json").read_text())
    with monkeypatch.context() as patch:  # no saved refit: the stacker is fitted again
        patch.setattr(RunFolder, "fitted", lambda self, *args: type("Nothing", (), {"has": lambda s, fold: False})())
        fresh = explain_run(run_folder)
    assert json.loads((run_folder / "explain" / "shares.json").read_text()) == saved
    assert fresh[0].equals(overall) and fresh[1].equals(per_class) and rows == 300 == saved["rows"]


@pytest.mark.slow
def test_a_rerun_reuses_the_shares_of_an_unchanged_stacker_and_only_those(run_folder, monkeypatch):
    overall, per_class, rows = explain_run(run_folder)

    def no_pass(*args):
        raise AssertionError("a SHAP pass ran")

    monkeypatch.setattr("stackfold.explain.model_contributions", no_pass)
    again = explain_run(run_folder, reuse=True)
    assert again[0].equals(overall) and again[1].equals(per_class) and again[2] == rows
    with pytest.raises(AssertionError, match="a SHAP pass ran"):  # other rows: another sample
        explain_run(run_folder, rows=100, reuse=True)
    with pytest.raises(AssertionError, match="a SHAP pass ran"):  # without reuse: always
        explain_run(run_folder)
