# runner: everything installs itself idempotently (Debian 12, as root or with sudo).
#   make demo   run the demo batch (3 explainer videos, offline model) on the embedded Temporal
#   make test   run the test suite (real Temporal dev server, real manim and ffmpeg; headless chromium)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system lint docs bench clean

demo: setup
	$(BIN)/runner submit configs/examples/demo.yaml --wait

# Two tests at a time (these machines have two cores; most tests wait on servers and processes),
# then, alone, the few that check the whole machine (no sandbox process left anywhere).
test: setup
	@bash scripts/install-system-deps.sh --test
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not exclusive" --durations=40
	$(BIN)/python -m pytest -m exclusive --durations=5

setup: system $(STAMP)

system:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "runner needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check runner jobs tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/embedded_server.py
	$(BIN)/python bench/ratelimit.py
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/gallery.py
	$(BIN)/python bench/narration.py
	$(BIN)/python bench/regenerate.py
	$(BIN)/python bench/delivery.py

docs: setup
	$(BIN)/python -m runner.dev.docgen

# Re-record the histories the replay test checks (only when a workflow change is meant to be
# incompatible with running workflows; see tests/histories/record.py).
histories: setup
	$(BIN)/python -m tests.histories.record

clean:
	-test -x $(BIN)/runner && $(BIN)/runner server stop
	rm -rf out .runner .pytest_cache .mypy_cache .ruff_cache
