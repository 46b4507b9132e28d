"""security, second round: inactive godparents' accounts off, TOTP keys encrypted, passkeys

Revision ID: c4f1a9e2b7d3
Revises: c41e0a7b9d23
Create Date: 2026-12-03 09:00:00

A godparent set inactive must not be able to log in. Deactivation switches the account
off, but accounts created otherwise (the demo seed, an invitation accepted while the
godparent was inactive) could stay on: they are switched off here. Downgrading leaves
them off: which of them were on before cannot be told, and off is the safe side.

The TOTP keys (confirmed and pending) move into new columns, encrypted with the key kept
outside the database (godparents/encryption.py), and the old columns are emptied. The old
columns stay (always empty): dropping or retyping a column rebuilds the table on SQLite,
and with foreign keys enforced that rebuild would empty what refers to it. Downgrading
puts the keys back in clear and drops the new columns (SQLite drops columns in place).

Passkeys (WebAuthn) get a table of their own, and users the hash of the passkey challenge
offered at the second step of logging in (claimed once).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4f1a9e2b7d3'
down_revision = 'c41e0a7b9d23'
branch_labels = None
depends_on = None

_users = sa.table("users", sa.column("id", sa.Integer), sa.column("is_active", sa.Boolean))
_sponsors = sa.table("sponsors", sa.column("user_id", sa.Integer),
                     sa.column("is_active", sa.Boolean))


_SECRETS = (("users", "totp_secret", "totp_key"),
            ("user_sessions", "pending_totp_secret", "pending_totp_key"))


def _move(change, source, target):
    """Every stored TOTP key from column ``source`` through ``change`` into ``target``."""
    connection = op.get_bind()
    for table_name, *columns in _SECRETS:
        names = dict(zip(("clear", "encrypted"), columns))
        table = sa.table(table_name, sa.column("id", sa.Integer),
                         *(sa.column(name, sa.String) for name in columns))
        old, new = table.c[names[source]], table.c[names[target]]
        rows = connection.execute(sa.select(table.c.id, old).where(old.is_not(None)))
        for row_id, stored in rows.all():
            connection.execute(table.update().where(table.c.id == row_id)
                               .values({new.name: change(stored), old.name: None}))


def upgrade():
    from godparents import encryption  # the app's key: this runs inside `flask db upgrade`

    for table_name, _clear, encrypted in _SECRETS:
        op.add_column(table_name, sa.Column(encrypted, sa.String(length=255), nullable=True))
    _move(encryption.encrypt, "clear", "encrypted")

    op.add_column("users", sa.Column("passkey_challenge_hash", sa.String(length=64),
                                     nullable=True))
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_passkeys_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_user_id"), "passkeys", ["user_id"], unique=False)

    inactive_godparents = (sa.select(_sponsors.c.user_id)
                           .where(_sponsors.c.is_active.is_(False),
                                  _sponsors.c.user_id.is_not(None)))
    op.execute(_users.update().where(_users.c.id.in_(inactive_godparents))
               .values(is_active=False))


def downgrade():
    from godparents import encryption

    op.drop_index(op.f("ix_passkeys_user_id"), table_name="passkeys")
    op.drop_table("passkeys")
    op.drop_column("users", "passkey_challenge_hash")
    _move(encryption.decrypt, "encrypted", "clear")
    for table_name, _clear, encrypted in _SECRETS:
        op.drop_column(table_name, encrypted)
