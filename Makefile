# The two commands of the quickstart: `make demo` and `make test`. Both set up .venv when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test demo bench soak fuzz setup lint typecheck docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip check
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src/rtscope

test: $(STAMP)
	$(MAKE) --no-print-directory lint typecheck
	sh scripts/ensure_chromium.sh
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) -m rtscope demo

bench: $(STAMP)
	$(PY) bench/run_all.py

soak: $(STAMP)
	$(PY) -m pytest -q -s -m slow tests/soak

# Coverage-guided fuzzing (atheris), FUZZ_SECONDS per target; corpora kept in .fuzz/ between runs.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	for t in reader importers analyzer; do \
	  $(PY) tests/fuzz/atheris_targets.py $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    --seed-corpus .fuzz/$$t || exit 1; \
	done

docs: $(STAMP)
	$(PY) -m rtscope rules --markdown > docs/rules.md
	$(PY) scripts/gen_cli_docs.py > docs/cli.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build dist
