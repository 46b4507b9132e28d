"""initial schema: every table of the data model in DESIGN.md

Revision ID: 11438e10f9dd
Revises: 
Create Date: 2026-11-26 00:21:59.709683

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '11438e10f9dd'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('month', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('day BETWEEN 1 AND 31', name=op.f('ck_campaign_days_day')),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_campaign_days_month')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_days')),
    sa.UniqueConstraint('name', name=op.f('uq_campaign_days_name'))
    )
    op.create_table('prisoners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_latin', sa.String(length=200), nullable=False),
    sa.Column('name_be', sa.String(length=200), nullable=True),
    sa.Column('name_ru', sa.String(length=200), nullable=True),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('gender', sa.Enum('f', 'm', 'x', name='gender', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('pretrial', 'sentenced', 'released', 'pardoned', 'deported', 'died', 'unknown', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('detained_on', sa.Date(), nullable=True),
    sa.Column('released_on', sa.Date(), nullable=True),
    sa.Column('articles', sa.JSON(), nullable=False),
    sa.Column('sentence', sa.String(length=500), nullable=True),
    sa.Column('expected_release_on', sa.Date(), nullable=True),
    sa.Column('can_receive_letters', sa.Boolean(), nullable=False),
    sa.Column('health_notes', sa.Text(), nullable=True),
    sa.Column('public_bio', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('has_public_consent', sa.Boolean(), nullable=False),
    sa.Column('last_verified_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prisoners')),
    sa.UniqueConstraint('external_id', name=op.f('uq_prisoners_external_id'))
    )
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prisoners_detained_on'), ['detained_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_prisoners_status'), ['status'], unique=False)

    op.create_table('reminder_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.Enum('birthday', 'detention_anniversary', 'detention_milestone', 'key_date', 'campaign_day', 'inactivity', 'sponsorship_start', 'coordinator_digest', name='trigger', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('to_sponsor', sa.Boolean(), nullable=False),
    sa.Column('to_delegates', sa.Boolean(), nullable=False),
    sa.Column('to_coordinators', sa.Boolean(), nullable=False),
    sa.Column('template', sa.String(length=100), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rules'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('coordinator', 'sponsor', 'delegate', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('session_generation', sa.Integer(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('calendar_token_hash', sa.String(length=128), nullable=True),
    sa.Column('reminder_opt_outs', sa.JSON(), nullable=False),
    sa.Column('birthday_card_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('calendar_token_hash', name=op.f('uq_users_calendar_token_hash')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=50), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_object_type'), ['object_type', 'object_id'], unique=False)

    op.create_table('key_dates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('trial', 'appeal', 'hearing', 'expected_release', 'custom', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('occurs_on', sa.Date(), nullable=False),
    sa.Column('is_yearly', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoners.id'], name=op.f('fk_key_dates_prisoner_id_prisoners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_dates'))
    )
    with op.batch_alter_table('key_dates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_dates_occurs_on'), ['occurs_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_dates_prisoner_id'), ['prisoner_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('subject_ref', sa.String(length=100), nullable=False),
    sa.Column('occurs_on', sa.Date(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'cancelled', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['users.id'], name=op.f('fk_outbox_messages_recipient_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['reminder_rules.id'], name=op.f('fk_outbox_messages_rule_id_reminder_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient_user_id'), ['recipient_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_status'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('prisoner_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('facility', sa.String(length=300), nullable=True),
    sa.Column('postal_address', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoners.id'], name=op.f('fk_prisoner_addresses_prisoner_id_prisoners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prisoner_addresses'))
    )
    with op.batch_alter_table('prisoner_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prisoner_addresses_prisoner_id'), ['prisoner_id', 'valid_from'], unique=False)

    op.create_table('prisoner_photos',
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('mimetype', sa.String(length=50), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoners.id'], name=op.f('fk_prisoner_photos_prisoner_id_prisoners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('prisoner_id', name=op.f('pk_prisoner_photos'))
    )
    op.create_table('sponsors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('body', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('mandate_ends_on', sa.Date(), nullable=True),
    sa.Column('has_public_consent', sa.Boolean(), nullable=False),
    sa.Column('public_quote', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sponsors_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsors')),
    sa.UniqueConstraint('user_id', name=op.f('uq_sponsors_user_id'))
    )
    op.create_table('delegations',
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_delegations_sponsor_id_sponsors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_delegations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sponsor_id', 'user_id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_user_id'), ['user_id'], unique=False)

    op.create_table('sponsorships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'ended', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Enum('released', 'mandate_ended', 'withdrew', 'died', 'other', name='end_reason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('has_public_consent', sa.Boolean(), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoners.id'], name=op.f('fk_sponsorships_prisoner_id_prisoners')),
    sa.ForeignKeyConstraint(['sponsor_id'], ['sponsors.id'], name=op.f('fk_sponsorships_sponsor_id_sponsors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsorships'))
    )
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsorships_prisoner_id'), ['prisoner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sponsorships_sponsor_id'), ['sponsor_id'], unique=False)
        batch_op.create_index('uq_sponsorships_active_pair', ['sponsor_id', 'prisoner_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsorship_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('letter', 'card', 'parcel', 'letter_to_authorities', 'embassy_contact', 'speech', 'parliamentary_question', 'statement', 'social_media', 'event', 'petition', 'visit', 'family_contact', 'other', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('letter_outcome', sa.Enum('sent', 'delivered', 'reply_received', 'returned', 'censored', 'unknown', name='letter_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logged_by_id'], ['users.id'], name=op.f('fk_actions_logged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sponsorship_id'], ['sponsorships.id'], name=op.f('fk_actions_sponsorship_id_sponsorships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_logged_by_id'), ['logged_by_id'], unique=False)
        batch_op.create_index('ix_actions_occurred_on_kind', ['occurred_on', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_sponsorship_id'), ['sponsorship_id', 'occurred_on'], unique=False)



def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_sponsorship_id'))
        batch_op.drop_index('ix_actions_occurred_on_kind')
        batch_op.drop_index(batch_op.f('ix_actions_logged_by_id'))

    op.drop_table('actions')
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.drop_index('uq_sponsorships_active_pair', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_sponsorships_sponsor_id'))
        batch_op.drop_index(batch_op.f('ix_sponsorships_prisoner_id'))

    op.drop_table('sponsorships')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_user_id'))

    op.drop_table('delegations')
    op.drop_table('sponsors')
    op.drop_table('prisoner_photos')
    with op.batch_alter_table('prisoner_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prisoner_addresses_prisoner_id'))

    op.drop_table('prisoner_addresses')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_rule_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_recipient_user_id'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('key_dates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_dates_prisoner_id'))
        batch_op.drop_index(batch_op.f('ix_key_dates_occurs_on'))

    op.drop_table('key_dates')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_object_type'))
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('reminder_rules')
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prisoners_status'))
        batch_op.drop_index(batch_op.f('ix_prisoners_detained_on'))

    op.drop_table('prisoners')
    op.drop_table('campaign_days')
