"""The console pages: home (the games you may see), your account, and staff (organisers).

Each page takes ``web.require_staff(...)``; each POST reads its form with
``web.console_form`` (same origin, CSRF token) and answers with a redirect to the page
(303) or, for a mistake, the page again with an error summary and a 4xx status. A new
API token is shown once, in the answer to the POST that made it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from accounts.staff import invitations, service
from accounts.staff import repository as repo
from accounts.staff.totp import provisioning_uri
from api.console import web
from api.console.web import StaffContext
from api.deps import MAX_ROW_ID, Now, Session
from api.transaction import Transaction, Tx
from kernel.errors import Invalid, TaptrailError

router = APIRouter(include_in_schema=False)

Staff = Annotated[StaffContext, Depends(web.require_staff())]
Organiser = Annotated[StaffContext, Depends(web.require_staff("organiser"))]
Id = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("/console/")
async def home(request: Request, session: Session, ctx: Staff) -> Response:
    scope = ctx.scope
    games = await repo.games(session, None if scope.every_game else scope.game_id)
    team = await repo.team_by_id(session, ctx.user.team_id) if ctx.user.team_id else None
    return web.render(request, "home.html", ctx=ctx, title="Your games", games=games, team=team)


# ---------------------------------------------------------------- account


NOTICES = {
    "password": "Your password has been changed. Your other sessions have been signed out.",
    "totp_on": "Two-step sign-in is on. You will be asked for a code after your password.",
    "totp_off": "Two-step sign-in is off.",
    "revoked": "The token has been revoked.",
}


async def _account(
    request: Request,
    session: Session,
    ctx: StaffContext,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    **values: Any,
) -> Response:
    tokens = await repo.tokens_of(session, ctx.user.id)
    pending = service.pending_totp(ctx.user, web.box(request))
    values.setdefault("notice", NOTICES.get(request.query_params.get("notice", "")))
    return web.render(
        request,
        "account.html",
        status=status,
        ctx=ctx,
        title="Your account",
        tokens=tokens,
        totp_on=service.totp_enabled(ctx.user),
        totp_secret=pending,
        totp_uri=provisioning_uri(pending, ctx.user.email) if pending else None,
        errors=errors or [],
        new_token=values.pop("new_token", None),
        **values,
    )


@router.get("/console/account")
async def account(request: Request, session: Session, ctx: Staff) -> Response:
    return await _account(request, session, ctx)


@router.post("/console/account/password")
async def change_password(
    request: Request, session: Session, tx: Tx, now: Now, ctx: Staff
) -> Response:
    form = await web.console_form(request, ctx)
    async with tx.writing():
        try:
            new = form.get("new_password", "")
            if new != form.get("confirm", ""):
                raise Invalid(
                    "the two new passwords are not the same",
                    fields=service.field_error("confirm", "is not the same as the new password"),
                )
            await service.change_password(
                session, ctx.user, form.get("current_password", ""), new, now
            )
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _account(
                request, session, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        raw, _ = await service.start_session(session, ctx.user, now)  # a new id too
        await session.commit()
    return web.start_session_response(request, raw, "/console/account?notice=password")


@router.post("/console/account/totp/start")
async def totp_start(request: Request, session: Session, tx: Tx, ctx: Staff) -> Response:
    await web.console_form(request, ctx)
    async with tx.write():
        service.begin_totp(ctx.user, web.box(request))
    return web.redirect("/console/account#two-step")


@router.post("/console/account/totp/enable")
async def totp_enable(request: Request, session: Session, tx: Tx, now: Now, ctx: Staff) -> Response:
    form = await web.console_form(request, ctx)
    async with tx.writing():
        try:
            service.enable_totp(session, ctx.user, form.get("code", ""), now, web.box(request))
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _account(
                request, session, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        await session.commit()
    return web.redirect("/console/account?notice=totp_on")


@router.post("/console/account/totp/disable")
async def totp_disable(request: Request, session: Session, tx: Tx, ctx: Staff) -> Response:
    form = await web.console_form(request, ctx)
    async with tx.writing():
        try:
            service.disable_totp(session, ctx.user, form.get("password", ""))
        except TaptrailError as exc:
            await web.undo(session, ctx)
            errors = web.errors_of(exc)
            errors[0]["field"] = "totp_password"
            return await _account(request, session, ctx, status=exc.status, errors=errors)
        await session.commit()
    return web.redirect("/console/account?notice=totp_off")


@router.post("/console/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request, session: Session, tx: Tx, ctx: Staff) -> Response:
    await web.console_form(request, ctx)
    async with tx.write():
        await service.end_every_session(session, ctx.user)
    response = web.redirect("/login?notice=signed_out")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response


@router.post("/console/account/tokens")
async def create_token(request: Request, session: Session, tx: Tx, ctx: Staff) -> Response:
    form = await web.console_form(request, ctx)
    async with tx.writing():
        try:
            value = await service.create_console_token(session, ctx.user, form.get("label", ""))
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _account(
                request, session, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        await session.commit()
    return await _account(request, session, ctx, status=201, new_token=value)


@router.post("/console/account/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, session: Session, tx: Tx, now: Now, ctx: Staff, token_id: Id
) -> Response:
    await web.console_form(request, ctx)
    async with tx.writing():
        try:
            await service.revoke_console_token(session, ctx.user, token_id, now)
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _account(
                request, session, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        await session.commit()
    return web.redirect("/console/account?notice=revoked")


# ---------------------------------------------------------------- staff (organisers)


async def _staff(
    request: Request,
    session: Session,
    now: datetime,
    ctx: StaffContext,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    scope = ctx.scope
    game_id = None if scope.every_game else scope.game_id
    members = await repo.users_in(session, game_id)
    pending = await invitations.pending(session, ctx.user, now, web.box(request))
    games = await repo.games(session, game_id)
    slugs = await repo.game_slugs(
        session,
        {g for g in [m.game_id for m in members] + [p.invitation.game_id for p in pending] if g},
    )
    teams = await repo.team_codes(
        session,
        {t for t in [m.team_id for m in members] + [p.invitation.team_id for p in pending] if t},
    )
    notice = {
        "invited": "The invitation has been made: copy its link below and send it.",
        "mailed": "The invitation has been sent by e-mail. Its link is also below.",
        "removed": "The staff member has been removed.",
        "cancelled": "The invitation has been cancelled.",
    }.get(request.query_params.get("notice", ""))
    return web.render(
        request,
        "staff.html",
        status=status,
        ctx=ctx,
        title="Staff",
        members=members,
        pending=[(p, web.link(request, "/invite/" + p.token)) for p in pending],
        games=games,
        slugs=slugs,
        teams=teams,
        form=form or {},
        errors=errors or [],
        notice=notice,
        **values,
    )


@router.get("/console/staff")
async def staff(request: Request, session: Session, now: Now, ctx: Organiser) -> Response:
    return await _staff(request, session, now, ctx)


@router.post("/console/staff/invitations")
async def invite(request: Request, session: Session, tx: Tx, now: Now, ctx: Organiser) -> Response:
    form = await web.console_form(request, ctx)
    async with tx.writing():
        try:
            made = await invitations.invite(
                session,
                ctx.user,
                email=form.get("email", ""),
                role=form.get("role", ""),
                game_slug=form.get("game") or None,
                team_code=form.get("team", "").strip() or None,
                now=now,
                box=web.box(request),
            )
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _staff(
                request, session, now, ctx, status=exc.status, errors=web.errors_of(exc), form=form
            )
        await session.commit()
    mail = web.mailer(request)
    sent = mail.configured and await mail.send(
        made.invitation.email,
        "You are invited to the Taptrail console",
        "You have been invited to help run a Taptrail game as "
        f"{service.ROLE_NAMES[made.invitation.role].lower()}.\n\n"
        f"Open this link within a week to choose your password:\n"
        f"{web.link(request, '/invite/' + made.token)}\n",
    )
    return web.redirect("/console/staff?notice=" + ("mailed" if sent else "invited"))


async def _staff_action(
    request: Request,
    session: Session,
    tx: Transaction,
    now: datetime,
    ctx: StaffContext,
    action: Callable[[], Awaitable[object]],
    notice: str,
) -> Response:
    """A staff-page form that changes one thing: checked, done in one transaction, then back
    to the staff page with ``notice``; a refusal re-renders the page with its error."""
    await web.console_form(request, ctx)
    async with tx.writing():
        try:
            await action()
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _staff(
                request, session, now, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        await session.commit()
    return web.redirect(f"/console/staff?notice={notice}")


@router.post("/console/staff/invitations/{invitation_id}/cancel")
async def cancel_invitation(
    request: Request, session: Session, tx: Tx, now: Now, ctx: Organiser, invitation_id: Id
) -> Response:
    return await _staff_action(
        request,
        session,
        tx,
        now,
        ctx,
        lambda: invitations.cancel(session, ctx.user, invitation_id),
        "cancelled",
    )


@router.post("/console/staff/{user_id}/remove")
async def remove(
    request: Request, session: Session, tx: Tx, now: Now, ctx: Organiser, user_id: Id
) -> Response:
    return await _staff_action(
        request,
        session,
        tx,
        now,
        ctx,
        lambda: service.remove_user(session, ctx.user, user_id),
        "removed",
    )


@router.post("/console/staff/{user_id}/reset-link")
async def reset_link(
    request: Request, session: Session, tx: Tx, now: Now, ctx: Organiser, user_id: Id
) -> Response:
    await web.console_form(request, ctx)
    async with tx.writing():
        try:
            target, token = await invitations.reset_link_for(session, ctx.user, user_id, now)
        except TaptrailError as exc:
            await web.undo(session, ctx)
            return await _staff(
                request, session, now, ctx, status=exc.status, errors=web.errors_of(exc)
            )
        await session.commit()
    return await _staff(
        request,
        session,
        now,
        ctx,
        status=201,
        reset_for=target.email,
        reset_link=web.link(request, "/reset/" + token),
    )
