"""security, second round: inactive godparents' accounts switched off

Revision ID: c4f1a9e2b7d3
Revises: 8e3b1c7d2a55
Create Date: 2026-12-03 09:00:00

A godparent set inactive must not be able to log in. Deactivation switches the account
off, but accounts created otherwise (the demo seed, an invitation accepted while the
godparent was inactive) could stay on: they are switched off here. Downgrading leaves
them off: which of them were on before cannot be told, and off is the safe side.
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


def upgrade():
    inactive_godparents = (sa.select(_sponsors.c.user_id)
                           .where(_sponsors.c.is_active.is_(False),
                                  _sponsors.c.user_id.is_not(None)))
    op.execute(_users.update().where(_users.c.id.in_(inactive_godparents))
               .values(is_active=False))


def downgrade():
    pass
