"""checkpoints tables (owned by the checkpoints domain)

Tap rejections get the reader identity and content they were sent with (a replayed
request adds no second row); readers get their per-boot seq marks (the highest seq
stored); per-reader daily tap counts for the boxes list; on PostgreSQL, room on the taps
table's pages for HOT updates of outcomes.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db  # noqa: F401

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Every tap is inserted, then updated with its outcome (and again by re-scores).
        # Free room on each page lets PostgreSQL make those updates HOT: no index entries.
        op.execute("ALTER TABLE taps SET (fillfactor = 80)")
    with op.batch_alter_table("readers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq_marks", sa.JSON(), nullable=True))
    with op.batch_alter_table("tap_rejections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("content_key", sa.String(length=160), nullable=True))
        batch_op.create_index(
            "uq_tap_rejections_identity",
            ["game_id", "source_key", "content_key"],
            unique=True,
        )
    op.create_table(
        "reader_days",
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("taps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["games.id"],
            name=op.f("fk_reader_days_game_id_games"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_reader_days_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "game_id", "reader_id", "local_date", name=op.f("pk_reader_days")
        ),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE taps RESET (fillfactor)")
    op.drop_table("reader_days")
    with op.batch_alter_table("tap_rejections", schema=None) as batch_op:
        batch_op.drop_index("uq_tap_rejections_identity")
        batch_op.drop_column("content_key")
        batch_op.drop_column("source_key")
    with op.batch_alter_table("readers", schema=None) as batch_op:
        batch_op.drop_column("seq_marks")
