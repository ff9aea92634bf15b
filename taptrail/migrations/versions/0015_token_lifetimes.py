"""api_tokens: an expiry and a last use

``expires_at`` (null: never) and ``last_used_at`` (recorded at most once a minute). Players'
existing tokens get the expiry new ones get: their game's end plus 270 days (after the
six-month follow-up survey). Existing staff tokens keep no expiry, so that an upgrade locks
no organiser out: list them with ``taptrail token list`` and revoke what is no longer used.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same as accounts.tokens.PLAYER_TOKEN_MARGIN when this was written.
_PLAYER_MARGIN = timedelta(days=270)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", kernel.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_used_at", kernel.db.UTCDateTime(timezone=True), nullable=True)
        )
    games = sa.table(
        "games", sa.column("id", sa.Integer), sa.column("ends_at", kernel.db.UTCDateTime())
    )
    tokens = sa.table(
        "api_tokens",
        sa.column("game_id", sa.Integer),
        sa.column("role", sa.String),
        sa.column("expires_at", kernel.db.UTCDateTime()),
    )
    bind = op.get_bind()
    for game_id, ends_at in bind.execute(sa.select(games.c.id, games.c.ends_at)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.game_id == game_id, tokens.c.role == "player")
            .values(expires_at=ends_at + _PLAYER_MARGIN)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
