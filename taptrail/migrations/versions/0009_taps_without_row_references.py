"""taps: no foreign keys to cards, holders and checkpoints

The taps table is the hottest table (every upload inserts hundreds of rows). Each foreign
key made PostgreSQL look up and share-lock the referenced row for every inserted tap,
which cost about 45 % of the insert rate in bench/bench_ingestion.py. Ingestion resolves
the card, holder and checkpoint in the same transaction from rows that are never deleted
(cards, holders and checkpoints are kept for the life of the game; erasure keeps the
holder), so the references cannot dangle. The game's key stays (it cascades a game's
deletion), and so do the nullable campaign and team keys (ON DELETE SET NULL).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED = (
    ("fk_taps_card_id_cards", "cards", "card_id"),
    ("fk_taps_holder_id_holders", "holders", "holder_id"),
    ("fk_taps_checkpoint_id_checkpoints", "checkpoints", "checkpoint_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("taps") as batch:
        for name, _, _ in _DROPPED:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("taps") as batch:
        for name, table, column in _DROPPED:
            batch.create_foreign_key(name, table, [column], ["id"])
