"""The words every layer shares: team kinds, age bands and tap outcomes.

Each closed set is defined once, here, as a ``Literal`` type for signatures and schemas and
as a tuple of its values, in their documented order, for checks and listings. This module
imports nothing of the application, so any layer may use it.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

TeamKind = Literal["school", "community", "workplace", "family", "other"]
TEAM_KINDS: Final[tuple[TeamKind, ...]] = get_args(TeamKind)

# Youngest first; evaluation compares bands by this order.
AgeBand = Literal["0-4", "5-11", "12-15", "16-24", "25-44", "45-64", "65+"]
AGE_BANDS: Final[tuple[AgeBand, ...]] = get_args(AgeBand)

# How a tap scored (docs/scoring-rules.md), in the order the rules take them.
OutcomeKind = Literal["out_of_game", "journey_start", "repeat", "too_fast", "leg", "capped"]
OUTCOMES: Final[tuple[OutcomeKind, ...]] = get_args(OutcomeKind)
OUT_OF_GAME: Final = "out_of_game"
JOURNEY_START: Final = "journey_start"
REPEAT: Final = "repeat"
TOO_FAST: Final = "too_fast"
LEG: Final = "leg"
CAPPED: Final = "capped"
