"""The console's page toolkit, for every server-rendered staff page.

- ``render``: a Jinja2 template (autoescaped) inside the GOV.UK Frontend layout
  (``layout.html``; form macros in ``macros.html``), with strict security headers;
- ``require_staff(*roles)``: a dependency giving the signed-in ``StaffContext``; without a
  live session the browser is sent to ``/login`` (303), with the wrong role it gets 403;
- ``console_form(request, ctx)``: every POST of the console: a same-origin check (Origin,
  else Referer) and the session's synchroniser CSRF token (hidden field ``csrf_token``);
  ``anonymous_form`` does the same for the forms before sign-in (login, reset, invitation),
  whose token is an HMAC of a random pre-session cookie;
- cookies: ``__Host-taptrail_session`` (Secure) over HTTPS, ``taptrail_session`` over
  plain http (localhost, tests, the demo); both HttpOnly, SameSite=Lax, Path=/.

Forms are plain ``application/x-www-form-urlencoded`` posts: every page works without
JavaScript. A ``PageProblem`` becomes an HTML page with its status.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import service
from accounts.staff.models import StaffSession, StaffUser
from api.app_state import app_state
from api.deps import Now
from api.transaction import Transaction, Tx
from kernel.mail import Mailer, mailer_for
from kernel.secrets_box import SecretBox, load_key

GOVUK_VERSION = "5.14.0"
ASSETS = "/static/console"
GOVUK = f"{ASSETS}/vendor/govuk-frontend-{GOVUK_VERSION}"
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_FIELDS = 20


@dataclass(frozen=True)
class GamePage:
    """One page of a game in the game navigation (``game_nav.html``): its path after
    ``/console/games/{slug}`` and the roles whose ``require_staff`` lets them open it, so the
    navigation shows each person only the links they may follow."""

    path: str
    label: str
    roles: tuple[str, ...] = ("organiser",)


GAME_PAGES = (
    GamePage("", "Overview"),
    GamePage("/setup", "Set-up"),
    GamePage("/campaigns", "Campaigns"),
    GamePage("/boxes", "Boxes"),
    GamePage("/help-desk", "Help desk"),
    GamePage("/people", "People"),
    GamePage("/draws", "Draws"),
    GamePage("/evaluation", "Evaluation", ("organiser", "evaluator")),
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader([TEMPLATES, TEMPLATES.parents[1] / "templates"]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def game_pages_for(role: str) -> list[GamePage]:
    return [page for page in GAME_PAGES if role in page.roles]


_env.globals["game_pages_for"] = game_pages_for

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class PageProblem(Exception):
    """A page that cannot be shown: rendered as ``message.html`` with this status."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class StaffContext:
    user: StaffUser
    staff_session: StaffSession
    scope: service.Scope = field(init=False)

    def __post_init__(self) -> None:
        self.scope = service.Scope.of(self.user)

    @property
    def csrf_token(self) -> str:
        return self.staff_session.csrf_token


# ---------------------------------------------------------------- request facts


def secure(request: Request) -> bool:
    """HTTPS (uvicorn applies X-Forwarded-Proto from trusted proxies to the scheme)."""
    return request.url.scheme == "https"


def cookie_name(request: Request, base: str) -> str:
    return f"__Host-{base}" if secure(request) else base


def client_key(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return hashlib.sha256(f"taptrail-staff-client:{host}".encode()).hexdigest()


def timeouts(request: Request) -> service.Timeouts:
    settings = app_state(request).settings
    return service.Timeouts(
        idle=timedelta(minutes=settings.staff_idle_minutes),
        absolute=timedelta(hours=settings.staff_absolute_hours),
    )


def box(request: Request) -> SecretBox:
    sealed: SecretBox = app_state(request).secret_box
    return sealed


def mailer(request: Request) -> Mailer:
    found: Mailer | None = app_state(request).mailer
    if found is None:
        found = mailer_for(app_state(request).settings)
        app_state(request).mailer = found
    return found


def link(request: Request, path: str) -> str:
    """An absolute link for an e-mail or to copy (``TAPTRAIL_PUBLIC_URL`` when set)."""
    base = app_state(request).settings.public_url or str(request.base_url)
    return base.rstrip("/") + path


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path of this site only, never another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"


# ---------------------------------------------------------------- responses


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    ctx: StaffContext | None = None,
    csrf_token: str | None = None,
    **values: Any,
) -> HTMLResponse:
    page = _env.get_template(template).render(
        govuk=GOVUK,
        assets=ASSETS,
        ctx=ctx,
        user=ctx.user if ctx else None,
        csrf_token=csrf_token if csrf_token is not None else (ctx.csrf_token if ctx else ""),
        path=request.url.path,
        role_names=service.ROLE_NAMES,
        errors=values.pop("errors", []),
        notice=values.pop("notice", None),
        **values,
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def errors_of(exc: Exception) -> list[dict[str, str]]:
    """A domain error as the error summary's list: its sentence for the first field (or
    alone), then any further fields with their own message."""
    detail = str(getattr(exc, "detail", exc))
    first = detail[:1].upper() + detail[1:]
    fields = getattr(exc, "fields", None) or []
    if not fields:
        return [{"field": "", "message": first}]
    return [
        {"field": f["field"], "message": first if i == 0 else f"{f['field']} {f['message']}"}
        for i, f in enumerate(fields)
    ]


def set_cookie(request: Request, response: Response, base: str, value: str) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        path="/",
        secure=secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base), path="/", secure=secure(request), httponly=True, samesite="lax"
    )


SESSION_COOKIE = "taptrail_session"
PRESESSION_COOKIE = "taptrail_presession"


def start_session_response(request: Request, raw_id: str, path: str) -> Response:
    response = redirect(path)
    set_cookie(request, response, SESSION_COOKIE, raw_id)
    return response


# ---------------------------------------------------------------- forms and CSRF


def check_origin(request: Request) -> None:
    """A POST must come from a page of this site (Origin, else Referer)."""
    expected = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    if origin is not None:
        ok = origin == expected
    elif referer is not None:
        ok = referer == expected or referer.startswith(expected + "/")
    else:
        ok = False
    if not ok:
        raise PageProblem(
            403,
            "This form came from another site",
            "The form was not sent from a page of this site, so it was refused. Open the "
            "page again here and send the form from it.",
        )


async def read_form(request: Request, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """A form's fields (the last value of a repeated name); more than ``max_fields`` fields
    is refused whole (400), so a client cannot make the server parse thousands."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise PageProblem(415, "Not a form", "This address takes a form sent from its page.")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PageProblem(400, "Not a form", "The form could not be read.") from exc
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=max_fields)
    except ValueError as exc:
        raise PageProblem(
            400,
            "The form is too long",
            f"The form had more than {max_fields} fields, so nothing in it was used. Open the "
            "page again and send the form from it.",
        ) from exc
    return {name: values[-1] for name, values in parsed.items()}


def _bad_token() -> PageProblem:
    return PageProblem(
        403,
        "The form has expired",
        "The form's security token is missing or out of date (perhaps you signed in or out "
        "in another tab). Open the page again and send the form from it.",
    )


async def console_form(
    request: Request, ctx: StaffContext, *, max_fields: int = MAX_FORM_FIELDS
) -> dict[str, str]:
    """A console POST's fields, after the same-origin and CSRF checks (403 otherwise); a form
    with many fields by design (one per box) says how many it may have."""
    check_origin(request)
    form = await read_form(request, max_fields)
    if not hmac.compare_digest(form.get("csrf_token", "").encode(), ctx.csrf_token.encode()):
        raise _bad_token()
    return form


def _form_key(request: Request) -> bytes:
    key: bytes | None = app_state(request).staff_form_key
    if key is None:
        key = hmac.new(load_key(app_state(request).settings), b"taptrail-forms", "sha256").digest()
        app_state(request).staff_form_key = key
    return key


def _presession_token(request: Request, value: str) -> str:
    return hmac.new(_form_key(request), value.encode(), "sha256").hexdigest()


def anonymous_page(
    request: Request, template: str, *, status: int = 200, **values: Any
) -> Response:
    """A page with a form before sign-in: its CSRF token goes with a pre-session cookie."""
    value = request.cookies.get(cookie_name(request, PRESESSION_COOKIE))
    fresh = value is None or len(value) != 43
    if fresh:
        value = secrets.token_urlsafe(32)
    assert value is not None
    response = render(
        request, template, status=status, csrf_token=_presession_token(request, value), **values
    )
    if fresh:
        set_cookie(request, response, PRESESSION_COOKIE, value)
    return response


async def anonymous_form(request: Request) -> dict[str, str]:
    check_origin(request)
    form = await read_form(request)
    value = request.cookies.get(cookie_name(request, PRESESSION_COOKIE))
    if value is None or not hmac.compare_digest(
        form.get("csrf_token", "").encode(), _presession_token(request, value).encode()
    ):
        raise _bad_token()
    return form


# ---------------------------------------------------------------- who is signed in


async def current(tx: Transaction, now: datetime) -> StaffContext | None:
    """The live staff session of this request (stage ``signed_in`` or ``code``), if any."""
    request = tx.request
    raw = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if not raw or len(raw) > 64:
        return None
    async with tx.write() as session:
        found = await service.find_session(session, raw, now, timeouts(request))
    if found is None:
        return None
    return StaffContext(found[1], found[0])


async def undo(session: AsyncSession, ctx: StaffContext | None = None) -> None:
    """Rolls back a failed change and reloads the signed-in account for the error page."""
    await session.rollback()
    if ctx is not None:
        await session.refresh(ctx.user)
        await session.refresh(ctx.staff_session)


def require_staff(*roles: str) -> Callable[..., Awaitable[StaffContext]]:
    """Dependency: the signed-in staff member (any role, or one of ``roles``)."""

    async def dependency(request: Request, tx: Tx, now: Now) -> StaffContext:
        ctx = await current(tx, now)
        if ctx is None or ctx.staff_session.stage != service.SIGNED_IN:
            raise SignInRequired(request.url.path)
        if roles and ctx.user.role not in roles:
            names = " or ".join(service.ROLE_NAMES[r].lower() + "s" for r in roles)
            raise PageProblem(403, "You cannot open this page", f"This page is for {names}.")
        return ctx

    return dependency


def install(app: FastAPI) -> None:
    """The console's exception handlers: sign-in redirects and HTML problem pages."""

    async def _sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return redirect("/login?next=" + quote(safe_next(exc.next_path), safe="/"))

    async def _problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageProblem)
        ctx = None
        return render(
            request, "message.html", status=exc.status, ctx=ctx, title=exc.title, detail=exc.detail
        )

    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageProblem, _problem)
