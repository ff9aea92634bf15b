"""Who may call what: one access rule for EVERY route of the app, with a valid request.

``test_access.py`` fails when a route has no rule here (or a rule has no route), so a new
endpoint cannot be added without deciding who may call it. Each rule's request is valid
for the principals it allows (they must get a 2xx); everyone else gets 401 without a
(valid) token and 403 with a token of the wrong role or game. Reader endpoints take no
token at all: their credential is the body's signature (401 for every token).

The staff console's pages take no bearer token either: their credential is a console
session cookie. Without one, every caller of a ``staff_session`` page is sent to sign in
(303 to /login; tests/staff checks the signed-in side). A ``public_form`` is a form before
sign-in (sign in, accept an invitation, reset a password): its valid request carries the
form's pre-session cookie and CSRF token, and its success is a redirect (303) for everyone.
The family site's pages work the same way: a ``family_session`` page sends every caller
without a family session to ``/family/sign-in`` (303; tests/family checks the signed-in
side), and its forms before sign-in are ``public_form``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.game_files import COM1_JOIN_CODE
from tests.security.access_calls import (
    Factory,
    accept,
    ask_reset,
    checkin,
    console,
    draw,
    end_campaign,
    erase_player,
    family_create,
    family_recover,
    family_sign_in,
    fixed,
    hide_player,
    invitation_page,
    link_card,
    login,
    logout,
    move_reader,
    new_campaign,
    new_project,
    new_reader,
    patch_campaign,
    put_game,
    registration,
    remove_member,
    replace_card,
    reset,
    reset_page,
    revoke_token,
    run_draws,
    unsigned,
)
from tests.security.world import PRINCIPALS

ALLOWED: dict[str, frozenset[str]] = {
    "public": frozenset(PRINCIPALS),
    "reader_signature": frozenset(),
    "player": frozenset({"player", "player_other"}),
    "player_of_game": frozenset({"player"}),
    "team_manager": frozenset({"team_manager", "team_manager_other"}),
    "team_manager_of_team_or_organiser_of_game": frozenset(
        {"team_manager", "organiser", "organiser_game"}
    ),
    "organiser_of_game": frozenset({"organiser", "organiser_game"}),
    "any_organiser": frozenset({"organiser", "organiser_game", "organiser_other"}),
    "organiser_or_evaluator_of_game": frozenset({"organiser", "organiser_game", "evaluator"}),
    "evaluator_of_game": frozenset({"evaluator"}),
    "staff_session": frozenset(),
    "public_form": frozenset(),
    "family_session": frozenset(),
    "moved": frozenset(),
}
REDIRECTED = ("staff_session", "public_form", "family_session")  # 303 for every caller


def expected(access: str, principal: str) -> int | None:
    """None: a 2xx; else the status code."""
    if access in REDIRECTED:
        return 303
    if access == "moved":  # a page's former address, for every caller
        return 301
    if principal in ALLOWED[access]:
        return None
    if access == "reader_signature" or principal in ("anonymous", "bad_token"):
        return 401
    return 403


@dataclass(frozen=True)
class Rule:
    access: str
    call: Factory


ADMIN = "/api/v1/admin/games/{slug}"
GAME = "/api/v1/games/{slug}"

RULES: dict[tuple[str, str], Rule] = {
    # ---------------------------------------------------------------- documentation, probes
    ("GET", "/openapi.json"): Rule("public", fixed("GET", "/openapi.json")),
    ("GET", "/docs"): Rule("public", fixed("GET", "/docs")),
    ("GET", "/docs-assets/{name}"): Rule("public", fixed("GET", "/docs-assets/start.js")),
    ("GET", "/healthz"): Rule("public", fixed("GET", "/healthz")),
    ("GET", "/metrics"): Rule("public", fixed("GET", "/metrics")),
    ("GET", "/api/v1/metrics"): Rule("public", fixed("GET", "/api/v1/metrics")),
    # ---------------------------------------------------------------- pages
    ("GET", "/games/{slug}/board"): Rule("public", fixed("GET", "/games/{G}/board")),
    ("GET", "/games/{slug}/map"): Rule("moved", fixed("GET", "/games/{G}/map")),
    ("GET", "/games/{slug}/boxes"): Rule("public", fixed("GET", "/games/{G}/boxes")),
    ("GET", "/games/{slug}/report"): Rule("public", fixed("GET", "/games/{G}/report")),
    ("GET", "/static/leaderboard/{name}"): Rule(
        "public", fixed("GET", "/static/leaderboard/board.js")
    ),
    ("GET", "/static/evaluation/{name}"): Rule(
        "public", fixed("GET", "/static/evaluation/report.js")
    ),
    # ---------------------------------------------------------------- family site
    ("GET", "/"): Rule("public", fixed("GET", "/")),
    ("GET", "/games/{slug}"): Rule("public", fixed("GET", "/games/{G}")),
    ("GET", "/privacy"): Rule("public", fixed("GET", "/privacy")),
    ("GET", "/cookies"): Rule("public", fixed("GET", "/cookies")),
    ("GET", "/manifest.webmanifest"): Rule("public", fixed("GET", "/manifest.webmanifest")),
    # The language switch answers everyone with a redirect (303) back to the page.
    ("GET", "/language/{code}"): Rule("public_form", fixed("GET", "/language/cy")),
    ("GET", "/static/family/{name:path}"): Rule(
        "public", fixed("GET", "/static/family/vendor/leaflet-1.9.4/leaflet.js")
    ),
    ("GET", "/family/create"): Rule("public", fixed("GET", "/family/create")),
    ("GET", "/family/accessibility"): Rule("public", fixed("GET", "/family/accessibility")),
    ("POST", "/family/create"): Rule("public_form", family_create),
    ("GET", "/family/sign-in"): Rule("public", fixed("GET", "/family/sign-in")),
    ("POST", "/family/sign-in"): Rule("public_form", family_sign_in),
    ("GET", "/family/recover"): Rule("public", fixed("GET", "/family/recover")),
    # Recovering shows the new recovery code once: a page (200), not a redirect.
    ("POST", "/family/recover"): Rule("public", family_recover),
    **{
        (method, path): Rule("family_session", console(method, example))
        for method, path, example in (
            ("GET", "/family/", "/family/"),
            ("GET", "/family/sign-out", "/family/sign-out"),
            ("POST", "/family/sign-out", "/family/sign-out"),
            ("GET", "/family/add", "/family/add"),
            ("POST", "/family/add", "/family/add"),
            ("GET", "/family/players/{player_id}", "/family/players/1"),
            ("POST", "/family/players/{player_id}/team", "/family/players/1/team"),
            ("POST", "/family/players/{player_id}/card", "/family/players/1/card"),
            ("GET", "/family/players/{player_id}/check-in", "/family/players/1/check-in"),
            ("POST", "/family/players/{player_id}/check-in", "/family/players/1/check-in"),
            ("GET", "/family/players/{player_id}/remove", "/family/players/1/remove"),
            ("POST", "/family/players/{player_id}/remove", "/family/players/1/remove"),
            ("GET", "/family/players/{player_id}/surveys/{wave}", "/family/players/1/surveys/1"),
            ("POST", "/family/players/{player_id}/surveys/{wave}", "/family/players/1/surveys/1"),
            ("GET", "/family/data", "/family/data"),
            ("GET", "/family/data.json", "/family/data.json"),
            ("GET", "/family/data.csv", "/family/data.csv"),
            ("GET", "/family/delete", "/family/delete"),
            ("POST", "/family/delete", "/family/delete"),
        )
    },
    # ---------------------------------------------------------------- staff console
    ("GET", "/static/console/{name:path}"): Rule(
        "public",
        fixed("GET", "/static/console/vendor/govuk-frontend-5.14.0/govuk-frontend.min.css"),
    ),
    ("GET", "/accessibility"): Rule("public", fixed("GET", "/accessibility")),
    ("GET", "/login"): Rule("public", fixed("GET", "/login")),
    ("POST", "/login"): Rule("public_form", login),
    ("GET", "/login/code"): Rule("staff_session", console("GET", "/login/code")),
    ("POST", "/login/code"): Rule("staff_session", console("POST", "/login/code")),
    ("GET", "/logout"): Rule("staff_session", console("GET", "/logout")),
    ("POST", "/logout"): Rule("staff_session", console("POST", "/logout")),
    ("GET", "/invite/{token}"): Rule("public", invitation_page),
    ("POST", "/invite/{token}"): Rule("public_form", accept),
    ("GET", "/reset"): Rule("public", fixed("GET", "/reset")),
    ("POST", "/reset"): Rule("public", ask_reset),
    ("GET", "/reset/{token}"): Rule("public", reset_page),
    ("POST", "/reset/{token}"): Rule("public_form", reset),
    ("GET", "/console/"): Rule("staff_session", console("GET", "/console/")),
    ("GET", "/console/account"): Rule("staff_session", console("GET", "/console/account")),
    ("POST", "/console/account/password"): Rule(
        "staff_session", console("POST", "/console/account/password")
    ),
    ("POST", "/console/account/totp/start"): Rule(
        "staff_session", console("POST", "/console/account/totp/start")
    ),
    ("POST", "/console/account/totp/enable"): Rule(
        "staff_session", console("POST", "/console/account/totp/enable")
    ),
    ("POST", "/console/account/totp/disable"): Rule(
        "staff_session", console("POST", "/console/account/totp/disable")
    ),
    ("POST", "/console/account/sign-out-everywhere"): Rule(
        "staff_session", console("POST", "/console/account/sign-out-everywhere")
    ),
    ("POST", "/console/account/tokens"): Rule(
        "staff_session", console("POST", "/console/account/tokens")
    ),
    ("POST", "/console/account/tokens/{token_id}/revoke"): Rule(
        "staff_session", console("POST", "/console/account/tokens/1/revoke")
    ),
    ("GET", "/console/staff"): Rule("staff_session", console("GET", "/console/staff")),
    ("POST", "/console/staff/invitations"): Rule(
        "staff_session", console("POST", "/console/staff/invitations")
    ),
    ("POST", "/console/staff/invitations/{invitation_id}/cancel"): Rule(
        "staff_session", console("POST", "/console/staff/invitations/1/cancel")
    ),
    ("POST", "/console/staff/{user_id}/remove"): Rule(
        "staff_session", console("POST", "/console/staff/1/remove")
    ),
    ("POST", "/console/staff/{user_id}/reset-link"): Rule(
        "staff_session", console("POST", "/console/staff/1/reset-link")
    ),
    ("GET", "/console/games/{slug}/campaigns"): Rule(
        "staff_session", console("GET", "/console/games/{G}/campaigns")
    ),
    ("POST", "/console/games/{slug}/campaigns"): Rule(
        "staff_session", console("POST", "/console/games/{G}/campaigns")
    ),
    ("GET", "/console/games/{slug}/campaigns/{code}"): Rule(
        "staff_session", console("GET", "/console/games/{G}/campaigns/PARKS")
    ),
    ("POST", "/console/games/{slug}/campaigns/{code}"): Rule(
        "staff_session", console("POST", "/console/games/{G}/campaigns/PARKS")
    ),
    ("POST", "/console/games/{slug}/campaigns/{code}/end"): Rule(
        "staff_session", console("POST", "/console/games/{G}/campaigns/PARKS/end")
    ),
    ("GET", "/console/games/{slug}"): Rule("staff_session", console("GET", "/console/games/{G}")),
    ("GET", "/console/games/{slug}/overview.json"): Rule(
        "staff_session", console("GET", "/console/games/{G}/overview.json")
    ),
    ("GET", "/console/games/{slug}/setup"): Rule(
        "staff_session", console("GET", "/console/games/{G}/setup")
    ),
    ("POST", "/console/games/{slug}/setup"): Rule(
        "staff_session", console("POST", "/console/games/{G}/setup")
    ),
    ("GET", "/console/games/{slug}/setup/game.yaml"): Rule(
        "staff_session", console("GET", "/console/games/{G}/setup/game.yaml")
    ),
    ("GET", "/console/games/{slug}/boxes"): Rule(
        "staff_session", console("GET", "/console/games/{G}/boxes")
    ),
    ("GET", "/console/games/{slug}/boxes/{reader_id}"): Rule(
        "staff_session", console("GET", "/console/games/{G}/boxes/R-{G}-A")
    ),
    **{
        ("POST", f"/console/games/{{slug}}/boxes/{{reader_id}}/{action}"): Rule(
            "staff_session", console("POST", f"/console/games/{{G}}/boxes/R-{{G}}-A/{action}")
        )
        for action in ("rotate", "disable", "enable", "move", "place")
    },
    # console: help desk, people, draws, my team, evaluation
    ("GET", "/console/games/{slug}/help-desk"): Rule(
        "staff_session", console("GET", "/console/games/{G}/help-desk")
    ),
    ("POST", "/console/games/{slug}/help-desk/replace"): Rule(
        "staff_session", console("POST", "/console/games/{G}/help-desk/replace")
    ),
    ("GET", "/console/games/{slug}/people"): Rule(
        "staff_session", console("GET", "/console/games/{G}/people")
    ),
    ("POST", "/console/games/{slug}/people/nicknames/{player_id}/approve"): Rule(
        "staff_session", console("POST", "/console/games/{G}/people/nicknames/1/approve")
    ),
    ("POST", "/console/games/{slug}/people/nicknames/{player_id}/reject"): Rule(
        "staff_session", console("POST", "/console/games/{G}/people/nicknames/1/reject")
    ),
    ("POST", "/console/games/{slug}/people/teams/{code}/join-code"): Rule(
        "staff_session", console("POST", "/console/games/{G}/people/teams/COM1/join-code")
    ),
    ("GET", "/console/games/{slug}/people/teams/{code}"): Rule(
        "staff_session", console("GET", "/console/games/{G}/people/teams/SCH1")
    ),
    ("POST", "/console/games/{slug}/people/teams/{code}/members/{player_id}/remove"): Rule(
        "staff_session", console("POST", "/console/games/{G}/people/teams/SCH1/members/1/remove")
    ),
    ("GET", "/console/games/{slug}/people/players/{player_id}"): Rule(
        "staff_session", console("GET", "/console/games/{G}/people/players/1")
    ),
    ("GET", "/console/games/{slug}/people/players/{player_id}/data.json"): Rule(
        "staff_session", console("GET", "/console/games/{G}/people/players/1/data.json")
    ),
    ("POST", "/console/games/{slug}/people/players/{player_id}/erase"): Rule(
        "staff_session", console("POST", "/console/games/{G}/people/players/1/erase")
    ),
    ("GET", "/console/games/{slug}/draws"): Rule(
        "staff_session", console("GET", "/console/games/{G}/draws")
    ),
    ("POST", "/console/games/{slug}/draws/schedules"): Rule(
        "staff_session", console("POST", "/console/games/{G}/draws/schedules")
    ),
    ("POST", "/console/games/{slug}/draws/run"): Rule(
        "staff_session", console("POST", "/console/games/{G}/draws/run")
    ),
    ("POST", "/console/games/{slug}/draws/{draw_id}/contacts"): Rule(
        "staff_session", console("POST", "/console/games/{G}/draws/1/contacts")
    ),
    ("POST", "/console/games/{slug}/draws/{draw_id}/winners/{position}/prize"): Rule(
        "staff_session", console("POST", "/console/games/{G}/draws/1/winners/1/prize")
    ),
    ("GET", "/console/my-team"): Rule("staff_session", console("GET", "/console/my-team")),
    ("GET", "/console/games/{slug}/evaluation"): Rule(
        "staff_session", console("GET", "/console/games/{G}/evaluation")
    ),
    ("GET", "/console/games/{slug}/evaluation/report"): Rule(
        "staff_session", console("GET", "/console/games/{G}/evaluation/report")
    ),
    ("GET", "/console/games/{slug}/evaluation/report-data"): Rule(
        "staff_session", console("GET", "/console/games/{G}/evaluation/report-data")
    ),
    ("GET", "/console/games/{slug}/evaluation/{project}/package.zip"): Rule(
        "staff_session", console("GET", "/console/games/{G}/evaluation/study/package.zip")
    ),
    ("GET", "/console/games/{slug}/evaluation/{project}/{file}"): Rule(
        "staff_session", console("GET", "/console/games/{G}/evaluation/study/players")
    ),
    # ---------------------------------------------------------------- games
    ("PUT", ADMIN): Rule("organiser_of_game", put_game),
    ("GET", "/api/v1/games"): Rule("public", fixed("GET", "/api/v1/games")),
    ("GET", GAME): Rule("public", fixed("GET", "/api/v1/games/{G}")),
    # ---------------------------------------------------------------- readers (signed)
    ("POST", "/api/v1/readers/{reader_id}/taps"): Rule("reader_signature", unsigned("taps")),
    ("POST", "/api/v1/readers/{reader_id}/heartbeat"): Rule(
        "reader_signature", unsigned("heartbeat")
    ),
    # ---------------------------------------------------------------- boxes
    ("GET", f"{ADMIN}/boxes"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/boxes")
    ),
    ("GET", f"{ADMIN}/readers"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/readers")
    ),
    ("GET", f"{ADMIN}/readers/{{reader_id}}"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/readers/R-{G}-A")
    ),
    ("POST", f"{ADMIN}/readers"): Rule("organiser_of_game", new_reader),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/secret"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-C/secret")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/disable"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-P/disable")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/enable"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-P/enable")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/move"): Rule("organiser_of_game", move_reader),
    # ---------------------------------------------------------------- app check-ins
    ("POST", "/api/v1/app/checkins"): Rule("player", checkin),
    # ---------------------------------------------------------------- scoring administration
    ("GET", f"{ADMIN}/campaigns"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/campaigns")
    ),
    ("POST", f"{ADMIN}/campaigns"): Rule("organiser_of_game", new_campaign),
    ("PATCH", f"{ADMIN}/campaigns/{{code}}"): Rule("organiser_of_game", patch_campaign),
    ("POST", f"{ADMIN}/campaigns/{{code}}/end"): Rule("organiser_of_game", end_campaign),
    ("POST", f"{ADMIN}/rescore"): Rule(
        "organiser_of_game",
        fixed("POST", "/api/v1/admin/games/{G}/rescore", json={"reason": "access test"}),
    ),
    ("GET", f"{ADMIN}/ledger-check"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/ledger-check")
    ),
    ("POST", f"{ADMIN}/draws"): Rule(
        "organiser_of_game",
        fixed("POST", "/api/v1/admin/games/{G}/draws", json={"winners_per_day": 2}),
    ),
    ("POST", f"{ADMIN}/draws/run"): Rule("organiser_of_game", run_draws),
    ("GET", f"{ADMIN}/draws"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/draws")
    ),
    ("GET", f"{ADMIN}/draws/{{draw_id}}"): Rule("organiser_of_game", draw),
    ("GET", f"{ADMIN}/cards/{{number}}"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/cards/0000001")
    ),
    # ---------------------------------------------------------------- leaderboards
    ("GET", f"{GAME}/leaderboards/teams"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/teams")
    ),
    ("GET", f"{GAME}/leaderboards/players"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/players")
    ),
    ("GET", f"{GAME}/leaderboards/teams/{{code}}/around"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/teams/SCH1/around")
    ),
    ("WS", f"{GAME}/live"): Rule("public", fixed("WS", "/api/v1/games/{G}/live")),
    # ---------------------------------------------------------------- people
    ("GET", f"{GAME}/teams"): Rule("public", fixed("GET", "/api/v1/games/{G}/teams")),
    ("POST", f"{GAME}/registrations"): Rule("public", registration),
    ("GET", "/api/v1/me"): Rule("player", fixed("GET", "/api/v1/me")),
    ("PATCH", "/api/v1/me"): Rule("player", fixed("PATCH", "/api/v1/me", json={"public": True})),
    ("PUT", "/api/v1/me/team"): Rule(
        "player",
        fixed("PUT", "/api/v1/me/team", json={"team": "COM1", "join_code": COM1_JOIN_CODE}),
    ),
    ("POST", "/api/v1/me/cards"): Rule("player", link_card),
    ("GET", "/api/v1/teams/me"): Rule("team_manager", fixed("GET", "/api/v1/teams/me")),
    ("GET", f"{GAME}/teams/{{code}}/players"): Rule(
        "team_manager_of_team_or_organiser_of_game",
        fixed("GET", "/api/v1/games/{G}/teams/SCH1/players"),
    ),
    ("DELETE", f"{GAME}/teams/{{code}}/members/{{player_id}}"): Rule(
        "team_manager_of_team_or_organiser_of_game", remove_member
    ),
    ("GET", f"{ADMIN}/teams"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/teams")
    ),
    ("GET", f"{ADMIN}/players"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/players")
    ),
    ("PATCH", f"{ADMIN}/players/{{player_id}}"): Rule("organiser_of_game", hide_player),
    ("DELETE", f"{ADMIN}/players/{{player_id}}"): Rule("organiser_of_game", erase_player),
    ("POST", f"{ADMIN}/cards/{{number}}/replace"): Rule("organiser_of_game", replace_card),
    # ---------------------------------------------------------------- tokens
    ("GET", "/api/v1/admin/tokens"): Rule("any_organiser", fixed("GET", "/api/v1/admin/tokens")),
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): Rule("organiser_of_game", revoke_token),
    ("POST", "/api/v1/me/logout"): Rule("player", logout),
    # ---------------------------------------------------------------- evaluation
    ("GET", f"{GAME}/surveys"): Rule("public", fixed("GET", "/api/v1/games/{G}/surveys")),
    ("GET", f"{GAME}/surveys/{{wave}}/questions"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/surveys/1/questions")
    ),
    ("POST", f"{GAME}/surveys/{{wave}}"): Rule(
        "player_of_game",
        fixed("POST", "/api/v1/games/{G}/surveys/1", json={"activity_days": 4}),
    ),
    ("GET", f"{GAME}/surveys/{{wave}}/answers"): Rule(
        "player_of_game", fixed("GET", "/api/v1/games/{G}/surveys/1/answers")
    ),
    ("POST", f"{ADMIN}/surveys/{{wave}}/open"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/surveys/2/open")
    ),
    ("POST", f"{ADMIN}/surveys/{{wave}}/close"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/surveys/3/close")
    ),
    ("GET", f"{ADMIN}/evaluation/area"): Rule(
        "organiser_or_evaluator_of_game", fixed("GET", "/api/v1/admin/games/{G}/evaluation/area")
    ),
    ("PUT", f"{ADMIN}/evaluation/area"): Rule(
        "organiser_of_game",
        fixed("PUT", "/api/v1/admin/games/{G}/evaluation/area", json={"lad_codes": []}),
    ),
    ("GET", f"{ADMIN}/reports/evaluation"): Rule(
        "organiser_or_evaluator_of_game",
        fixed("GET", "/api/v1/admin/games/{G}/reports/evaluation"),
    ),
    ("POST", f"{ADMIN}/evaluation-projects"): Rule("organiser_of_game", new_project),
    ("GET", f"{ADMIN}/evaluation-projects"): Rule(
        "organiser_or_evaluator_of_game",
        fixed("GET", "/api/v1/admin/games/{G}/evaluation-projects"),
    ),
    ("GET", f"{GAME}/exports/{{project}}/manifest"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/manifest")
    ),
    ("GET", f"{GAME}/exports/{{project}}/package.zip"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/package.zip")
    ),
    ("GET", f"{GAME}/exports/{{project}}/{{file}}"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/players")
    ),
}
