# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APPS := anomaly cbow transfer
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help install demo serve train test browser bench lint format

help:
	@echo "make demo   set up, train missing default models, serve all three apps"
	@echo "make test   set up and run the whole test suite"
	@echo "make train  retrain the pretrained source and the default models into artifacts/"
	@echo "make bench  run the benchmarks into benchmarks/results/"
	@echo "make lint   ruff check and format check"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Train a default model only when its folder is missing, so a second `make demo` starts fast.
artifacts/%/config.json: | $(STAMP)
	$(PY) -m training.$* --out artifacts/$*

# The transfer lab's "CNN pretrained on a large dataset": printed letters, trained once, reused.
artifacts/pretrained/config.json: | $(STAMP)
	$(PY) -m training.pretrain --out artifacts/pretrained
artifacts/transfer/config.json: | artifacts/pretrained/config.json

demo: $(STAMP) $(foreach app,$(APPS),artifacts/$(app)/config.json)
	$(PY) spaces/serve.py

serve: $(STAMP)
	$(PY) spaces/serve.py

train: $(STAMP)
	$(PY) -m training.pretrain --out artifacts/pretrained
	for app in $(APPS); do $(PY) -m training.$$app --out artifacts/$$app || exit 1; done

# Browser tests need Debian's chromium (Playwright's own download cannot reach its host).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium missing and not root: browser tests will be skipped"; fi; }

test: $(STAMP) browser
	$(PY) -m pytest

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .
