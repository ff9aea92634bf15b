"""What the family site tells a person when something they sent was refused, in their
language: the refusals of people/family.py by reason, and those of the people services
(registration, team changes, cards) by the field they name. Domain sentences are English
and written for the API; here each becomes a plain sentence from the catalogue."""

from __future__ import annotations

from api.family.i18n import N_
from api.family.web import Page
from kernel.errors import Conflict, TaptrailError, TooMany
from people.family import FamilyProblem

REASONS = {
    "email_invalid": N_("Enter an e-mail address in the right format, like name@example.com"),
    "email_taken": N_("There is already an account with this e-mail address. Sign in instead."),
    "password_short": N_("Your password must be at least 12 characters long"),
    "password_long": N_("Your password must be 256 characters or fewer"),
    "password_common": N_("That password is too easy to guess. Try three or four random words."),
    "password_mismatch": N_("The two passwords are not the same"),
    "wrong_credentials": N_("The account name or password is not right"),
    "wrong_recovery": N_("The account code or recovery code is not right"),
    "age_under_13": N_("Accounts without a parent or carer are for people aged 13 and over"),
}

FIELDS = {
    "nickname": N_(
        "Choose another nickname: 2 to 24 letters or numbers, not a real name, nothing rude"
    ),
    "postcode": N_("Enter a UK postcode, like CF10 1AA, or leave it empty"),
    "team": N_("Choose a team from the list"),
    "join_code": N_("Enter the team's join code: the team's organiser gives it out"),
    "card_number": N_("Enter the number printed on the card"),
    "activation_code": N_(
        "The card number and activation code do not match. Check both and try again."
    ),
    "age_band": N_("Playing without a card is for people aged 13 and over"),
    "age_13_or_over": N_("Confirm that the player is 13 or over to play without a card"),
    "gender": N_("Choose an answer, or 'Prefer not to say'"),
    "new_card_number": N_("Enter the number printed on the new card"),
}

CONFLICTS = (
    ("already registered", "card_number", N_("This card is already registered to a player")),
    ("replaced", "card_number", N_("This card was replaced and no longer scores")),
    ("already belongs", "card_number", N_("This card is already this player's card")),
    ("nickname", "nickname", N_("Someone else has that nickname. Choose another.")),
    ("erased", "", N_("This player's details were deleted")),
)


def errors_of(p: Page, exc: TaptrailError) -> list[dict[str, str]]:
    """The error summary's list for a refusal, in the page's language."""
    if isinstance(exc, FamilyProblem):
        return [{"field": exc.field, "message": p._(REASONS[exc.reason])}]
    if isinstance(exc, TooMany):
        minutes = max(1, -(-(exc.retry_after or 60) // 60))
        return [
            {
                "field": "",
                "message": p._("Too many tries from this phone. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
            }
        ]
    if isinstance(exc, Conflict):
        for words, field, message in CONFLICTS:
            if words in exc.detail:
                return [{"field": field, "message": p._(message)}]
    named = [str(f.get("field")) for f in exc.fields or []]
    found = [{"field": name, "message": p._(FIELDS[name])} for name in named if name in FIELDS]
    return found or [
        {
            "field": "",
            "message": p._("Something in the form was not right. Check it and try again."),
        }
    ]
