"""The Python API, for notebooks and scripts: the same functions the command line calls, nothing else.

>>> import stackfold
>>> stackfold.demo_data("demo/data", products=1500)                          # doctest: +SKIP
>>> run = stackfold.run("demo/data", "demo/run", images=False, models=["tfidf_logreg", "logreg"])  # doctest: +SKIP
>>> run.leaderboard()[["model", "wf1_mean"]]                                 # doctest: +SKIP
>>> run.predict("new/data").write("submission.csv")                          # doctest: +SKIP
>>> stackfold.tune_stacker("demo/run", "lgbm", trials=20)                    # doctest: +SKIP

Heavy libraries are imported by the calls that need them, so ``import stackfold`` stays quick.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from stackfold.pipeline import FinalStep, RunSummary
    from stackfold.predict import Prediction
    from stackfold.report.compare import Comparison
    from stackfold.shift.result import ShiftResult
    from stackfold.tune import TuningResult


def demo_data(out: str | Path, products: int = 3000, seed: int = 0, image_size: int | None = None,
              layout: str = "rakuten") -> Path:
    """Write a calibrated synthetic twin of a challenge in its exact file layout (``stackfold demo-data``).

    ``layout``: ``"rakuten"`` (CSVs and JPEG files), ``"cdiscount"`` (BSON files) or ``"kaggle"`` (a generic
    Kaggle challenge: ``train.csv``, ``test.csv``, ``sample_submission.csv`` and JPEG files); same seed, same bytes.
    ``image_size``: the photos' side in pixels (default the challenge's). Returns ``out``.

    >>> stackfold.demo_data("demo/data", products=300)                        # doctest: +SKIP
    """
    from stackfold.errors import ConfigError
    from stackfold.synthetic import LAYOUTS

    if layout not in LAYOUTS:
        raise ConfigError(f"layout {layout!r}: unknown; choose one of: {', '.join(LAYOUTS)}")
    twin = LAYOUTS[layout]
    twin.write(Path(out), n_products=products, seed=seed, image_size=image_size or twin.image_size)
    return Path(out)


def run(data: str | Path, out: str | Path, config: str | Path | None = None, *, force: bool = False,
        report: bool = True, scheduler: str | None = None, **overrides: Any) -> "Run":
    """Cross-validate the configured base models and stackers on ``data``, write the leaderboard, the submissions
    and (``report``) the HTML report into run folder ``out`` (``stackfold run``); the finished :class:`Run`.

    ``config``: a TOML run configuration; ``overrides``: any of its keys, e.g. ``models=["logreg"]``,
    ``images=False``, ``folds=5``, ``params={"logreg": {"C": 10.0}}``. A rerun reuses every unchanged result.

    >>> run = stackfold.run("demo/data", "demo/run", images=False)            # doctest: +SKIP
    """
    from stackfold.api.passes import shift_steps, tune_first
    from stackfold.config import load_config, with_scheduler
    from stackfold.pipeline import run_pipeline

    settings = with_scheduler(load_config(Path(config) if config else None, overrides, data=Path(data)), scheduler)
    finish = report_steps(Path(out), explain="lgbm" in settings.stackers) if report else []
    if settings.tune_trials:
        settings = tune_first(Path(data), Path(out), settings, force)
        force = False
    summary = run_pipeline(Path(data), Path(out), settings, force=force,
                           finish=[*shift_steps(Path(data), Path(out), settings), *finish])
    return Run(Path(out), summary)


def check_shift(data: str | Path, out: str | Path | None = None, config: str | Path | None = None, *,
                images: bool | None = None, views: Sequence[str] = ()) -> "ShiftResult":
    """Tell the test rows of ``data`` from its training rows (``stackfold shift``): per feature view, a classifier
    cross-validated on train against test; its AUC with a 95% interval (0.5: the test looks like the training rows),
    what separates most, the most test-like training rows and their validation weights.

    ``config`` and ``images`` as for :func:`run`; ``views``: names of ``stackfold.shift.views.SHIFT_VIEWS``
    (default: ``terms``, ``meta`` and those of the configured models). ``out``: a run folder of the same data,
    whose cached views are reused and where the result is saved for its report.

    >>> stackfold.check_shift("demo/data", images=False).overall.auc           # doctest: +SKIP
    """
    from stackfold.config import load_config
    from stackfold.shift.check import shift_data

    settings = load_config(Path(config) if config else None, {} if images is None else {"images": images},
                           data=Path(data))
    return shift_data(Path(data), settings, Path(out) if out is not None else None, tuple(views))


def report_steps(out: Path, explain: bool) -> list["FinalStep"]:
    """A run's last steps, done holding its lock: the lgbm stacker's SHAP shares (``explain``), then the report."""
    from stackfold.explain import EXPLAIN_COST, explain_run
    from stackfold.pipeline import FinalStep
    from stackfold.report.build import REPORT_COST, write_report

    steps = [FinalStep("explain", "lgbm", EXPLAIN_COST, lambda: explain_run(out, reuse=True), needs="lgbm")] \
        if explain else []
    return [*steps, FinalStep("report", "report", REPORT_COST, lambda: write_report(out))]


def tune_stacker(run: str | Path, stacker: str, trials: int = 50, *, timeout: float | None = None,
                 storage: str | None = None, study: str | None = None, space: str | Path | None = None,
                 workers: int = 1, scheduler: str | None = None, track: str | None = None) -> "TuningResult":
    """Tune ``stacker`` by CV over finished run ``run``'s OOF matrix and saved folds (``stackfold tune``); the next
    :func:`run` uses the best parameters, saved to ``RUN/tuning/<stacker>.json``. The result: the best trial beside
    the untuned baseline.

    ``trials``: finished trials the study should hold in total (a resumed study only adds the rest); ``timeout``:
    seconds after which no trial starts; ``storage``: an Optuna storage URL (default the run's SQLite file);
    ``study``: its name (default the stacker's); ``space``: a TOML file overriding the search space; ``workers``
    tuning workers on the Dask cluster ``scheduler`` (``tcp://host:8786`` or ``local:N``), all on one study;
    ``track``: log each trial to MLflow (``"mlflow"`` or a tracking URI; default the run's ``tracking``).

    >>> stackfold.tune_stacker("demo/run", "lgbm", trials=20).params          # doctest: +SKIP
    """
    from stackfold.errors import ConfigError

    if workers > 1 and scheduler is None:
        raise ConfigError(f"workers={workers}: several workers run on a cluster; pass scheduler= (e.g. 'local:2'), "
                          "or tune on each machine with one storage=")
    from stackfold.tune import tune_on_cluster, tune_stacker as tune_here

    options = {"timeout": timeout, "storage": storage, "study_name": study,
               "space_file": Path(space) if space else None, "track": track}
    if scheduler is not None:
        return tune_on_cluster(scheduler, workers, Path(run), stacker, trials, **options)
    return tune_here(Path(run), stacker, trials, **options)


def explain_stacker(run: str | Path, rows: int = 5000) -> tuple["pd.Series", "pd.DataFrame", int]:
    """Each base model's share of the mean absolute SHAP value in finished run ``run``'s LightGBM stacker, refitted
    on all OOF rows (``stackfold explain``): the shares overall (best first), per class (a row per class code, a
    column per model), and how many rows (a seeded sample of at most ``rows``) they explain. Saved for the report as
    well.

    >>> overall, per_class, n_rows = stackfold.explain_stacker("demo/run")   # doctest: +SKIP
    """
    from stackfold.explain import explain_run

    return explain_run(Path(run), rows)


def compare(runs: Sequence[str | Path], html: str | Path | None = None) -> "Comparison":
    """Runs of the same data and folds side by side (``stackfold compare``), each against the first: ``scores``,
    each leaderboard row's OOF score and interval per run; ``differences``, paired bootstrap differences on the same
    rows. A run of other data or folds is refused in one line. ``html``: also write the comparison as a page there.

    >>> stackfold.compare(["runs/a", "runs/b"]).differences                  # doctest: +SKIP
    """
    from stackfold.errors import ConfigError

    if len(runs) < 2:
        raise ConfigError(f"compare needs at least two run folders, got {len(runs)}")
    from stackfold.report.compare import compare_runs, write_comparison

    comparison = compare_runs([Path(run) for run in runs])
    if html is not None:
        write_comparison(comparison, Path(html))
    return comparison


def open_run(path: str | Path) -> "Run":
    """The finished run in folder ``path``, to read and to predict with; one line if it holds no finished run.

    >>> run = stackfold.open_run("demo/run")                                  # doctest: +SKIP
    """
    return Run(Path(path))


class Run:
    """A finished run folder: its leaderboard, its models' probabilities, predictions of new products, its report.

    ``summary``: what :func:`run` finished with (``None`` for a run opened later).
    """

    def __init__(self, path: Path, summary: "RunSummary | None" = None):
        from stackfold.predict import run_config
        from stackfold.run_folder import RunFolder

        self.path, self.summary = Path(path), summary
        self.folder = RunFolder(self.path)
        self.config = run_config(self.folder)

    def __repr__(self) -> str:
        return f"stackfold.open_run({str(self.path)!r})"

    def leaderboard(self) -> "pd.DataFrame":
        """One row per base model, stacker and decision rule, best CV score first; ``submitted`` marks best.csv's.

        >>> run.leaderboard()[["model", "level", "wf1_mean", "submitted"]]    # doctest: +SKIP
        """
        from stackfold.leaderboard import read_leaderboard

        return read_leaderboard(self.folder.require(self.folder.leaderboard, "leaderboard"))

    def oof(self, name: str) -> "pd.DataFrame":
        """Leaderboard row ``name``'s out-of-fold probabilities: a row per training product (the train file's ids),
        a column per class (its code; string labels as the challenge writes them). Every row comes from a model
        that never saw it.

        >>> run.oof("logreg").idxmax(axis=1)                                  # doctest: +SKIP
        """
        return self._probabilities(name, "oof")

    def test_proba(self, name: str) -> "pd.DataFrame":
        """Leaderboard row ``name``'s probabilities of the run's test products, a column per class (as :meth:`oof`).

        >>> run.test_proba("mean").idxmax(axis=1)                              # doctest: +SKIP
        """
        return self._probabilities(name, "test")

    def _probabilities(self, name: str, part: str) -> "pd.DataFrame":
        import pandas as pd

        from stackfold.competition.challenges import get_spec
        from stackfold.errors import RunFolderError
        from stackfold.run_folder import Level

        board = self.leaderboard()
        levels = dict(zip(board["model"], board["level"]))
        if name not in levels:
            raise RunFolderError(f"{self.folder.leaderboard}: no row {name!r}; choose one of {', '.join(levels)}")
        path = self.folder.model_dir(Level(levels[name]), name) / f"{part}.parquet"
        frame = pd.read_parquet(self.folder.require(path, f"dense {part} probabilities of {name!r} (a top-k run "
                                                          "keeps .npz files)"))
        spec = get_spec(self.config.challenge)
        named = dict(zip(spec.classes, spec.column_names()))
        frame.columns = [named[int(column.rsplit("__", 1)[1])] for column in frame.columns]
        return frame

    def predict(self, products: "str | Path | pd.DataFrame", images: str | Path | None = None,
                row: str | None = None, cache: str | Path | None = None,
                external: "dict[str, str | Path] | None" = None) -> "Prediction":
        """Predict new products with the run's saved models (``stackfold predict``): leaderboard ``row``'s (default
        the submitted one, best.csv's). ``products``: a folder holding the challenge's test file (and its images,
        if the run used photos), or a frame of products in the test file's columns with ``images`` the folder
        holding their photo files. Their views are cached in ``cache`` (default the run's ``cache/``; a read-only
        run folder: a temporary folder). The :class:`~stackfold.predict.Prediction` has ``labels``,
        ``probabilities()`` and ``write(submission_csv, proba=None)``. ``external``: each external model's
        probabilities of the products (its name -> a file as :meth:`add_oof` takes), when the row stacks one.

        >>> prediction = run.predict(new_products_frame)                      # doctest: +SKIP
        >>> prediction.labels.value_counts()                                  # doctest: +SKIP
        """
        from stackfold.predict import load_products, predict_products

        dataset = load_products(self.folder, self.config, products, Path(images) if images else None)
        return predict_products(self.path, dataset, row, Path(cache) if cache else None,
                                {name: Path(file) for name, file in (external or {}).items()})

    def folds(self) -> "pd.DataFrame":
        """Each training row's fold (``stackfold folds``): the row id as the challenge's files give it, a ``fold``
        column. Train a model elsewhere holding out fold k's rows in fold k, then hand its probabilities to
        :meth:`add_oof`.

        >>> run.folds().to_csv("folds.csv")                                   # doctest: +SKIP
        """
        from stackfold.pipeline.add_oof import fold_table

        return fold_table(self.path)

    def add_oof(self, name: str, oof: str | Path, test: str | Path, data: str | Path | None = None,
                report: bool = True) -> "Run":
        """Stack the model ``name`` trained elsewhere (``stackfold add-oof``): ``oof``, its out-of-fold
        probabilities of the training rows (made on :meth:`folds`), and ``test``, of the test rows; CSV or Parquet,
        the row id then one column per class. The run goes on: unchanged results reused, stackers refitted.

        >>> run = run.add_oof("camembert", "camembert_oof.csv", "camembert_test.csv")  # doctest: +SKIP
        """
        from stackfold.pipeline.add_oof import add_external

        finish = report_steps(self.path, explain="lgbm" in self.config.stackers) if report else ()
        summary = add_external(self.path, name, Path(oof), Path(test), Path(data) if data else None, finish)
        return Run(self.path, summary)

    def report(self, data: str | Path | None = None) -> Path:
        """Write the run's HTML report (``RUN/report/index.html``) and return its path (``stackfold report``;
        ``data``: the challenge folder, if it moved since the run).

        >>> run.report()                                                       # doctest: +SKIP
        """
        from stackfold.report.build import write_report

        return write_report(self.path, Path(data) if data else None)


__all__: Sequence[str] = ["Run", "check_shift", "compare", "demo_data", "explain_stacker", "open_run", "run",
                          "tune_stacker"]
