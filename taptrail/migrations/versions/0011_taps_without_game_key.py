"""taps and pending_taps: no foreign key to games; a trigger on games deletes their rows

Each inserted tap fired two foreign-key checks on the same ``games`` row (one for ``taps``,
one for the queue row the enqueue trigger adds), each a look-up that share-locks the row.
Measured with eight connections inserting 500-tap batches concurrently, as uploads do:
PostgreSQL spent 51-66 µs of CPU per stored tap with the keys and 42-47 µs without them.

A tap's game comes from its reader's assignment, read in the same transaction, and games
are never deleted while they run, so the key guarded nothing that ingestion does not
already guarantee. What it also did is cascade a game's deletion; a trigger on ``games``
now deletes the game's taps and queue rows instead (one statement per deleting statement
on PostgreSQL, per row on SQLite).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = (("taps", "fk_taps_game_id_games"), ("pending_taps", "fk_pending_taps_game_id_games"))

_PG_FUNCTION = """
CREATE FUNCTION taptrail_delete_game_taps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pending_taps WHERE game_id IN (SELECT id FROM old_games);
    DELETE FROM taps WHERE game_id IN (SELECT id FROM old_games);
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER trg_games_delete_taps AFTER DELETE ON games
REFERENCING OLD TABLE AS old_games
FOR EACH STATEMENT EXECUTE FUNCTION taptrail_delete_game_taps()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER trg_games_delete_taps AFTER DELETE ON games
FOR EACH ROW
BEGIN
    DELETE FROM pending_taps WHERE game_id = OLD.id;
    DELETE FROM taps WHERE game_id = OLD.id;
END
"""
# Migration 0010's queue trigger: SQLite drops a table's triggers when batch mode rebuilds
# the table, so it is created again after the rebuild.
_SQLITE_ENQUEUE_TRIGGER = """
CREATE TRIGGER trg_taps_enqueue AFTER INSERT ON taps
FOR EACH ROW WHEN NEW.outcome IS NULL
BEGIN
    INSERT INTO pending_taps (game_id, holder_id, tap_id, tapped_at)
    VALUES (NEW.game_id, NEW.holder_id, NEW.id, NEW.tapped_at);
END
"""


def upgrade() -> None:
    for table, name in _KEYS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="foreignkey")
    if _is_pg():
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_taps_enqueue")
        op.execute(_SQLITE_ENQUEUE_TRIGGER)
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if _is_pg():
        op.execute("DROP TRIGGER trg_games_delete_taps ON games")
        op.execute("DROP FUNCTION taptrail_delete_game_taps()")
    else:
        op.execute("DROP TRIGGER trg_games_delete_taps")
    for table, name in _KEYS:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(name, "games", ["game_id"], ["id"], ondelete="CASCADE")
    if not _is_pg():
        op.execute("DROP TRIGGER IF EXISTS trg_taps_enqueue")
        op.execute(_SQLITE_ENQUEUE_TRIGGER)


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
