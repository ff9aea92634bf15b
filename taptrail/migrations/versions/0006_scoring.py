"""scoring: lucky-tap draws

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lucky_draw_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("winners_per_day", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "winners_per_day > 0", name=op.f("ck_lucky_draw_schedules_winners_positive")
        ),
        sa.CheckConstraint(
            "from_date IS NULL OR to_date IS NULL OR to_date >= from_date",
            name=op.f("ck_lucky_draw_schedules_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["games.id"],
            name=op.f("fk_lucky_draw_schedules_game_id_games"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lucky_draw_schedules")),
    )
    op.create_index(
        op.f("ix_lucky_draw_schedules_game_id"), "lucky_draw_schedules", ["game_id"]
    )
    op.create_table(
        "lucky_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("winners_requested", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("candidate_count", sa.Integer(), nullable=False),
        sa.Column("candidates_sha256", sa.String(length=64), nullable=False),
        sa.Column("candidate_ids", sa.JSON(), nullable=False),
        sa.Column("drawn_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drawn_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["games.id"], name=op.f("fk_lucky_draws_game_id_games"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["lucky_draw_schedules.id"],
            name=op.f("fk_lucky_draws_schedule_id_lucky_draw_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lucky_draws")),
        sa.UniqueConstraint(
            "schedule_id", "local_date", name=op.f("uq_lucky_draws_schedule_id_local_date")
        ),
    )
    op.create_index(op.f("ix_lucky_draws_game_id"), "lucky_draws", ["game_id"])
    op.create_table(
        "lucky_draw_winners",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["lucky_draws.id"],
            name=op.f("fk_lucky_draw_winners_draw_id_lucky_draws"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["game_id"],
            ["games.id"],
            name=op.f("fk_lucky_draw_winners_game_id_games"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_lucky_draw_winners_player_id_players"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("draw_id", "position", name=op.f("pk_lucky_draw_winners")),
    )
    op.create_index(op.f("ix_lucky_draw_winners_game_id"), "lucky_draw_winners", ["game_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Scoring rewrites the ledger columns of taps (right after an upload inserts them, and
        # again on every re-score) and the totals rows in place. Free space in each page lets
        # PostgreSQL make those HOT updates: no new index entries, far less WAL.
        for table, fill in FILLFACTORS.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {fill})")


FILLFACTORS = {
    "taps": 50,
    "holder_totals": 80,
    "holder_days": 80,
    "holder_team_totals": 80,
    "team_totals": 50,
}


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILLFACTORS:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.drop_index(op.f("ix_lucky_draw_winners_game_id"), table_name="lucky_draw_winners")
    op.drop_table("lucky_draw_winners")
    op.drop_index(op.f("ix_lucky_draws_game_id"), table_name="lucky_draws")
    op.drop_table("lucky_draws")
    op.drop_index(op.f("ix_lucky_draw_schedules_game_id"), table_name="lucky_draw_schedules")
    op.drop_table("lucky_draw_schedules")
