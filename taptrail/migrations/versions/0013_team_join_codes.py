"""teams.join_code: family, community, workplace and other teams are joined with a code

Schools are picked from the list (join_code stays null); every other team of an existing
game gets a random code here, as loading a game gives one to a new team, so no team is
left open to anyone. Codes are unique per game (a unique index: NULLs never collide). The
column is added without a table rebuild (SQLite's ADD COLUMN), so rows referring to teams
are left alone.

Revision ID: 0013
Revises: 0012
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same alphabet and length as game/join_codes.py (kept here: migrations stand alone).
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_LENGTH = 8


def upgrade() -> None:
    op.add_column("teams", sa.Column("join_code", sa.String(length=16), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, game_id FROM teams WHERE kind <> 'school' ORDER BY id")
    ).all()
    taken: set[tuple[int, str]] = set()
    for team_id, game_id in rows:
        while True:
            code = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
            if (game_id, code) not in taken:
                break
        taken.add((game_id, code))
        bind.execute(
            sa.text("UPDATE teams SET join_code = :code WHERE id = :id"),
            {"code": code, "id": team_id},
        )
    op.create_index(
        "uq_teams_game_id_join_code", "teams", ["game_id", "join_code"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_teams_game_id_join_code", table_name="teams")
    # Not batch mode: a SQLite table rebuild would delete and re-insert every team, firing
    # the ON DELETE actions of the tables that refer to teams. SQLite 3.35+ drops columns.
    op.drop_column("teams", "join_code")
