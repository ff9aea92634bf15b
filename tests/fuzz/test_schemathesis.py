"""API fuzzing with schemathesis: every operation of the OpenAPI document, against the
ASGI app, with valid tokens of the role each operation needs (tests/security/access_table).

Per operation:
1. the access table's valid request for it (so every operation's success answer, with
   real data, is checked against its documented schema; it must be a 2xx);
2. generated cases: positive and negative, with generated path values and with real ones
   (the test game, its readers, cards, players...) so that generated bodies and queries
   reach the endpoints' logic rather than a 404, plus the document's own examples.

Checks: no 5xx, only documented status codes and content types, bodies conforming to their
documented schemas, invalid input rejected. Deterministic (derandomized, no example
database) and bounded (MAX_EXAMPLES per operation; TAPTRAIL_FUZZ_EXAMPLES overrides).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kernel.settings import Settings
from taptrail.server import create_app
from tests.security.access_calls import Call
from tests.security.access_table import ALLOWED, RULES
from tests.security.world import World, build_world

MAX_EXAMPLES = int(os.environ.get("TAPTRAIL_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Operations that revoke tokens, in the order they run after every other operation.
REVOKING = (("POST", "/api/v1/me/logout"), ("DELETE", "/api/v1/admin/tokens/{token_id}"))
# The principal whose token an operation is fuzzed with: the most privileged it allows.
PREFERENCE = ("organiser", "player", "team_manager", "evaluator")


@dataclass
class Fuzz:
    world: World
    app: FastAPI
    erasable: int  # a player the organiser may hide and erase
    valid: dict[tuple[str, str], Call] = field(default_factory=dict)


def principal_for(method: str, path: str) -> str | None:
    allowed = ALLOWED[RULES[(method, path)].access]
    return next((p for p in PREFERENCE if p in allowed), None)


@pytest.fixture(scope="module")
async def prepared(app: FastAPI) -> AsyncIterator[tuple[World, int, dict[tuple[str, str], Call]]]:
    """The test world, and a valid request for every operation (made here, in the test
    session's event loop, as some need objects created first)."""
    world = await build_world(app)
    erasable = (await world.register("G"))["player_id"]
    valid = {}
    for key, rule in RULES.items():
        principal = principal_for(*key)
        if key[0] != "WS" and principal is not None:
            valid[key] = await rule.call(world, principal)
    yield world, erasable, valid


@pytest.fixture(scope="module")
def fuzz(
    settings: Settings, prepared: tuple[World, int, dict[tuple[str, str], Call]]
) -> Iterator[Fuzz]:
    """A second app on the same database, run by schemathesis in its own event loop."""
    application = create_app(settings)
    world, erasable, valid = prepared
    yield Fuzz(world, application, erasable, valid)
    asgi.shutdown_lifespans()


def real_path_values(f: Fuzz, path: str) -> dict[str, Any]:
    w = f.world
    values: dict[str, Any] = {
        "slug": w.slug,
        "reader_id": f"R-{w.slug}-C",
        "code": "SCH1",
        "number": "0000002",
        "player_id": f.erasable,
        "draw_id": w.draw_id,
        "wave": 1,
        "project": w.project,
        "file": "players",
        "name": "board.js",
    }
    return {k: v for k, v in values.items() if "{" + k + "}" in path}


def _path_parameters(template: str, url: str) -> dict[str, str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    found = re.fullmatch(pattern, url)
    assert found is not None, (template, url)
    return found.groupdict()


def _strategy(operation: Any, f: Fuzz, headers: dict[str, str]) -> Any:
    """Positive and negative cases, each with generated and with real path values, and
    the document's own examples (at the real path)."""
    real = real_path_values(f, operation.path)
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode, headers=headers))
        if real:
            strategies.append(
                operation.as_strategy(generation_mode=mode, path_parameters=real, headers=headers)
            )

    def at_real_path(case: schemathesis.Case) -> schemathesis.Case:
        if case.path_parameters is not None:
            case.path_parameters.update(real)
        return case

    examples = operation.schema.get_strategies_from_examples(operation)
    strategies += [example.map(at_real_path) for example in examples]
    return st.one_of(strategies)


def _report(method: str, path: str, exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    return f"{method} {path}: {exc}"[:2000]


def run_operation(operation: Any, f: Fuzz) -> list[str]:
    """Fuzzes one operation; the failures found (at most one per step)."""
    method, path = operation.method.upper(), operation.path
    principal = principal_for(method, path)
    headers = f.world.headers(principal) if principal else {}
    found: list[str] = []

    call = f.valid.get((method, path))
    if call is not None:
        case = operation.Case(
            path_parameters=_path_parameters(path, call.url),
            query=call.params or None,
            body=call.json if call.json is not None else schemathesis_not_set(),
            media_type="application/json" if call.json is not None else None,
        )
        try:
            response = case.call_and_validate(checks=CHECKS, headers=headers | call.headers)
            if not 200 <= response.status_code < 300:
                found.append(f"{method} {path}: valid request answered {response.status_code}")
        except BaseException as exc:  # noqa: BLE001 - collected for the report
            found.append(_report(method, path, exc))

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=_strategy(operation, f, headers))
    def fuzz_case(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, headers=headers)

    try:
        fuzz_case()
    except BaseException as exc:  # noqa: BLE001 - collected for the report
        found.append(_report(method, path, exc))
    return found


def schemathesis_not_set() -> Any:
    return NOT_SET


def _runs_late(operation: Any) -> int:
    """Operations that revoke tokens run after every other (generated cases may revoke the
    world's own tokens)."""
    key = (operation.method.upper(), operation.path)
    return REVOKING.index(key) + 1 if key in REVOKING else 0


def test_fuzz_every_operation(fuzz: Fuzz) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz.app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    documented = {(op.method.upper(), op.path) for op in operations}
    assert documented <= set(RULES), "fuzzing needs an access rule for every operation"
    operations.sort(key=_runs_late)
    failures = [failure for op in operations for failure in run_operation(op, fuzz)]
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
