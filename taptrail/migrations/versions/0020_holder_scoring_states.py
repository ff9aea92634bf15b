"""scoring: each holder's running scoring state

``holder_scoring_states``: per holder, the scoring engine's state after its last scored tap
(the last anchor, the day's and the previous day's points) with that tap's time and the
game's scoring version. A scoring round scores taps that arrive after that tap from the
state alone instead of re-reading the holder's last 26 hours (scoring/incremental.py).
Rewritten in place by every round, so PostgreSQL gets free space in each page for HOT
updates.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holder_scoring_states",
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("scoring_version", sa.Integer(), nullable=False),
        sa.Column("last_tapped_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("anchor_code", sa.String(length=32), nullable=True),
        sa.Column("anchor_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("day_points", sa.Integer(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=True),
        sa.Column("previous_day_points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["games.id"],
            name=op.f("fk_holder_scoring_states_game_id_games"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("game_id", "holder_id", name=op.f("pk_holder_scoring_states")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE holder_scoring_states SET (fillfactor = 70)")


def downgrade() -> None:
    op.drop_table("holder_scoring_states")
