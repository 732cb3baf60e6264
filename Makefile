# resdyn: `make setup` once, then `make test`; `make reproduce` for the paper's full run (MNIST).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# MNIST root: $RESDYN_DATA if set; else ../shared/data where it holds MNIST; else <repo>/data (resdyn/core/paths.py).
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with nbval-sanitize.cfg

.PHONY: setup install test test-unit test-notebooks test-full check-wheel reproduce seeds study criteria regimes units book check-executed compare-executed check-figures \
        reproduce-quick notebooks bench clean

setup: install ## environment, Jupyter kernel, then the main job on its quick default
	$(PY) -m resdyn reproduce --quick

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name resdyn --display-name "Python (resdyn)"
	touch $@

test: install ## the layer contract, unit tests, every notebook's checked outputs (nbval, quick mode); one test file per core (pytest-xdist), each with one worker
	$(VENV)/bin/lint-imports
	RESDYN_QUICK=1 RESDYN_WORKERS=1 $(PY) -m pytest -n auto --dist loadfile tests notebooks $(NBVAL)

# the wheel of this checkout in a fresh venv (outside the checkout, so nothing imports resdyn/ from here):
# every module imports and the command runs; the venv is removed afterwards, whatever happened
CHECK_IMPORTS := import importlib, pkgutil, resdyn; \
    assert "site-packages" in resdyn.__file__, resdyn.__file__; \
    names = [m.name for m in pkgutil.walk_packages(resdyn.__path__, "resdyn.") if m.name != "resdyn.__main__"]; \
    [importlib.import_module(n) for n in names]; \
    print(f"check-wheel: {len(names) + 1} modules of resdyn {resdyn.__version__} import from {resdyn.__file__}")
check-wheel: ## the package's wheel installs in a clean venv with its dependencies, imports whole, and runs
	rm -rf build/wheel && $(PYTHON) -m pip wheel --quiet --no-deps -w build/wheel .
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && wheel=$$(ls "$$PWD"/build/wheel/resdyn-*.whl) && \
	    $(PYTHON) -m venv "$$tmp/venv" && "$$tmp/venv/bin/python" -m pip install --quiet "$$wheel" && \
	    cd "$$tmp" && "$$tmp/venv/bin/python" -c '$(CHECK_IMPORTS)' && \
	    "$$tmp/venv/bin/resdyn" --help >/dev/null && "$$tmp/venv/bin/python" -m resdyn --help >/dev/null && \
	    echo "check-wheel: resdyn --help and python -m resdyn --help run"

test-unit: install
	$(PY) -m pytest tests

test-full: install ## full-scale tests on real MNIST (tens of minutes)
	$(PY) -m pytest tests -m full

reproduce: install ## the paper (notebooks 00-04) on MNIST: figures/, paper/ (results.json, REPORT.md, notebooks/); CHECK=<results.json>: fail if a verdict differs or a number leaves its tolerance
	$(PY) -m resdyn reproduce $(if $(CHECK),--check $(CHECK))

seeds: install ## notebook 05: every headline number over five seeds (outside CI; about 5 minutes from a warm cache)
	$(PY) -m resdyn reproduce --target seeds

study: install ## notebooks 06-11: mechanism, regime map, depth, toy, precision, trace (outside CI)
	$(PY) -m resdyn reproduce --target study

criteria: install ## notebooks 12-14: MNIST-1D depth curves, the criteria against removal, the adaptive rule (outside CI)
	$(PY) -m resdyn reproduce --target criteria

regimes: install ## notebooks 15-16: every claim in the chosen, the paper-like and the baseline regime over seeds, its controls, the mechanism by intervention, from the units in paper/units/regimes (outside CI; any missing unit is computed first)
	$(PY) -m resdyn reproduce --target regimes

units: install ## the regimes study's missing units, one after another, none started after MINUTES minutes (default: no limit); commit paper/units/ after it
	$(PY) -m resdyn units $(if $(MINUTES),--minutes $(MINUTES))

book: install ## the readers' book: static HTML of paper/notebooks, the report and figures (build/book/_build/html)
	$(PY) -m pip install --quiet -e '.[book]'
	$(PY) -m resdyn book
	$(PY) -m pytest tests/test_book.py -p no:cacheprovider -ra

EXECUTED ?= paper/notebooks
check-executed: install ## nbval on the executed paper notebooks, full mode, from the warm cache
	RESDYN_QUICK=0 $(PY) -m pytest $(sort $(wildcard $(EXECUTED)/0[0-4]_*.ipynb)) $(NBVAL) -p no:cacheprovider

compare-executed: install ## this run's executed paper notebooks against committed copies, nothing re-executed: make compare-executed EXPECTED=<dir>
	$(PY) -m resdyn check-executed --expected $(EXPECTED)

check-figures: install ## the regenerated figures against committed copies: make check-figures EXPECTED=<dir>
	$(PY) -m resdyn check-figures --expected $(EXPECTED) $(if $(EXPECTED_RESULTS),--expected-results $(EXPECTED_RESULTS))

reproduce-quick: install
	$(PY) -m resdyn reproduce --quick

notebooks: install ## re-run quick mode and store the checked cells' outputs in notebooks/
	for t in paper seeds study criteria regimes; do $(PY) -m resdyn reproduce --quick --target $$t --update-notebooks || exit 1; done

bench: install ## benchmarks; writes BENCHMARKS.md
	$(PY) bench/bench.py

clean:
	rm -rf build .pytest_cache
