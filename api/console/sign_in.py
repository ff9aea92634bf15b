"""Pages before the console: sign in (and its code step), sign out, accepting an invitation,
resetting a password, the accessibility statement, and the console's static files.

Every form is CSRF-protected (``web.anonymous_form`` before sign-in, the session's token
after) and posts back to its own address; a mistake re-renders the form with an error
summary and the status (400 for a bad value, 401 for a wrong password, 429 with
Retry-After while throttled).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from accounts.staff import invitations, service, throttle
from api.console import web
from api.deps import Now, Session
from api.transaction import Tx
from kernel.errors import Invalid, NotFound, TaptrailError

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parents[1] / "static"
_FILES = {p.name: p for p in (STATIC / "console").glob("*") if p.is_file()} | {
    "vendor/" + p.relative_to(STATIC / "vendor").as_posix(): p
    for p in (STATIC / "vendor").rglob("*")
    if p.is_file()
}
_MEDIA = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain",
}
MAX_LINK_TOKEN = 64


@router.get(web.ASSETS + "/{name:path}")
async def console_asset(name: str) -> Response:
    path = _FILES.get(name)
    if path is None or path.suffix not in _MEDIA:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path, media_type=_MEDIA[path.suffix], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/accessibility")
async def accessibility(request: Request) -> Response:
    return web.render(request, "accessibility.html", title="Accessibility statement")


# ---------------------------------------------------------------- sign in


def _login_page(
    request: Request,
    *,
    status: int = 200,
    email: str = "",
    next_path: str = "/console/",
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
) -> Response:
    return web.anonymous_page(
        request,
        "login.html",
        status=status,
        title="Sign in",
        email=email,
        next_path=web.safe_next(next_path),
        errors=errors or [],
        notice=notice,
    )


NOTICES = {
    "signed_out": "You have signed out.",
    "reset": "Your password has been changed. Sign in with the new one.",
}


@router.get("/login")
async def login_page(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    ctx = await web.current(tx, now)
    next_path = request.query_params.get("next", "/console/")
    if ctx is not None and ctx.staff_session.stage == service.SIGNED_IN:
        return web.redirect(web.safe_next(next_path))
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _login_page(request, next_path=next_path, notice=notice)


@router.post("/login")
async def login(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    form = await web.anonymous_form(request)
    email, password = form.get("email", "").strip(), form.get("password", "")
    next_path = web.safe_next(form.get("next"))
    if not email or not password:
        errors = [
            {"field": name, "message": f"Enter your {label}"}
            for name, label, value in (
                ("email", "e-mail address", email),
                ("password", "password", password),
            )
            if not value
        ]
        return _login_page(request, status=400, email=email, next_path=next_path, errors=errors)
    old = await web.current(tx, now)
    async with tx.writing():
        try:
            user = await service.sign_in(
                session, email, password, client=web.client_key(request), now=now
            )
        except throttle.Throttled as exc:
            await session.rollback()
            response = _login_page(
                request, status=429, email=email, next_path=next_path, errors=web.errors_of(exc)
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except service.WrongCredentials as exc:
            await session.commit()  # the failure counts
            errors = web.errors_of(exc)
            errors[0]["field"] = "password"
            return _login_page(request, status=401, email=email, next_path=next_path, errors=errors)
        if old is not None:
            await service.end_session(session, old.staff_session)
        stage = service.CODE if service.totp_enabled(user) else service.SIGNED_IN
        raw, _ = await service.start_session(session, user, now, stage=stage)
        await session.commit()
    if stage == service.CODE:
        return web.start_session_response(
            request, raw, "/login/code?next=" + quote(next_path, safe="/")
        )
    return web.start_session_response(request, raw, next_path)


@router.get("/login/code")
async def code_page(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    ctx = await web.current(tx, now)
    next_path = web.safe_next(request.query_params.get("next"))
    if ctx is None:
        return web.redirect("/login")
    if ctx.staff_session.stage == service.SIGNED_IN:
        return web.redirect(next_path)
    return web.render(
        request,
        "code.html",
        csrf_token=ctx.csrf_token,
        title="Enter your code",
        next_path=next_path,
    )


@router.post("/login/code")
async def code(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    ctx = await web.current(tx, now)
    if ctx is None or ctx.staff_session.stage != service.CODE:
        return web.redirect("/login")
    form = await web.console_form(request, ctx)
    next_path = web.safe_next(form.get("next"))
    key = "code:" + ctx.user.email
    client = web.client_key(request)
    async with tx.writing():
        try:
            await throttle.check(session, key, client, now)
        except throttle.Throttled as exc:
            await web.undo(session, ctx)
            response = web.render(
                request,
                "code.html",
                status=429,
                csrf_token=ctx.csrf_token,
                title="Enter your code",
                next_path=next_path,
                errors=web.errors_of(exc),
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if not service.check_code(ctx.user, form.get("code", ""), now, web.box(request)):
            throttle.failed(session, key, client, now)
            await session.commit()
            errors = [{"field": "code", "message": "That is not the code your app shows now"}]
            return web.render(
                request,
                "code.html",
                status=401,
                csrf_token=ctx.csrf_token,
                title="Enter your code",
                next_path=next_path,
                errors=errors,
            )
        await throttle.succeeded(session, key, client)
        await service.end_session(session, ctx.staff_session)
        raw, _ = await service.start_session(session, ctx.user, now)
        await session.commit()
    return web.start_session_response(request, raw, next_path)


# ---------------------------------------------------------------- sign out


@router.get("/logout")
async def logout_page(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    ctx = await web.current(tx, now)
    if ctx is None:
        return web.redirect("/login")
    return web.render(request, "logout.html", ctx=ctx, title="Sign out")


@router.post("/logout")
async def logout(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    ctx = await web.current(tx, now)
    if ctx is None:
        return web.redirect("/login")
    await web.console_form(request, ctx)
    async with tx.write():
        await service.end_session(session, ctx.staff_session)
    response = web.redirect("/login?notice=signed_out")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- invitations


def _token(token: str) -> str:
    if len(token) > MAX_LINK_TOKEN:
        raise web.PageProblem(404, "Link not valid", "This link is not valid.")
    return token


def _link_problem(exc: NotFound) -> web.PageProblem:
    return web.PageProblem(404, "Link not valid", exc.detail[:1].upper() + exc.detail[1:] + ".")


def _new_password(form: dict[str, str]) -> str:
    password, confirm = form.get("password", ""), form.get("confirm", "")
    if password != confirm:
        raise Invalid(
            "the two passwords are not the same",
            fields=service.field_error("confirm", "is not the same as the password"),
        )
    return password


@router.get("/invite/{token}")
async def invitation_page(request: Request, session: Session, now: Now, token: str) -> Response:
    try:
        row = await invitations.open_invitation(session, _token(token), now)
    except NotFound as exc:
        raise _link_problem(exc) from None
    return web.anonymous_page(request, "invite.html", title="Create your account", invitation=row)


@router.post("/invite/{token}")
async def accept_invitation(
    request: Request, session: Session, tx: Tx, now: Now, token: str
) -> Response:
    form = await web.anonymous_form(request)
    async with tx.writing():
        try:
            row = await invitations.open_invitation(session, _token(token), now)
            user = await invitations.accept(session, token, _new_password(form), now)
        except NotFound as exc:
            raise _link_problem(exc) from None
        except TaptrailError as exc:
            await session.rollback()
            row = await invitations.open_invitation(session, token, now)
            return web.anonymous_page(
                request,
                "invite.html",
                status=exc.status,
                title="Create your account",
                invitation=row,
                errors=web.errors_of(exc),
            )
        raw, _ = await service.start_session(session, user, now)
        await session.commit()
    return web.start_session_response(request, raw, "/console/")


# ---------------------------------------------------------------- password reset


@router.get("/reset")
async def reset_request_page(request: Request) -> Response:
    return web.anonymous_page(request, "reset_request.html", title="Reset your password", email="")


@router.post("/reset")
async def reset_request(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    form = await web.anonymous_form(request)
    email = form.get("email", "")
    async with tx.writing():
        try:
            found = await invitations.request_reset(session, email, now)
        except TaptrailError as exc:
            return web.anonymous_page(
                request,
                "reset_request.html",
                status=exc.status,
                title="Reset your password",
                email=email,
                errors=web.errors_of(exc),
            )
        await session.commit()
    mail = web.mailer(request)
    if found is not None and mail.configured:
        user, token = found
        await mail.send(
            user.email,
            "Reset your Taptrail password",
            "Someone (we hope you) asked to reset the password of your Taptrail account.\n\n"
            f"Open this link within an hour to choose a new one:\n{web.link(request, '/reset/' + token)}\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n",
        )
    return web.render(request, "reset_sent.html", title="Check your e-mail", mail=mail.configured)


@router.get("/reset/{token}")
async def reset_page(request: Request, session: Session, now: Now, token: str) -> Response:
    try:
        await invitations.open_reset(session, _token(token), now)
    except NotFound as exc:
        raise _link_problem(exc) from None
    return web.anonymous_page(request, "reset.html", title="Choose a new password")


@router.post("/reset/{token}")
async def reset(request: Request, session: Session, tx: Tx, now: Now, token: str) -> Response:
    form = await web.anonymous_form(request)
    async with tx.writing():
        try:
            await invitations.reset(session, _token(token), _new_password(form), now)
        except NotFound as exc:
            raise _link_problem(exc) from None
        except TaptrailError as exc:
            await session.rollback()
            return web.anonymous_page(
                request,
                "reset.html",
                status=exc.status,
                title="Choose a new password",
                errors=web.errors_of(exc),
            )
        await session.commit()
    response = web.redirect("/login?notice=reset")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response
