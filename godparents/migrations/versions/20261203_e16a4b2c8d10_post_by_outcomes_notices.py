"""letters: transit times for post-by dates

Revision ID: e16a4b2c8d10
Revises: d7a3c5e9b1f2
Create Date: 2026-12-03 14:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e16a4b2c8d10'
down_revision = 'd7a3c5e9b1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'transit_times',
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('days BETWEEN 0 AND 120', name=op.f('ck_transit_times_days')),
        sa.PrimaryKeyConstraint('country', name=op.f('pk_transit_times')),
    )


def downgrade():
    op.drop_table('transit_times')
