"""Typed settings, read once at the edge (CLI start-up or app factory) from TECHMATCH_* variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.config import DEFAULT_ENCODER

DEFAULT_SECRET = "dev-only-change-me"
MIN_SECRET_LENGTH = 32


class InsecureSecretError(RuntimeError):
    """The service would sign tokens with a secret anyone can know (the documented default)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TECHMATCH_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="SQLite file, FAISS index and caches live here")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under data_dir"
    )
    encoder: str = Field(
        default=DEFAULT_ENCODER,
        description="encoder name: hashing, e5-small, e5-small-st, use-m3, st:<path>, model:default or model:<version> (the model registry)",
    )
    index_backend: str = Field(default="faiss-flat", description="faiss-flat | faiss-hnsw | numpy | milvus")
    milvus_uri: str | None = Field(
        default=None,
        description="Milvus server (http://host:19530) or Milvus Lite file; default: milvus.db under data_dir",
    )
    encoder_threads: int = Field(default=1, ge=1, le=64)
    search_threads: int = Field(
        default=1, ge=1, le=64, description="FAISS threads; a one-row search is slower on two"
    )
    encoder_batch_size: int = Field(default=32, ge=1, le=1024)
    suggestions_per_posting: int = Field(default=10, ge=1, le=100)
    secret_key: str = Field(default=DEFAULT_SECRET, description="signs access tokens and console sessions")
    dev_mode: bool = Field(
        default=False, description="development mode: the documented default secret is allowed (make run)"
    )
    token_minutes: int = Field(default=120, ge=1)
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    follow_changes: bool = Field(
        default=True, description="follow the posting change feed (several workers agree within a second)"
    )
    change_poll_seconds: float = Field(default=0.25, gt=0, le=60, description="change-feed poll interval")
    jobs_in_process: bool = Field(
        default=True, description="run durable jobs in the API process too (off when job workers run)"
    )
    job_lease_seconds: int = Field(
        default=30, ge=2, le=3600, description="a silent job runner loses its job after this"
    )
    workers: int = Field(default=1, ge=1, le=64, description="API worker processes of `techmatch serve`")
    host: str = "127.0.0.1"
    port: int = 8000

    def check_secret(self) -> None:
        """Refuse to serve with the documented default (or a short) secret outside development mode:
        anyone could sign an administrator's token with it."""
        if self.dev_mode:
            return
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise InsecureSecretError(
                "TECHMATCH_SECRET_KEY 未设置或过短（至少 32 个字符）；默认密钥只能在开发模式下使用"
                "（TECHMATCH_DEV_MODE=1，make run 会设置）"
            )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'techmatch.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"
