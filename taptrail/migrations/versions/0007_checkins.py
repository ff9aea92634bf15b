"""checkpoints: phone app check-ins

Each check-in made one tap of the player's virtual card; this table keeps its idempotency
key (the app's client id) and how its position was checked (distance from the checkpoint
and the reported accuracy; never the phone's coordinates).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", BigId, nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("tap_id", BigId, nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("at_from_client", sa.Boolean(), nullable=False),
        sa.Column("received_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_checkins_checkpoint_id_checkpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["game_id"], ["games.id"], name=op.f("fk_checkins_game_id_games"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_checkins_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tap_id"], ["taps.id"], name=op.f("fk_checkins_tap_id_taps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint(
            "game_id",
            "player_id",
            "client_id",
            name=op.f("uq_checkins_game_id_player_id_client_id"),
        ),
    )
    op.create_index(
        "ix_checkins_player_time",
        "checkins",
        ["game_id", "player_id", "received_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_checkins_player_time", table_name="checkins")
    op.drop_table("checkins")
