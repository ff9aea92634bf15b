"""Survey instruments chosen per game: ONS personal well-being (ONS4) and ONS loneliness

``games.survey_instruments`` (JSON list, NULL = the default activity, belonging and nature)
and five optional answer columns on ``survey_responses``: the four ONS4 items (0-10) and the
ONS direct loneliness question (one of five answers). Batch mode: SQLite rebuilds the table
to add the range checks; PostgreSQL alters it in place.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONS4 = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
_LONELINESS = "'often_always','some_of_the_time','occasionally','hardly_ever','never'"


def upgrade() -> None:
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey_instruments", sa.JSON(), nullable=True))
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        for item in _ONS4:
            batch_op.add_column(sa.Column(item, sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("loneliness", sa.String(length=16), nullable=True))
        for item in _ONS4:
            batch_op.create_check_constraint(
                op.f(f"ck_survey_responses_{item}_range"),
                sa.text(f"{item} IS NULL OR {item} BETWEEN 0 AND 10"),
            )
        batch_op.create_check_constraint(
            op.f("ck_survey_responses_loneliness_values"),
            sa.text(f"loneliness IS NULL OR loneliness IN ({_LONELINESS})"),
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_survey_responses_loneliness_values"), type_="check")
        for item in _ONS4:
            batch_op.drop_constraint(op.f(f"ck_survey_responses_{item}_range"), type_="check")
        batch_op.drop_column("loneliness")
        for item in reversed(_ONS4):
            batch_op.drop_column(item)
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.drop_column("survey_instruments")
