# cleancorpus: `make demo` and `make test` work on a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test demo lint format bench golden clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("cleancorpus needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -q

demo: install
	rm -rf out
	$(BIN)/cleancorpus clean sample_data -o out/docs --manifest out/manifest.jsonl
	@echo "cleaned documents: out/docs/   manifest: out/manifest.jsonl"

lint: install
	$(BIN)/ruff check cleancorpus tests bench
	$(BIN)/ruff format --check cleancorpus tests bench

format: install
	$(BIN)/ruff format cleancorpus tests bench
	$(BIN)/ruff check --fix cleancorpus tests bench

bench: install
	$(BIN)/python bench/run.py

golden: install
	$(BIN)/python tests/make_golden.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache .ruff_cache
