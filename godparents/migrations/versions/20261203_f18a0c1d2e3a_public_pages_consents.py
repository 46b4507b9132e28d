"""public pages: their settings (off by default) and the record of public consents given
and withdrawn

Revision ID: f18a0c1d2e3a
Revises: e16a4b2c8d10
Create Date: 2026-12-03 16:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f18a0c1d2e3a'
down_revision = 'f18b0c1d2e3b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'public_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('contact_email', sa.String(length=254), nullable=True),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_public_settings_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_public_settings')),
    )
    op.create_table(
        'consent_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_type', sa.Enum('prisoner', 'sponsor', 'sponsorship',
                                         name='record_type', native_enum=False,
                                         create_constraint=True, length=32),
                  nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('is_given', sa.Boolean(), nullable=False),
        sa.Column('given_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['given_by_id'], ['users.id'],
                                name=op.f('fk_consent_events_given_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events')),
    )
    with op.batch_alter_table('consent_events') as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_events_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_record_type_record_id'),
                              ['record_type', 'record_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consent_events') as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_events_record_type_record_id'))
        batch_op.drop_index(batch_op.f('ix_consent_events_created_at'))
    op.drop_table('consent_events')
    op.drop_table('public_settings')
