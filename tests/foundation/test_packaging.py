"""The compose file, the settings and the README agree."""

from __future__ import annotations

from pathlib import Path

import yaml

from kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_and_variables_match_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"postgres", "redis", "api"} <= set(compose["services"])
    api = compose["services"]["api"]
    fields = {f"TAPTRAIL_{name.upper()}" for name in Settings.model_fields}
    env = set(api["environment"])
    assert env <= fields, f"unknown variables in compose: {env - fields}"
    assert {"TAPTRAIL_DATABASE_URL", "TAPTRAIL_REDIS_URL", "TAPTRAIL_SECRET_KEY"} <= env
    assert api["environment"]["TAPTRAIL_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:" in api["environment"]["TAPTRAIL_DATABASE_URL"]
    assert api["environment"]["TAPTRAIL_REDIS_URL"].startswith("redis://redis:")
    for dep in ("postgres", "redis"):
        assert api["depends_on"][dep]["condition"] == "service_healthy"
        assert "healthcheck" in compose["services"][dep]
    assert "healthcheck" in api


def test_readme_shows_the_two_commands_and_where_the_docs_are() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    for page in ("docs/index.md", "docs/deploying/configuration.md", "docs/reader-protocol.md"):
        assert f"({page})" in readme and (ROOT / page).exists()
    # Every setting is documented on the configuration page (tests/docs checks it).


def test_settings_defaults() -> None:
    s = Settings(_env_file=None)
    assert s.database_url == "sqlite+aiosqlite:///./taptrail.db"
    assert s.redis_url is None
