"""evaluation tables (owned by the evaluation domain)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NATURE_ITEMS = (
    "nature_beauty",
    "nature_respect",
    "nature_happy",
    "nature_important",
    "nature_amazing",
    "nature_part",
)


def _game_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["game_id"], ["games.id"], name=op.f(f"fk_{table}_game_id_games"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "lsoa_areas",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("lad_code", sa.String(length=12), nullable=True),
        sa.Column("lad_name", sa.String(length=120), nullable=True),
        sa.Column("nation", sa.String(length=16), nullable=False),
        sa.Column("edition", sa.String(length=8), nullable=False),
        sa.Column("imd_score", sa.Float(), nullable=True),
        sa.Column("imd_rank", sa.Integer(), nullable=False),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "imd_decile BETWEEN 1 AND 10", name=op.f("ck_lsoa_areas_decile_range")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_lsoa_areas")),
    )
    op.create_index("ix_lsoa_areas_lad", "lsoa_areas", ["lad_code"])

    op.create_table(
        "postcode_lookup",
        sa.Column("pcds", sa.String(length=8), nullable=False),
        sa.Column("lsoa_code", sa.String(length=12), nullable=False),
        sa.Column("terminated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("pcds", name=op.f("pk_postcode_lookup")),
    )

    op.create_table(
        "survey_waves",
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.SmallInteger(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("opened_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("wave BETWEEN 1 AND 3", name=op.f("ck_survey_waves_wave_range")),
        _game_fk("survey_waves"),
        sa.PrimaryKeyConstraint("game_id", "wave", name=op.f("pk_survey_waves")),
    )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.SmallInteger(), nullable=False),
        sa.Column("answered_by", sa.String(length=16), nullable=False),
        sa.Column("activity_days", sa.SmallInteger(), nullable=True),
        sa.Column("belonging", sa.String(length=12), nullable=True),
        sa.Column("nature_beauty", sa.SmallInteger(), nullable=True),
        sa.Column("nature_respect", sa.SmallInteger(), nullable=True),
        sa.Column("nature_happy", sa.SmallInteger(), nullable=True),
        sa.Column("nature_important", sa.SmallInteger(), nullable=True),
        sa.Column("nature_amazing", sa.SmallInteger(), nullable=True),
        sa.Column("nature_part", sa.SmallInteger(), nullable=True),
        sa.Column("declined", sa.JSON(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("submitted_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "wave BETWEEN 1 AND 3", name=op.f("ck_survey_responses_wave_range")
        ),
        sa.CheckConstraint(
            "answered_by IN ('self','parent_or_carer')",
            name=op.f("ck_survey_responses_answered_by"),
        ),
        sa.CheckConstraint(
            "activity_days IS NULL OR activity_days BETWEEN 0 AND 7",
            name=op.f("ck_survey_responses_activity_range"),
        ),
        sa.CheckConstraint(
            "belonging IS NULL OR belonging IN ('very','fairly','not_very','not_at_all')",
            name=op.f("ck_survey_responses_belonging_values"),
        ),
        *(
            sa.CheckConstraint(
                f"{item} IS NULL OR {item} BETWEEN 1 AND 7",
                name=op.f(f"ck_survey_responses_{item}_range"),
            )
            for item in NATURE_ITEMS
        ),
        _game_fk("survey_responses"),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_survey_responses_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "game_id",
            "player_id",
            "wave",
            name=op.f("uq_survey_responses_game_id_player_id_wave"),
        ),
    )
    op.create_index(
        "ix_survey_responses_game_wave", "survey_responses", ["game_id", "wave"]
    )

    op.create_table(
        "evaluation_areas",
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("lad_code", sa.String(length=12), nullable=False),
        _game_fk("evaluation_areas"),
        sa.PrimaryKeyConstraint("game_id", "lad_code", name=op.f("pk_evaluation_areas")),
    )

    op.create_table(
        "evaluation_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("k >= 2", name=op.f("ck_evaluation_projects_k_min")),
        _game_fk("evaluation_projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_projects")),
        sa.UniqueConstraint(
            "game_id", "name", name=op.f("uq_evaluation_projects_game_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("evaluation_projects")
    op.drop_table("evaluation_areas")
    op.drop_index("ix_survey_responses_game_wave", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_table("survey_waves")
    op.drop_table("postcode_lookup")
    op.drop_index("ix_lsoa_areas_lad", table_name="lsoa_areas")
    op.drop_table("lsoa_areas")
