"""players: made-up public names, a parent's choice to show the nickname, skeleton keys

- ``public_name``: how public boards show a player under 16 ("Brave Otter 42"), unique per
  game; every player not erased gets one now.
- ``show_nickname``: a parent's deliberate choice to show an under-16's nickname instead
  (false for everyone now: existing children are shown by their made-up name).
- ``nickname_key`` becomes the Unicode TR39 skeleton of the nickname without spaces or
  punctuation (names.nicknames.nickname_key). Two existing nicknames that now share a key
  both stay: the older player keeps the key, the newer one's key gets ``#<player id>``
  (a character no nickname has), so neither blocks the other and new look-alikes of either
  are refused.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from names.nicknames import KEY_LENGTH, nickname_key
from names.public_names import pick_name

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_players = sa.table(
    "players",
    sa.column("id", sa.Integer()),
    sa.column("game_id", sa.Integer()),
    sa.column("nickname", sa.String()),
    sa.column("nickname_key", sa.String()),
    sa.column("public_name", sa.String()),
    sa.column("erased_at", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("players") as batch:
        batch.add_column(sa.Column("public_name", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("show_nickname", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _fill()
    with op.batch_alter_table("players") as batch:
        batch.create_unique_constraint(
            op.f("uq_players_game_id_public_name"), ["game_id", "public_name"]
        )


def _fill() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_players.c.id, _players.c.game_id, _players.c.nickname, _players.c.erased_at)
        .order_by(_players.c.id)
    ).all()
    keys: dict[int, set[str]] = {}
    names: dict[int, set[str]] = {}
    # Clear the old keys first: a new key may equal another player's old one.
    bind.execute(sa.update(_players).values(nickname_key=None))
    for player_id, game_id, nickname, erased_at in rows:
        values: dict[str, str | None] = {}
        if nickname is not None:
            key = nickname_key(nickname)
            taken = keys.setdefault(game_id, set())
            if key in taken:
                suffix = f"#{player_id}"
                key = key[: KEY_LENGTH - len(suffix)] + suffix
            taken.add(key)
            values["nickname_key"] = key
        if erased_at is None:
            values["public_name"] = pick_name(names.setdefault(game_id, set()))
        if values:
            bind.execute(sa.update(_players).where(_players.c.id == player_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("players") as batch:
        batch.drop_constraint(op.f("uq_players_game_id_public_name"), type_="unique")
        batch.drop_column("show_nickname")
        batch.drop_column("public_name")
    bind = op.get_bind()
    rows = bind.execute(sa.select(_players.c.id, _players.c.nickname)).all()
    bind.execute(sa.update(_players).values(nickname_key=None))
    for player_id, nickname in rows:
        if nickname is not None:
            key = " ".join(nickname.split()).casefold()[:KEY_LENGTH]
            bind.execute(
                sa.update(_players).where(_players.c.id == player_id).values(nickname_key=key)
            )
