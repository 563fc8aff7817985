# GAN Music Studio: two commands do all set-up.
#   make demo   install what the app needs and serve it on http://127.0.0.1:8501
#   make test   install what the tests need and run the whole suite
# A second run reinstalls nothing that is current: each install step leaves a stamp named after the hash
# of the requirements files it installed.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501

RUN_HASH := $(shell cat requirements.txt | sha256sum | cut -c1-16)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
RUN_STAMP := $(VENV)/.stamp-run-$(RUN_HASH)
DEV_STAMP := $(VENV)/.stamp-dev-$(DEV_HASH)

.PHONY: demo test setup setup-dev system-deps system-deps-test lint format bench clean

demo: setup system-deps
	$(PY) -m streamlit run streamlit_app.py --server.address $(HOST) --server.port $(PORT)

test: setup-dev system-deps-test lint
	$(PY) -m pytest

setup: $(RUN_STAMP)

setup-dev: $(DEV_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.stamp-run-*
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.stamp-dev-* $(VENV)/.stamp-run-*
	touch $@ $(RUN_STAMP)

system-deps:
	@bash scripts/install_system_deps.sh fluidsynth

system-deps-test:
	@bash scripts/install_system_deps.sh fluidsynth chromium

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) benchmarks/bench_io.py

clean:
	rm -rf .cache .pytest_cache .ruff_cache .hypothesis
