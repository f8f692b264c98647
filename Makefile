# Two verbs for a fresh machine:
#   make demo   create .venv if needed, install, train + evaluate on digits,
#               then contact sheets, neighbourhood purity and curves
#   make test   same environment plus test dependencies, run the test suite
# and for CI / contributors:
#   make lint   flake8 + isort (setup.cfg), run by .ci/run before the tests
# and the measurements of docs/demo.md ("Does ConNR help?"), over seeds:
#   make digits-study   BYOL warm-up to epoch 100, then 5 seeds of BYOL and
#                       of each ConNR setting in configs/demo/study/ (~50 min)
#   make cifar-study    the same on the CIFAR-10 test images in
#                       $(CIFAR_TEST_DIR), 3 seeds (~40 min)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_CFG := configs/demo/byol_conr_digits.py
DEMO_DIR := work_dirs/demo
STUDY := configs/demo/study
DIGITS_STUDY_DIR := work_dirs/digits_study
CIFAR_STUDY_DIR := work_dirs/cifar_study
CIFAR_TEST_DIR ?= data/cifar10-test-jpg

.PHONY: demo demo-figures test lint install clean digits-study cifar-study

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
# cluster (most central first), neighbourhood purity (paper Fig. 2: the
# paper's k1/k2 = 10/2 at its batch of 256 and at the demo's 64) and the
# training curves.
demo-figures: $(VENV)/.installed
	$(PY) tools/analysis_tools/cluster_sheets.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --out-dir $(DEMO_DIR)/clustering
	$(PY) tools/analysis_tools/neighbor_purity.py $(DEMO_CFG) \
		"$$(cat $(DEMO_DIR)/last_checkpoint)" --batch-sizes 256 64 \
		--k1 10 --k2 2 --out $(DEMO_DIR)/neighbor_purity.png
	$(PY) tools/analysis_tools/plot_curves.py $(DEMO_DIR) \
		--out $(DEMO_DIR)/curves.png

# compare_runs.py reuses the runs an interrupted study already finished
$(DIGITS_STUDY_DIR)/warm/epoch_100.pth: | $(VENV)/.installed
	$(PY) tools/train.py configs/demo/byol_digits.py --work-dir $(DIGITS_STUDY_DIR)/warm \
		--cfg-options train_cfg.max_epochs=100 train_cfg.val_interval=1000 \
		default_hooks.checkpoint.interval=100

digits-study: $(DIGITS_STUDY_DIR)/warm/epoch_100.pth
	$(PY) tools/analysis_tools/compare_runs.py $(STUDY)/byol_digits_continued.py \
		$(STUDY)/byol_conr_digits_k10.py $(STUDY)/byol_conr_digits_k4.py \
		$(STUDY)/byol_conr_digits_k2.py $(STUDY)/byol_conr_digits_k4_official_loss.py \
		$(STUDY)/byol_conr_digits_k4_lr01.py $(STUDY)/byol_ln_digits_k4.py \
		--seeds 0 1 2 3 4 --load-from $< --out $(DIGITS_STUDY_DIR)/cmp

$(CIFAR_STUDY_DIR)/warm/epoch_30.pth: | $(VENV)/.installed
	$(PY) tools/train.py configs/demo/byol_cifar10_test.py --work-dir $(CIFAR_STUDY_DIR)/warm \
		--cfg-options train_cfg.max_epochs=30 \
		$(foreach l,train feature val test,$(l)_dataloader.dataset.data_root=$(CIFAR_TEST_DIR))

cifar-study: $(CIFAR_STUDY_DIR)/warm/epoch_30.pth
	$(PY) tools/analysis_tools/compare_runs.py configs/demo/byol_cifar10_test.py \
		configs/demo/byol_conr_cifar10_test.py --seeds 0 1 2 --load-from $< \
		--out $(CIFAR_STUDY_DIR)/cmp --cfg-options train_cfg.val_interval=1000 \
		$(foreach l,train feature val test,$(l)_dataloader.dataset.data_root=$(CIFAR_TEST_DIR))

test: $(VENV)/.tests
	$(PY) -m pytest tests -q

# flake8 + isort with setup.cfg's settings (OpenMMLab's); CI runs it first
LINT_PATHS := mmconr tools tests configs setup.py
lint: $(VENV)/.tests
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)

clean:
	rm -rf $(VENV) work_dirs build dist mmconr.egg-info mmconr/.mim
