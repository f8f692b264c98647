# Two verbs for a fresh machine:
#   make demo   create .venv if needed, install, train + evaluate on digits,
#               then contact sheets, neighbourhood purity and curves
#   make test   same environment plus test dependencies, run the test suite
# and for CI / contributors:
#   make lint   flake8 + isort (setup.cfg), run by .ci/run before the tests
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_CFG := configs/demo/byol_conr_digits.py
DEMO_DIR := work_dirs/demo

.PHONY: demo demo-figures test lint install clean

$(VENV)/.installed: setup.py requirements/runtime.txt requirements/tested.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# the exact versions CI tests (mmcv-lite included); ranges: runtime.txt
	$(PIP) install -r requirements/tested.txt
	# editable: also links mmconr/.mim/{configs,tools,model-index.yml} to the
	# clone's files (setup.py) so that mim finds them
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.tests: $(VENV)/.installed requirements/tests.txt requirements/mim.txt
	$(PIP) install -r requirements/tests.txt
	# openmim without its declared opendatalab/openxlab (requirements/mim.txt)
	$(PIP) install --no-deps -r requirements/mim.txt
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO_DIR)
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) "$$(cat $(DEMO_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_DIR) --out $(DEMO_DIR)/assignments.csv
	$(MAKE) --no-print-directory demo-figures

# What to look at, from the demo's last checkpoint: a contact sheet per
# cluster (most central first), neighbourhood purity (paper Fig. 2, at the
# paper's batch of 256 and the demo's 64) and the training curves.
demo-figures: $(VENV)/.installed
	$(PY) tools/analysis_tools/cluster_sheets.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --out-dir $(DEMO_DIR)/clustering
	$(PY) tools/analysis_tools/neighbor_purity.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --batch-sizes 256 64 \
		--out $(DEMO_DIR)/neighbor_purity.png
	$(PY) tools/analysis_tools/plot_curves.py $(DEMO_DIR) \
		--out $(DEMO_DIR)/curves.png

test: $(VENV)/.tests
	$(PY) -m pytest tests -q

# flake8 + isort with setup.cfg's settings (OpenMMLab's); CI runs it first
LINT_PATHS := mmconr tools tests configs setup.py
lint: $(VENV)/.tests
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)

clean:
	rm -rf $(VENV) work_dirs build dist mmconr.egg-info mmconr/.mim
