# `make demo`: install, generate the synthetic demo data, run the whole pipeline, score it, tune the lgbm stacker
# a little, and end with the path of the run's HTML report.
# `make test`: install with test extras, build the documentation site, run the whole test suite (what CI runs,
# through .ci/run); the site's tests (tests/test_docs_site.py) read the site `make docs` has just built.
# `make docs`: the documentation site into docs/_build/html, strictly: a warning or a broken reference fails it.
# `make test-fast`: the same without the tests marked slow (each over ~5 s): a few minutes.
# `make lint`: ruff over the code, tests, benchmarks, examples and the docs tooling (pyproject.toml's rules); CI runs it first.
# Both run on TEST_WORKERS parallel workers (pytest-xdist), one thread each; the tests sharing an expensive fixture
# stay on one worker (--dist loadgroup, tests/conftest.py), the others go wherever there is room.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PRODUCTS ?= 1500
DEMO_SEED ?= 0
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

DOCS_HTML := docs/_build/html

.PHONY: demo docs test test-fast lint install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "== creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip"
	$(BIN)/pip install --upgrade pip
	@echo "== installing stackfold with its test extras: TensorFlow, LightGBM, XGBoost, ... (several minutes the first time)"
	$(BIN)/pip install -e '.[test]'
	@echo "== installed: $(BIN)/stackfold"
	touch $@

demo/data/X_train_update.csv: $(VENV)/.installed
	$(BIN)/stackfold demo-data demo/data --products $(DEMO_PRODUCTS) --seed $(DEMO_SEED)

demo: demo/data/X_train_update.csv
	$(BIN)/stackfold run demo/data --out demo/run
	$(BIN)/stackfold validate demo/run/submissions/best.csv --data demo/data
	$(BIN)/stackfold score demo/run/submissions/best.csv --truth demo/data/truth/Y_test.csv
	$(BIN)/stackfold tune demo/run --stacker lgbm --trials 4
	$(BIN)/stackfold report demo/run

docs: $(VENV)/.installed
	rm -rf $(DOCS_HTML)
	$(BIN)/python -m sphinx -E -W --keep-going -n -q -b html -d docs/_build/doctrees docs $(DOCS_HTML)
	@echo "== the site: $(DOCS_HTML)/index.html"

test: docs
	STACKFOLD_DOCS_HTML=$(DOCS_HTML) $(PYTEST)

test-fast: $(VENV)/.installed
	$(PYTEST) -m "not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check stackfold tests bench examples docs

clean:
	rm -rf demo .pytest_cache docs/_build
