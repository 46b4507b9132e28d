"""reports: an index that holds everything the impact report counts of an action, so that a
year's actions are counted from the index alone (the day, the pairing, the kind, the outcome)

Revision ID: f18b0c1d2e3b
Revises: e16a4b2c8d10
Create Date: 2026-12-03 16:20:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f18b0c1d2e3b'
down_revision = 'f17a0c1d2e3a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_actions_occurred_on_counted',
            ['occurred_on', 'sponsorship_id', 'kind', 'letter_outcome'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_occurred_on_counted')
