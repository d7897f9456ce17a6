# basket-lab: `make report` runs the default profile, `make test` the whole test suite.
# Both create the virtual environment first if it is missing or older than pyproject.toml.
PYTHON ?= python3
PROFILE ?= default
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup report smoke test check bench lab clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

report: setup  ## run the chain on the default profile -> reports/latest/index.html
	$(BIN)/python -m shared run --profile $(PROFILE)

smoke: setup  ## the same chain on the small synthetic profile, in seconds
	$(BIN)/python -m shared run --profile smoke --out reports/smoke

test: setup  ## layering and lint checks, then every test: unit, bad input, the CLI end to end, notebooks, Spark, browser
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

check: setup  ## the quick loop before a commit: layering, lint, unit tests (no notebooks, Spark or browser)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -m "not slow and not spark and not browser" -q

bench: setup  ## speed and memory measurements, written under reports/benchmarks/
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lab: setup  ## JupyterLab on the notebooks, with the project's environment as kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean:  ## remove generated runs and caches (keeps benchmarks and the virtual environment)
	rm -rf reports/latest reports/runs reports/smoke reports/notebook reports/*.failed reports/.*partial* data/
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: cluster-up cluster-down

# A standalone Spark cluster on this machine (a master and two one-core workers, from the pyspark package):
# run with -p spark_master=spark://127.0.0.1:7077 -p spark_executor_memory=1g. Ports: SPARK_CLUSTER_PORT
# (default 7077, web UIs on the next three ports); state, pid files and logs in SPARK_CLUSTER_DIR (.spark-cluster/).
cluster-up: setup  ## start the local Spark cluster and wait until both workers registered (idempotent)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/spark-cluster up

cluster-down:  ## stop the local Spark cluster (idempotent)
	PATH="$(abspath $(BIN)):$$PATH" $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) scripts/spark-cluster down
