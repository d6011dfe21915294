# Two commands for a fresh machine with Python 3.11 and make:
#   make demo   installs into .venv and writes the article report to ./report
#   make test   installs with test extras and runs the whole suite; as root on Debian it
#               first installs Chromium and a CJK font for the browser tests (scripts/install-chromium.sh)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
# One BLAS thread per process: genlab parallelises over processes, and
# oversubscribed threads on small machines are many times slower.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: demo test install install-test browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The fast engine's numba kernels compile once per install (cached next to genlab/linalg/kernels.py), here
# rather than in the first decomposition.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	$(BIN)/python -c "import genlab.linalg.kernels"
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e ".[test]"
	$(BIN)/python -c "import genlab.linalg.kernels"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/genlab article --out report
	@echo "Report written: $(CURDIR)/report/index.html"

# Debian's chromium (and fonts-noto-cjk) for tests/test_browser.py, installed only when missing
browser:
	sh scripts/install-chromium.sh

test: install-test browser
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) report genlab-out .pytest_cache test-artifacts
