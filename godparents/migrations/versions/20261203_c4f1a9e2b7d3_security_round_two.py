"""security, second round: inactive godparents' accounts off, TOTP keys encrypted

Revision ID: c4f1a9e2b7d3
Revises: 8e3b1c7d2a55
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
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4f1a9e2b7d3'
down_revision = '8e3b1c7d2a55'
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

    inactive_godparents = (sa.select(_sponsors.c.user_id)
                           .where(_sponsors.c.is_active.is_(False),
                                  _sponsors.c.user_id.is_not(None)))
    op.execute(_users.update().where(_users.c.id.in_(inactive_godparents))
               .values(is_active=False))


def downgrade():
    from godparents import encryption

    _move(encryption.decrypt, "encrypted", "clear")
    for table_name, _clear, encrypted in _SECRETS:
        op.drop_column(table_name, encrypted)
