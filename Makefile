# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
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

# training/all.py trains the default models on every core: the transfer lab's "CNN pretrained
# on a large dataset" (printed letters) beside the anomaly and CBOW models, then the transfer
# classifier, then the detector (its backbone comes from that classifier), each with the
# comparisons of its Model tab. `--missing` trains only the folders that are not there, so a
# second `make demo` starts in seconds.
demo: $(STAMP)
	$(PY) -m training.all --missing
	$(PY) spaces/serve.py

serve: $(STAMP)
	$(PY) spaces/serve.py

train: $(STAMP)
	$(PY) -m training.all

# Browser tests need Debian's chromium (Playwright's own download cannot reach its host).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium missing and not root: browser tests will be skipped"; fi; }

# pytest-xdist runs the suite on every core; --dist loadfile keeps a test file on one worker,
# so its module fixtures (a trained model, a running app) are built once.
TEST_WORKERS ?= auto
test: $(STAMP) browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

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
