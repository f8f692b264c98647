# Two verbs for a fresh machine:
#   make demo   create .venv if needed, install, train + evaluate on digits,
#               then contact sheets, neighbourhood purity and curves
#   make test   same environment plus test dependencies, run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_CFG := configs/demo/byol_conr_digits.py
DEMO_DIR := work_dirs/demo

.PHONY: demo demo-figures test install clean

$(VENV)/.installed: setup.py requirements/runtime.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# The CUDA build of torch runs on CPU too; pip takes it from local wheels
	# where a machine has them.
	$(PIP) install torch==2.14.1 torchvision==0.29.1
	$(PIP) install -r requirements/runtime.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.tests: $(VENV)/.installed requirements/tests.txt
	$(PIP) install -r requirements/tests.txt
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO_DIR)
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) "$$(cat $(DEMO_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_DIR) --out $(DEMO_DIR)/assignments.csv
	$(MAKE) --no-print-directory demo-figures

# What to look at, from the demo's last checkpoint: a contact sheet per
# cluster (most central first), neighbourhood purity (paper Fig. 2) and the
# training curves.
demo-figures: $(VENV)/.installed
	$(PY) tools/analysis_tools/cluster_sheets.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --out-dir $(DEMO_DIR)/clustering
	$(PY) tools/analysis_tools/neighbor_purity.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --out $(DEMO_DIR)/neighbor_purity.png
	$(PY) tools/analysis_tools/plot_curves.py $(DEMO_DIR) \
		--out $(DEMO_DIR)/curves.png

test: $(VENV)/.tests
	$(PY) -m pytest tests -q

clean:
	rm -rf $(VENV) work_dirs
