PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest e2e browser bench shapes clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[torch,keras,lightning,hf,ray,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/deadpan demo

# ruff (style, complexity limits) and import-linter (the floors of docs/design.md, no framework in the core).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The HTML report's browser test needs headless Chromium: Debian's package, installed where this user can
# (the test is skipped, saying why, where it cannot be).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  apt-get install -y -q chromium >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) || \
	  echo "chromium could not be installed here: the browser tests will be skipped"

# The Keras tests run once per backend, each in its own process: a Keras backend is fixed at import.
# Each suite runs on every core (pytest-xdist, one test file per worker at a time, one BLAS thread per
# worker): 1.6x faster than one process using both cores for its small tensors.
XDIST := -n auto --dist loadfile
THREADS := OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
# make test runs one end-to-end script per capture path; make e2e runs the rest of the script corpora (the
# `corpus` marker: the PyTorch and Keras bug-report scripts, the seed article's examples) and the slowest
# integration runs (a local Ray cluster, workers spawned by a script).
KERAS_SUITE := tests/keras_backend $(XDIST) -p no:cacheprovider --override-ini="addopts=-q"
pytest: $(STAMP) browser
	$(THREADS) $(BIN)/python -m pytest $(XDIST) -m "not corpus"
	$(THREADS) KERAS_BACKEND=tensorflow $(BIN)/python -m pytest $(KERAS_SUITE) -m "not corpus"
	$(THREADS) KERAS_BACKEND=torch $(BIN)/python -m pytest $(KERAS_SUITE) -m "not corpus"

e2e: $(STAMP)
	$(THREADS) $(BIN)/python -m pytest $(XDIST) -m corpus
	$(THREADS) KERAS_BACKEND=tensorflow $(BIN)/python -m pytest $(KERAS_SUITE) -m corpus
	$(THREADS) KERAS_BACKEND=torch $(BIN)/python -m pytest $(KERAS_SUITE) -m corpus

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/diagnosis_cost.py
	KERAS_BACKEND=tensorflow $(BIN)/python benchmarks/keras_callback.py
	KERAS_BACKEND=torch $(BIN)/python benchmarks/keras_callback.py
	$(BIN)/python benchmarks/framework_callbacks.py
	$(BIN)/python benchmarks/live_onset.py

# The training-shapes suite (benchmarks/shapes/README.md): healthy scripts of every shape and their faulty
# twins, each run plainly and under deadpan run (about 20 minutes on 2 cores).
shapes: $(STAMP)
	$(BIN)/python benchmarks/shapes.py

clean:
	rm -rf $(VENV)
