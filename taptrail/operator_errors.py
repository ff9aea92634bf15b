"""What went wrong, in one line an operator can act on.

:func:`explain` turns the failures an installation meets before it does any real work (a
database that is down, refuses the role or lacks the database; a Redis that is down; a
setting with a value it does not accept) into a sentence: what failed, the likely cause and
what to do. Anything else is not explained here (``None``): it is a defect, and the command
line shows it as one, with the traceback behind ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ValidationError
from sqlalchemy.engine import make_url


class OperatorError(Exception):
    """A failure whose message already says what to do."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy keeps the driver's error here
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )


def _where(database_url: str) -> str:
    try:
        url = make_url(database_url)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported by the settings
        return "the database"
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return f"the database at {url.host or 'localhost'}:{url.port or 5432}"


def _settings_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = "TAPTRAIL_" + "_".join(str(p) for p in error["loc"]).upper()
        message = str(error.get("ctx", {}).get("error") or error["msg"])
        parts.append(f"{name}: {message}")
    return "invalid setting " + "; ".join(parts)


def explain(exc: BaseException, *, database_url: str = "", redis_url: str = "") -> str | None:
    """One line for a failure an operator can fix, or None for anything else."""
    for err in _chain(exc):
        if isinstance(err, OperatorError):
            return str(err)
        if isinstance(err, ValidationError) and err.title == "Settings":
            return _settings_error(err)
        name = type(err).__name__
        module = type(err).__module__
        if name == "InvalidAuthorizationSpecificationError":  # asyncpg: no such role
            return (
                f"{_where(database_url)} refused the connection: {err}. Create the role "
                "(CREATE ROLE name LOGIN PASSWORD '...') or fix the user in TAPTRAIL_DATABASE_URL"
            )
        if name == "InvalidPasswordError":
            return (
                f"{_where(database_url)} refused the password: fix the password in "
                "TAPTRAIL_DATABASE_URL or the server's pg_hba.conf"
            )
        if name == "InvalidCatalogNameError":
            return (
                f"{_where(database_url)} answered: {err}. Create it (createdb --owner=ROLE "
                "NAME) or fix the database name in TAPTRAIL_DATABASE_URL"
            )
        if module.startswith("redis") and name in {"ConnectionError", "TimeoutError"}:
            return (
                f"cannot reach Redis at {redis_url or 'the configured address'}: is it "
                "running? Check TAPTRAIL_REDIS_URL, or unset it for in-process boards"
            )
        if isinstance(err, ConnectionRefusedError | TimeoutError) or (
            isinstance(err, OSError) and err.errno in {111, 113, -2, -3, -5}
        ):
            return (
                f"cannot reach {_where(database_url)} ({err.strerror or err}): is the server "
                "running and listening there? Check TAPTRAIL_DATABASE_URL"
            )
        if name == "OperationalError" and module.startswith("sqlite3"):
            return (
                f"{_where(database_url)} cannot be used: {err}. Check the path and its permissions"
            )
    return None
