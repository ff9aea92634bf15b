"""A family account's own doors: opening an account, signing in (and recovering an account
code's password with its recovery code), signing out.

Every POST is checked for the same origin and a CSRF token (the pre-session token before
sign-in) and answers with a redirect (303), or the form again with an error summary and a
4xx status. A failed sign-in or recovery is committed on its own so the rate limits count
it; everything else is one transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from accounts.staff import throttle
from api.deps import Now, Session
from api.family import web
from api.family.messages import errors_of
from api.family.signed import Family
from api.transaction import Tx
from kernel.errors import TaptrailError
from people import family

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- opening an account


@router.get("/family/create")
async def create_page(request: Request) -> Response:
    p = web.page(request)
    return p.anonymous("create.html", title=p._("Create a family account"), values={})


@router.post("/family/create")
async def create(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    kind = form.get("kind", "")
    errors: list[dict[str, str]] = []
    if kind not in ("email", "code"):
        errors.append({"field": "kind", "message": p._("Choose how you will sign in")})
    elif kind == "code" and form.get("age_13") != "yes":
        errors.append(
            {
                "field": "age_13",
                "message": p._(
                    "Accounts without a parent or carer are for people aged 13 and over"
                ),
            }
        )
    if not errors:
        async with tx.writing():
            try:
                made = await family.create_account(
                    session,
                    email=form.get("email", "") if kind == "email" else None,
                    password=form.get("password", ""),
                    confirm=form.get("confirm", ""),
                    now=now,
                )
                raw, _ = await family.start_session(session, made.account, now)
                await session.commit()
            except TaptrailError as exc:
                await session.rollback()
                errors = errors_of(p, exc)
                status = exc.status
            else:
                if made.account_code is None:
                    return web.signed_in_response(request, raw, "/family/?notice=created")
                response = p.render(
                    "codes.html",
                    title=p._("Write down your codes"),
                    account_code=made.account_code,
                    recovery_code=made.recovery_code,
                )
                web.set_cookie(request, response, web.SESSION_COOKIE, raw)
                return response
    return p.anonymous(
        "create.html",
        status=status if errors and "status" in locals() else 422,
        title=p._("Create a family account"),
        values={"kind": kind, "email": form.get("email", "")},
        errors=errors,
    )


# ---------------------------------------------------------------- signing in and out


def _sign_in_page(p: web.Page, *, status: int = 200, **values: Any) -> Response:
    values.setdefault("name", "")
    values.setdefault("next_path", "/family/")
    return p.anonymous("sign_in.html", status=status, title=p._("Sign in"), **values)


@router.get("/family/sign-in")
async def sign_in_page(request: Request, session: Session, now: Now) -> Response:
    p = web.page(request)
    next_path = web.safe_next(request.query_params.get("next"))
    if await web.current(request, session, now) is not None:
        return web.redirect(next_path)
    notice = {
        "signed_out": p._("You have signed out."),
        "deleted": p._("Your account and its data have been deleted."),
        "recovered": p._("Your password has been changed."),
    }.get(request.query_params.get("notice", ""))
    return _sign_in_page(p, next_path=next_path, notice=notice)


@router.post("/family/sign-in")
async def sign_in(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    name, password = form.get("name", "").strip(), form.get("password", "")
    next_path = web.safe_next(form.get("next"))
    missing = [
        {"field": field, "message": message}
        for field, message, value in (
            ("name", p._("Enter your e-mail address or account code"), name),
            ("password", p._("Enter your password"), password),
        )
        if not value
    ]
    if missing:
        return _sign_in_page(p, status=400, name=name, next_path=next_path, errors=missing)
    async with tx.writing():
        try:
            account = await family.sign_in(
                session, name, password, client=web.client_key(request), now=now
            )
        except throttle.Throttled as exc:
            await session.rollback()
            response = _sign_in_page(
                p, status=429, name=name, next_path=next_path, errors=errors_of(p, exc)
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except family.FamilyProblem as exc:
            await session.commit()  # the failure counts
            return _sign_in_page(
                p, status=401, name=name, next_path=next_path, errors=errors_of(p, exc)
            )
        raw, _ = await family.start_session(session, account, now)
        await session.commit()
    return web.signed_in_response(request, raw, next_path)


@router.get("/family/recover")
async def recover_page(request: Request) -> Response:
    p = web.page(request)
    return p.anonymous("recover.html", title=p._("Forgotten your password?"), code="")


@router.post("/family/recover")
async def recover(request: Request, session: Session, tx: Tx, now: Now) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    async with tx.writing():
        try:
            account, fresh = await family.recover(
                session,
                form.get("account_code", ""),
                form.get("recovery_code", ""),
                form.get("password", ""),
                form.get("confirm", ""),
                client=web.client_key(request),
                now=now,
            )
            raw, _ = await family.start_session(session, account, now)
            await session.commit()
        except TaptrailError as exc:
            if isinstance(exc, family.FamilyProblem) and exc.reason == "wrong_recovery":
                await session.commit()  # the failure counts
            else:
                await session.rollback()
            response = p.anonymous(
                "recover.html",
                status=exc.status,
                title=p._("Forgotten your password?"),
                code=form.get("account_code", ""),
                errors=errors_of(p, exc),
            )
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
    response = p.render(
        "codes.html",
        title=p._("Write down your codes"),
        account_code=account.account_code,
        recovery_code=fresh,
    )
    web.set_cookie(request, response, web.SESSION_COOKIE, raw)
    return response


@router.get("/family/sign-out")
async def sign_out_page(request: Request, signed: Family) -> Response:
    p = web.page(request)
    return p.render("sign_out.html", signed=signed, title=p._("Sign out"))


@router.post("/family/sign-out")
async def sign_out(request: Request, session: Session, tx: Tx, signed: Family) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    async with tx.write():
        await family.end_session(session, signed.row)
    response = web.redirect("/family/sign-in?notice=signed_out")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response
