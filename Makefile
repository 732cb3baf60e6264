# resdyn: `make setup` once, then `make test`; `make reproduce` for the full run (MNIST).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

# MNIST root: $RESDYN_DATA if set; else ../shared/data where it holds MNIST; else <repo>/data (resdyn/paths.py).

.PHONY: setup install test test-unit test-notebooks test-full reproduce reproduce-quick notebooks bench clean

setup: install ## environment, Jupyter kernel, then the main job on its quick default
	$(PY) -m resdyn reproduce --quick

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name resdyn --display-name "Python (resdyn)"
	touch $@

test: install ## unit tests + notebooks' checked outputs (nbval, quick mode)
	TQDM_DISABLE=1 RESDYN_QUICK=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env

test-unit: install
	$(PY) -m pytest tests

test-full: install ## full-scale tests on real MNIST (tens of minutes)
	$(PY) -m pytest tests -m full

reproduce: install ## full run: every notebook on MNIST; figures/, paper/results.json, paper/REPORT.md
	$(PY) -m resdyn reproduce $(if $(CHECK),--check $(CHECK))

reproduce-quick: install
	$(PY) -m resdyn reproduce --quick

notebooks: install ## re-run quick mode and store the checked cells' outputs in notebooks/
	$(PY) -m resdyn reproduce --quick --update-notebooks

bench: install ## benchmarks; writes BENCHMARKS.md
	$(PY) bench/bench.py

clean:
	rm -rf build .pytest_cache
