# `make demo`: install, generate the synthetic demo data, run the whole pipeline, score it.
# `make test`: install with test extras, run the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PRODUCTS ?= 1500
DEMO_SEED ?= 0

.PHONY: demo test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo/data/X_train_update.csv: $(VENV)/.installed
	$(BIN)/stackfold demo-data demo/data --products $(DEMO_PRODUCTS) --seed $(DEMO_SEED)

demo: demo/data/X_train_update.csv
	$(BIN)/stackfold run demo/data --out demo/run
	$(BIN)/stackfold validate demo/run/submissions/best.csv --data demo/data
	$(BIN)/stackfold score demo/run/submissions/best.csv --truth demo/data/truth/Y_test.csv

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

clean:
	rm -rf demo .pytest_cache
