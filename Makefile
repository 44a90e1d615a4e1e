# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APPS := anomaly cbow transfer
# Default models: one per app, plus the detector of the transfer app's Detect tab.
MODELS := $(APPS) detect
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help install demo serve train test browser bench lint format mutate

help:
	@echo "make demo   set up, train missing default models, serve all three apps"
	@echo "make test   set up and run the whole test suite"
	@echo "make train  retrain the pretrained source and the default models into artifacts/"
	@echo "make bench  run the benchmarks into benchmarks/results/"
	@echo "make lint   ruff check and format check"
	@echo "make mutate mutation testing of the core modules (slow; not part of make test)"

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
# The detector's backbone comes from the transfer lab's classifier (see training/detect.py).
artifacts/detect/config.json: | artifacts/transfer/config.json

demo: $(STAMP) $(foreach model,$(MODELS),artifacts/$(model)/config.json)
	$(PY) spaces/serve.py

serve: $(STAMP)
	$(PY) spaces/serve.py

train: $(STAMP)
	$(PY) -m training.pretrain --out artifacts/pretrained
	for app in $(MODELS); do $(PY) -m training.$$app --out artifacts/$$app || exit 1; done

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

# Mutation testing with mutmut (config: [tool.mutmut] in pyproject.toml), in a copy of the
# working tree so its mutants/ folder never meets git or ruff. Not run in CI: the three CBOW
# modules alone are 788 mutants, 35 to 46 minutes on 2 busy cores. Pick mutants by name, e.g.
# `make mutate MUTANTS='shared.cbow.*'`; `mutmut browse` in $(MUTATE_DIR) shows the survivors.
MUTATE_DIR ?= /tmp/dl-labs-mutate
MUTANTS ?=
mutate: $(STAMP)
	rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(MUTATE_DIR)
	cd $(MUTATE_DIR) && nice -n 5 $(abspath $(PY)) -m mutmut run --max-children 2 $(MUTANTS); \
	  $(abspath $(PY)) -m mutmut results --all true | awk '{ m = $$1; sub(/\.[^.]*$$/, "", m); \
	    n[m]++; k[m] += ($$2 == "killed") } END { for (m in n) \
	    printf "%-28s %4d of %4d killed (%5.1f%%)\n", m, k[m], n[m], 100 * k[m] / n[m] }'
