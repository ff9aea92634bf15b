"""people tables (owned by the people domain)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("card_key", sa.String(length=32), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["games.id"],
            name=op.f("fk_registration_attempts_game_id_games"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_attempts")),
    )
    with op.batch_alter_table("registration_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registration_attempts_card", ["game_id", "card_key", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_registration_attempts_client", ["game_id", "client_key", "created_at"], unique=False
        )
        batch_op.create_index("ix_registration_attempts_time", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_attempts_time")
        batch_op.drop_index("ix_registration_attempts_client")
        batch_op.drop_index("ix_registration_attempts_card")
    op.drop_table("registration_attempts")
