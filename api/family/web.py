"""The family site's page toolkit: rendering in the visitor's language, sessions and forms.

- ``Page``: the request's language (``i18n.choose``) with its translations; ``page.render``
  renders a Jinja2 template (autoescaped, gettext installed) inside ``layout.html`` with
  strict security headers, the same Content-Security-Policy as the console's;
- ``current``: the signed-in family account (cookie ``__Host-taptrail_family`` over
  HTTPS, ``taptrail_family`` over plain http; HttpOnly, SameSite=Lax), or None;
- forms are plain url-encoded posts, checked for the same origin and a CSRF token: the
  session's token when signed in, else an HMAC of a random pre-session cookie;
- ``FamilyPageProblem`` becomes a page in the visitor's language with its status;
- ``asset(name)``: the address of one of the site's static files, ``?v=`` its content's
  fingerprint, so that the file can be cached for a year and a changed file is fetched
  anew; vendored libraries are under ``vendor/`` in folders named with their version.

Cookies are strictly necessary only: the session, the pre-session form token and the
language chosen with the switch. No analytics, nothing set by a third party.
"""

from __future__ import annotations

import gettext
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.app_state import app_state
from api.console import web as console_web
from api.deps import Session
from api.family import i18n
from kernel.secrets_box import load_key
from people import family
from people.family_models import FamilyAccount, FamilySession

TEMPLATES = Path(__file__).parent / "templates"
# Partials shared with the console's layout (the footer).
SHARED_TEMPLATES = Path(__file__).parents[1] / "templates"
ASSETS = "/static/family"
STATIC = Path(__file__).resolve().parents[1] / "static"
GOVUK = f"{ASSETS}/vendor/govuk-frontend-{console_web.GOVUK_VERSION}"
LEAFLET = f"{ASSETS}/vendor/leaflet-1.9.4"
SESSION_COOKIE = "taptrail_family"
PRESESSION_COOKIE = "taptrail_family_form"
MAX_FORM_FIELDS = 30
HEADERS = console_web.HEADERS


@cache
def fingerprint(name: str) -> str:
    """The first 12 hex digits of the SHA-256 of a file of ``static/family``."""
    return hashlib.sha256((STATIC / "family" / name).read_bytes()).hexdigest()[:12]


def asset(name: str) -> str:
    return f"{ASSETS}/{name}?v={fingerprint(name)}"


def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES, SHARED_TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["day"] = lambda moment: format_date(moment, "EEEE d MMMM y", locale=language)
    env.filters["number"] = lambda value: format_decimal(value, locale=language)
    env.globals["asset"] = asset
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


_ENVS = {language: _environment(language) for language in i18n.LANGUAGES}


def render_bare(language: str, template: str, **values: Any) -> str:
    """A template of its own (not inside ``layout.html``) in ``language``: the hall board."""
    return _ENVS[language].get_template(template).render(**values)


class FamilyPageProblem(Exception):
    """A page that cannot be shown: ``message.html`` with this status (texts translated)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, base: str) -> str:
    return f"__Host-{base}" if secure(request) else base


def client_key(request: Request) -> str:
    return console_web.client_key(request)


@dataclass
class Signed:
    account: FamilyAccount
    row: FamilySession
    # Read once: a rollback (a refused form) expires the rows, and the page shown then
    # still needs the token without going back to the database.
    csrf_token: str = field(init=False)

    def __post_init__(self) -> None:
        self.csrf_token = self.row.csrf_token


@dataclass
class Page:
    """One request's language, and what every page needs to know about it."""

    request: Request
    language: str
    offered: tuple[str, ...]

    @property
    def tr(self) -> gettext.NullTranslations:
        return i18n.translations(self.language)

    def word(self, message: str) -> str:
        """A string marked for the catalogue where it is defined (``N_``), translated."""
        return self.tr.gettext(message)

    def _(self, message: str, **values: Any) -> str:
        text = self.tr.gettext(message)
        return text % values if values else text

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        signed: Signed | None = None,
        csrf_token: str = "",
        **values: Any,
    ) -> HTMLResponse:
        request = self.request
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        text = (
            _ENVS[self.language]
            .get_template(template)
            .render(
                lang=self.language,
                languages=[(code, i18n.NAMES[code]) for code in self.offered],
                here=here,
                govuk=GOVUK,
                assets=ASSETS,
                signed=signed,
                csrf_token=csrf_token or (signed.csrf_token if signed else ""),
                path=request.url.path,
                errors=values.pop("errors", []),
                notice=values.pop("notice", None),
                **values,
            )
        )
        response = HTMLResponse(text, status_code=status, headers=HEADERS)
        response.headers["Content-Language"] = self.language
        return response

    def anonymous(self, template: str, *, status: int = 200, **values: Any) -> Response:
        """A page with a form before sign-in: its CSRF token goes with a pre-session cookie."""
        value = self.request.cookies.get(cookie_name(self.request, PRESESSION_COOKIE))
        fresh = value is None or len(value) != 43
        if fresh:
            value = secrets.token_urlsafe(32)
        assert value is not None
        response = self.render(
            template, status=status, csrf_token=_presession_token(self.request, value), **values
        )
        if fresh:
            set_cookie(self.request, response, PRESESSION_COOKIE, value)
        return response


def page(request: Request, game_languages: list[str] | None = None) -> Page:
    offered = i18n.offered(game_languages)
    language = i18n.choose(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"), offered
    )
    return Page(request, language, offered)


# ---------------------------------------------------------------- responses and cookies


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def set_cookie(
    request: Request, response: Response, base: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        path="/",
        secure=secure(request),
        httponly=True,
        samesite="lax",
        max_age=max_age,
    )


def clear_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base), path="/", secure=secure(request), httponly=True, samesite="lax"
    )


def safe_next(value: str | None, default: str = "/family/") -> str:
    """A path of this site only, never another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


# ---------------------------------------------------------------- forms


def check_origin(p: Page) -> None:
    try:
        console_web.check_origin(p.request)
    except console_web.PageProblem:
        raise FamilyPageProblem(
            403,
            p._("This form came from another site"),
            p._(
                "The form was not sent from a page of this site. Open the page again and send it from there."
            ),
        ) from None


async def read_form(p: Page) -> dict[str, str]:
    kind = p.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FamilyPageProblem(
            415, p._("Not a form"), p._("This address takes a form sent from its page.")
        )
    try:
        text = (await p.request.body()).decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FamilyPageProblem(
            400, p._("Not a form"), p._("The form could not be read.")
        ) from None
    return {name: values[-1] for name, values in parsed.items()}


def _expired(p: Page) -> FamilyPageProblem:
    return FamilyPageProblem(
        403,
        p._("The form has expired"),
        p._(
            "Open the page again and send the form from it (perhaps you signed in or out in another tab)."
        ),
    )


def _form_key(request: Request) -> bytes:
    key: bytes | None = app_state(request).family_form_key
    if key is None:
        secret = load_key(app_state(request).settings)
        key = hmac.new(secret, b"taptrail-family-forms", "sha256").digest()
        app_state(request).family_form_key = key
    return key


def _presession_token(request: Request, value: str) -> str:
    return hmac.new(_form_key(request), value.encode(), "sha256").hexdigest()


async def signed_form(p: Page, signed: Signed) -> dict[str, str]:
    check_origin(p)
    form = await read_form(p)
    if not hmac.compare_digest(form.get("csrf_token", "").encode(), signed.csrf_token.encode()):
        raise _expired(p)
    return form


async def anonymous_form(p: Page) -> dict[str, str]:
    check_origin(p)
    form = await read_form(p)
    value = p.request.cookies.get(cookie_name(p.request, PRESESSION_COOKIE))
    if value is None or not hmac.compare_digest(
        form.get("csrf_token", "").encode(), _presession_token(p.request, value).encode()
    ):
        raise _expired(p)
    return form


# ---------------------------------------------------------------- who is signed in


async def current(request: Request, session: Session, now: datetime) -> Signed | None:
    """The live family session of this request, if any (``now``: the request's ``Now``)."""
    raw = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if not raw or len(raw) > 64:
        return None
    async with app_state(request).writing():
        found = await family.find_session(session, raw, now)
        await session.commit()
    if found is None:
        return None
    return Signed(found[1], found[0])


def signed_in_response(request: Request, raw: str, path: str) -> Response:
    response = redirect(path)
    set_cookie(request, response, SESSION_COOKIE, raw)
    return response


def install(app: FastAPI) -> None:
    async def _problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FamilyPageProblem)
        return page(request).render(
            "message.html", status=exc.status, title=exc.title, detail=exc.detail
        )

    app.add_exception_handler(FamilyPageProblem, _problem)
