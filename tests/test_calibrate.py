"""Temperature scaling: a stacker's probabilities calibrated on rows it never saw, labels unchanged."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from stackfold.config import load_config
from stackfold.ensembles.calibrate import TemperatureScaling
from stackfold.errors import ConfigError

CLASSES = np.array([3, 5, 9])


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of a 70%-accurate model that claims 99% confidence, and the true codes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    guess = np.where(rng.random(n) < 0.7, y, rng.integers(0, 3, n))
    proba = np.full((n, 3), 0.005)
    proba[np.arange(n), guess] = 0.99
    return proba, CLASSES[y]


def test_temperature_lowers_the_log_loss_of_new_rows_and_keeps_every_label():
    train, y_train = _overconfident(2000, seed=0)
    new, y_new = _overconfident(2000, seed=1)
    model = TemperatureScaling(classes=CLASSES, seed=0).fit(train, y_train)
    calibrated = model.predict_proba(new)
    assert model.temperature_ > 1  # over-confident: softened
    assert log_loss(y_new, new, labels=CLASSES) > 1.0
    # 80% right (70% + a third of the rest): the best a label-keeping calibration can do is -(0.8 ln 0.8 + 0.2 ln 0.1)
    assert log_loss(y_new, calibrated, labels=CLASSES) == pytest.approx(-(0.8 * np.log(0.8) + 0.2 * np.log(0.1)),
                                                                        abs=0.02)
    assert np.array_equal(calibrated.argmax(axis=1), new.argmax(axis=1))
    assert np.allclose(calibrated.sum(axis=1), 1.0)


@pytest.mark.parametrize(("spec", "config", "decisions"), [
    ('metric = "log_loss"', "", ("temperature",)),
    ('metric = "accuracy"', "", ()),
])
def test_a_log_loss_challenge_calibrates_its_stacker_by_default(tmp_path, spec, config, decisions):
    (tmp_path / "challenge.toml").write_text(f'train = "t.csv"\ntest = "u.csv"\nlabel = "y"\nclasses = ["a", "b"]\n'
                                             f'{spec}\n')
    (tmp_path / "run.toml").write_text(f'challenge = "challenge.toml"\nimages = false\n{config}')
    assert load_config(tmp_path / "run.toml").decisions == decisions


def test_a_rule_changing_labels_is_refused_under_log_loss(tmp_path):
    (tmp_path / "challenge.toml").write_text('train = "t.csv"\ntest = "u.csv"\nlabel = "y"\nclasses = ["a", "b"]\n'
                                             'metric = "log_loss"\n')
    (tmp_path / "run.toml").write_text('challenge = "challenge.toml"\ndecisions = ["temperature", "stage2"]\n')
    with pytest.raises(ConfigError, match=r"decision 'stage2' changes labels, but .* is scored by log_loss"):
        load_config(tmp_path / "run.toml")
