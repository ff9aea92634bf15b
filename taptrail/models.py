"""Imports every domain's tables so the metadata (and Alembic) sees them all."""

from checkpoints.models import Reader, ReaderAssignment, ReaderHeartbeat, Tap, TapRejection
from game.models import (
    Campaign,
    Checkpoint,
    Game,
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    Team,
    TeamTotal,
)
from people.models import Card, Holder, Player, TeamMembership
from taptrail.auth.models import ApiToken, AuditRecord
from taptrail.db import Base

__all__ = [
    "ApiToken",
    "AuditRecord",
    "Base",
    "Campaign",
    "Card",
    "Checkpoint",
    "Game",
    "Holder",
    "HolderDay",
    "HolderTeamTotal",
    "HolderTotal",
    "TeamTotal",
    "Player",
    "Reader",
    "ReaderAssignment",
    "ReaderHeartbeat",
    "Tap",
    "TapRejection",
    "Team",
    "TeamMembership",
]
