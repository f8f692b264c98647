# Two verbs for a fresh machine:
#   make demo   create .venv if needed, install, train + evaluate on digits
#   make test   same environment plus test dependencies, run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_CFG := configs/demo/byol_conr_digits.py
DEMO_DIR := work_dirs/demo

.PHONY: demo test install clean

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

test: $(VENV)/.tests
	$(PY) -m pytest tests -q

clean:
	rm -rf $(VENV) work_dirs
