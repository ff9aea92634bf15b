"""reader_heartbeats: clock_ahead, and an index by sent_at

A heartbeat whose ``sent_at`` is more than the allowed skew ahead of the server's receive
time came from a box whose clock runs ahead. It is recorded (its battery and firmware
count) and flagged ``clock_ahead``; the replay mark of later heartbeats is the latest
``sent_at`` among the reader's other heartbeats, so one far-future reading cannot make
every later honest heartbeat look like a replay. The index serves both look-ups: the mark
(a maximum of ``sent_at``) and "was this exact ``sent_at`` already recorded" (a replayed
heartbeat whose time was ahead). Existing rows are flagged by the same rule (120 s), so a
box already poisoned by a far-future heartbeat is heard again at once.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reader_heartbeats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clock_ahead", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_reader_heartbeats_sent", ["game_id", "reader_id", "sent_at"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":  # naive UTC text: compare as Julian days
        ahead = "julianday(sent_at) > julianday(received_at) + 120.0 / 86400"
    else:
        ahead = "sent_at > received_at + interval '120 seconds'"
    op.execute(f"UPDATE reader_heartbeats SET clock_ahead = true WHERE {ahead}")


def downgrade() -> None:
    with op.batch_alter_table("reader_heartbeats", schema=None) as batch_op:
        batch_op.drop_index("ix_reader_heartbeats_sent")
        batch_op.drop_column("clock_ahead")
