"""scoring: the scorer's queue becomes a table of its own, filled by a trigger on taps

Migration 0008 kept the queue as a partial index of ``taps`` (``WHERE outcome IS NULL``).
A column in an index's predicate counts as indexed, so every first scoring of a tap was a
non-HOT update: a new row version plus an entry in each of the table's indexes. The queue
is now ``pending_taps`` (game, holder, tap, tap time). A statement-level trigger on
``taps`` (row-level on SQLite) enqueues every tap inserted without an outcome, in the same
statement, whatever inserted it; scoring rounds delete the rows of the holders they score.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_PG_FUNCTION = """
CREATE FUNCTION taptrail_enqueue_taps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_taps (game_id, holder_id, tap_id, tapped_at)
    SELECT game_id, holder_id, id, tapped_at FROM new_taps WHERE outcome IS NULL;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER trg_taps_enqueue AFTER INSERT ON taps
REFERENCING NEW TABLE AS new_taps
FOR EACH STATEMENT EXECUTE FUNCTION taptrail_enqueue_taps()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER trg_taps_enqueue AFTER INSERT ON taps
FOR EACH ROW WHEN NEW.outcome IS NULL
BEGIN
    INSERT INTO pending_taps (game_id, holder_id, tap_id, tapped_at)
    VALUES (NEW.game_id, NEW.holder_id, NEW.id, NEW.tapped_at);
END
"""


def upgrade() -> None:
    op.create_table(
        "pending_taps",
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("tap_id", BigId, nullable=False),
        sa.Column("tapped_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["games.id"], name=op.f("fk_pending_taps_game_id_games"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("game_id", "holder_id", "tap_id", name=op.f("pk_pending_taps")),
    )
    op.execute(
        "INSERT INTO pending_taps (game_id, holder_id, tap_id, tapped_at) "
        "SELECT game_id, holder_id, id, tapped_at FROM taps WHERE outcome IS NULL"
    )
    if _is_pg():
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
    op.drop_index("ix_taps_pending", table_name="taps")


def downgrade() -> None:
    op.create_index(
        "ix_taps_pending",
        "taps",
        ["game_id", "holder_id", "id"],
        postgresql_where=sa.text("outcome IS NULL"),
        sqlite_where=sa.text("outcome IS NULL"),
    )
    op.execute("DROP TRIGGER trg_taps_enqueue" + (" ON taps" if _is_pg() else ""))
    if _is_pg():
        op.execute("DROP FUNCTION taptrail_enqueue_taps()")
    op.drop_table("pending_taps")


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
