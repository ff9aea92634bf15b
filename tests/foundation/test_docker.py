"""The Dockerfile, docker-compose.yml, .dockerignore and docs/deploying/docker.md agree.

No Docker engine is needed: the files are read as text and YAML, and what one of them
promises (a folder, a volume, a service, a package) is looked for in the others.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
IGNORE = [
    line.strip()
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
PAGE = (ROOT / "docs" / "deploying" / "docker.md").read_text(encoding="utf-8")


def _api_mounts() -> dict[str, str]:
    """Container path -> host folder or volume name, for the API service."""
    mounts = {}
    for entry in COMPOSE["services"]["api"]["volumes"]:
        source, target = entry.split(":")[:2]
        mounts[target] = source
    return mounts


def test_every_package_is_copied_into_the_image() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.M))
    assert packages == copied


def test_the_image_runs_as_a_user_who_owns_its_folders() -> None:
    assert re.search(r"^USER taptrail$", DOCKERFILE, re.M)
    assert re.search(r"^WORKDIR /data$", DOCKERFILE, re.M)
    assert "chown -R taptrail:taptrail /data" in DOCKERFILE
    for target in _api_mounts():
        assert target in DOCKERFILE, f"the image does not create {target}"


def test_every_mount_is_documented() -> None:
    for target, source in _api_mounts().items():
        shown = f"`{source}`" if source.startswith("./") else f"volume `{source}`"
        assert f"| {shown} | `{target}`" in PAGE, f"{source}:{target} is not in the docs' table"


def test_named_volumes_are_declared() -> None:
    declared = set(COMPOSE["volumes"])
    for service in COMPOSE["services"].values():
        for entry in service.get("volumes", []):
            source = entry.split(":")[0]
            if not source.startswith(("./", "/")):
                assert source in declared


def test_documented_commands_name_a_service_of_the_compose_file() -> None:
    services = set(re.findall(r"docker compose (?:exec(?: -T)?|run --rm) (\w+)", PAGE))
    assert services and services <= set(COMPOSE["services"])


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    for heavy in (".git", ".venv", "tests", "bench", "docs", "*.db"):
        assert heavy in IGNORE
    for needed in ("pyproject.toml", "README.md", "taptrail", "api"):
        assert needed not in IGNORE


def test_compose_file_suits_both_compose_commands() -> None:
    # Compose v2 and docker-compose 1.27+ read the Compose Specification: no top-level
    # version key is needed, and both accept the service-health conditions used here.
    assert "version" not in COMPOSE
    for service in COMPOSE["services"]["api"]["depends_on"].values():
        assert service["condition"] == "service_healthy"
