"""Family accounts, their sessions and the players they hold; the languages a game offers

``family_accounts`` (an e-mail or an account code, an Argon2id password hash, a hashed
recovery code), ``family_sessions`` (hashed ids, CSRF token) and ``family_members`` (one
account per player). ``games.languages``: a JSON list of language codes the family site
offers for the game (NULL = English and Welsh).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=True))
    op.create_table(
        "family_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("account_code", sa.String(length=16), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("recovery_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_family_accounts_email")),
        sa.UniqueConstraint("account_code", name=op.f("uq_family_accounts_account_code")),
    )
    op.create_table(
        "family_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["family_accounts.id"],
            name=op.f("fk_family_sessions_account_id_family_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_sessions")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_family_sessions_id_hash")),
    )
    op.create_index(
        op.f("ix_family_sessions_account_id"), "family_sessions", ["account_id"], unique=False
    )
    op.create_table(
        "family_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["family_accounts.id"],
            name=op.f("fk_family_members_account_id_family_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_family_members_player_id_players")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_members")),
        sa.UniqueConstraint("player_id", name=op.f("uq_family_members_player_id")),
    )
    op.create_index(
        op.f("ix_family_members_account_id"), "family_members", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_family_members_account_id"), table_name="family_members")
    op.drop_table("family_members")
    op.drop_index(op.f("ix_family_sessions_account_id"), table_name="family_sessions")
    op.drop_table("family_sessions")
    op.drop_table("family_accounts")
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.drop_column("languages")
