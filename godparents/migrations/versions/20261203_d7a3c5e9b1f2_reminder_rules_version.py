"""reminders: rules carry an edit version (a stale form no longer undoes a newer save)

Revision ID: d7a3c5e9b1f2
Revises: c4f2a91d7e30
Create Date: 2026-12-03 13:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7a3c5e9b1f2'
down_revision = 'c4f2a91d7e30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.drop_column('version')
