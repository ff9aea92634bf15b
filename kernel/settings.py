"""Process settings, read once from the environment (prefix ``TAPTRAIL_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./taptrail.db"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_OFF = frozenset({"", "none", "off", "false", "no"})
DEFAULT_GAME_FILE_BYTES = 64 << 20  # a game definition file with a town's printed card stock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAPTRAIL_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///... or postgresql+asyncpg://...",
    )
    redis_url: str | None = Field(
        None, description="redis://... for shared leaderboards and fan-out; none = in-process"
    )
    redis_max_connections: int = Field(
        50,
        ge=2,
        description=(
            "Redis connections per process (one pool; the change-notice subscription holds "
            "one). When all are busy a command waits for one instead of failing"
        ),
    )
    redis_pool_timeout_s: float = Field(
        5.0,
        gt=0,
        description="Seconds a Redis command waits for a free pooled connection before failing",
    )
    redis_prefix: str = Field(
        "tt",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description=(
            "Prefix of every Redis key and channel of this installation, so that two "
            "installations can share one Redis (1-32 letters, digits, _ or -)"
        ),
    )
    secret_key: str | None = Field(
        None,
        description=(
            "Key that encrypts reader secrets at rest (Fernet, 44 base64 chars). "
            "If unset, a key file next to the working directory is created and reused."
        ),
    )
    secret_key_file: str = Field("./taptrail.key", description="Where the generated key lives")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR"
    )
    log_json: bool = Field(False, description="Structured JSON logs (one object a line)")
    map_tiles_url: str | None = Field(
        OSM_TILES,
        description=(
            "Tile URL template (https, with {z}, {x} and {y}) for the public map page and the "
            "console's maps, shown with OpenStreetMap's attribution; none = no external tiles "
            "(boxes are drawn on a blank background)"
        ),
    )
    max_body_bytes: int = Field(262_144, description="Largest reader upload body")
    max_game_file_bytes: int = Field(
        DEFAULT_GAME_FILE_BYTES,
        description=(
            "Largest game definition file (PUT /api/v1/admin/games/{slug}); read only after "
            "the organiser's token is checked"
        ),
    )
    db_pool_size: int = Field(10, description="PostgreSQL connection pool size per process")
    scorer_partitions: int = Field(
        1,
        ge=1,
        description=(
            "Partitions of each game's holders for scoring: with more than one, the scoring "
            "rounds of several server processes run side by side on different partitions "
            "(give every process the same number, about the number of processes)"
        ),
    )
    ws_compression: bool = Field(
        False,
        description=(
            "permessage-deflate on live-board WebSockets. Off by default: every socket has "
            "its own compressor, so one board update sent to 1,000 screens is compressed "
            "1,000 times, and a board message is a few kilobytes"
        ),
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description=(
            "Proxies trusted to set X-Forwarded-For (comma-separated, or *): behind a load "
            "balancer, per-client rate limits need the real client address"
        ),
    )
    periodic_jobs: bool = Field(
        True, description="Run housekeeping (lucky draws, e-mail retention) in this process"
    )

    staff_idle_minutes: int = Field(
        30, ge=1, description="A console session ends after this many minutes without a request"
    )
    staff_absolute_hours: int = Field(
        12, ge=1, description="A console session ends this many hours after sign-in, whatever"
    )
    public_url: str | None = Field(
        None,
        description=(
            "The address people open the console at (https://taptrail.example.org), for "
            "links in e-mails; none = the address of the request"
        ),
    )
    smtp_host: str | None = Field(
        None, description="Mail server for invitations and password resets; none = no e-mail"
    )
    smtp_port: int = Field(587, description="Mail server port")
    smtp_user: str | None = Field(None, description="Mail server user name, if it needs one")
    smtp_password: str | None = Field(None, description="Mail server password, if it needs one")
    smtp_from: str = Field("taptrail@localhost", description="The From address of the e-mails")
    smtp_starttls: bool = Field(
        True, description="Upgrade the mail connection with STARTTLS (turn off only on localhost)"
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_driver(cls, value: object) -> object:
        """``postgres://`` and ``postgresql://`` are PostgreSQL through asyncpg, ``sqlite://``
        is SQLite through aiosqlite: the async drivers are the only ones installed."""
        if not isinstance(value, str):
            return value
        scheme, sep, rest = value.partition("://")
        if not sep:
            raise ValueError(
                f"'{value}' is not a database URL: use postgresql://... or sqlite:///..."
            )
        drivers = {
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
            "postgresql+asyncpg": "postgresql+asyncpg",
            "sqlite": "sqlite+aiosqlite",
            "sqlite+aiosqlite": "sqlite+aiosqlite",
        }
        if scheme.lower() not in drivers:
            raise ValueError(
                f"the scheme '{scheme}' is not supported: use postgresql://user@host/db "
                "(or postgres://) or sqlite:///path"
            )
        return f"{drivers[scheme.lower()]}://{rest}"

    @field_validator("map_tiles_url", mode="before")
    @classmethod
    def _tiles(cls, value: object) -> object:
        """``none`` (or empty, ``off``) turns tiles off; otherwise an https template, since
        a page served over https cannot load http images and the CSP names the host."""
        if value is None or (isinstance(value, str) and value.strip().lower() in TILES_OFF):
            return None
        if isinstance(value, str):
            value = value.strip()
            if not value.startswith("https://") or not all(
                f"{{{part}}}" in value for part in "zxy"
            ):
                raise ValueError(
                    f"'{value}' is not a tile URL template: use https://host/{{z}}/{{x}}/{{y}}.png "
                    "or none"
                )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        if isinstance(value, str) and value.upper() in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            return value.upper()
        if isinstance(value, str):
            raise ValueError(f"'{value}' is not a log level: use DEBUG, INFO, WARNING or ERROR")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
