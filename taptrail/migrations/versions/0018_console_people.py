"""The console's People and Draws pages: nickname review and prizes sent

``players.nickname_reviewed_at``: when an organiser last approved (or rejected) the player's
current nickname; NULL puts it in the moderation queue (a changed nickname goes back in).
``lucky_draw_winners.prize_sent_at``: when the organiser marked the winner's prize as sent
(NULL: not sent yet). Both nullable, so existing rows need no value: players registered
before this migration are in the queue until reviewed.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("players", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nickname_reviewed_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("lucky_draw_winners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prize_sent_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lucky_draw_winners", schema=None) as batch_op:
        batch_op.drop_column("prize_sent_at")
    with op.batch_alter_table("players", schema=None) as batch_op:
        batch_op.drop_column("nickname_reviewed_at")
