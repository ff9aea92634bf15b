"""scoring: an index of the taps still waiting for their outcome

Uploads store taps and answer at once; the scorer (scoring/scorer.py) then scores each game's
pending taps in coalesced rounds. This partial index holds only those taps, so finding
them stays cheap however large the game grows.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_taps_pending",
        "taps",
        ["game_id", "holder_id", "id"],
        postgresql_where=sa.text("outcome IS NULL"),
        sqlite_where=sa.text("outcome IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_taps_pending", table_name="taps")
