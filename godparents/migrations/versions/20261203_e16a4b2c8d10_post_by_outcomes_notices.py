"""letters: transit times for post-by dates; notices of what changed for a godchild; the
weekly question about letters' fate; "letters get through" may be not known

Revision ID: e16a4b2c8d10
Revises: e5b8d2f4a6c1
Create Date: 2026-12-03 14:00:00
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e16a4b2c8d10'
down_revision = 'e5b8d2f4a6c1'
branch_labels = None
depends_on = None

_OLD_TRIGGERS = ('birthday', 'detention_anniversary', 'detention_milestone', 'key_date',
                 'campaign_day', 'inactivity', 'sponsorship_start', 'coordinator_digest')
_NOTICES = ('transfer', 'release', 'sentence', 'hearing')
_NEW_TRIGGERS = _OLD_TRIGGERS + tuple(f'notice_{kind}' for kind in _NOTICES) + (
    'letter_outcomes',)

_rules = sa.table(
    'reminder_rules',
    sa.column('name', sa.String), sa.column('trigger', sa.String),
    sa.column('offset_days', sa.Integer), sa.column('key_date_kinds', sa.JSON),
    sa.column('to_sponsor', sa.Boolean), sa.column('to_delegates', sa.Boolean),
    sa.column('to_coordinators', sa.Boolean), sa.column('template', sa.String),
    sa.column('is_active', sa.Boolean), sa.column('created_at', sa.DateTime(timezone=True)),
)


def _check(values):
    return '"trigger" IN (' + ', '.join(f"'{value}'" for value in values) + ')'


def upgrade():
    op.create_table(
        'transit_times',
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('days BETWEEN 0 AND 120', name=op.f('ck_transit_times_days')),
        sa.PrimaryKeyConstraint('country', name=op.f('pk_transit_times')),
    )
    op.create_table(
        'change_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('prisoner_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['prisoner_id'], ['prisoners.id'],
                                name=op.f('fk_change_notices_prisoner_id_prisoners'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_notices')),
    )
    with op.batch_alter_table('change_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_notices_prisoner_id'),
                              ['prisoner_id', 'kind', 'fingerprint'], unique=True)
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminder_rules_trigger'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_reminder_rules_trigger'),
                                         sa.text(_check(_NEW_TRIGGERS)))
    # The coordinators' word on letters becomes yes, no or not known (NULL); the rows keep
    # what they say.
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.alter_column('can_receive_letters', existing_type=sa.Boolean(),
                              nullable=True)
    now = datetime.now(timezone.utc)
    op.bulk_insert(_rules, [
        {'name': f'News: {kind}', 'trigger': f'notice_{kind}', 'offset_days': 0,
         'key_date_kinds': [], 'to_sponsor': True, 'to_delegates': True,
         'to_coordinators': False, 'template': f'notice_{kind}', 'is_active': True,
         'created_at': now}
        for kind in _NOTICES
    ] + [
        {'name': 'Did your letters arrive?', 'trigger': 'letter_outcomes', 'offset_days': 0,
         'key_date_kinds': [], 'to_sponsor': True, 'to_delegates': True,
         'to_coordinators': False, 'template': 'letter_outcomes', 'is_active': True,
         'created_at': now},
    ])


def downgrade():
    connection = op.get_bind()
    outbox = sa.table('outbox_messages', sa.column('rule_id', sa.Integer))
    ids = sa.table('reminder_rules', sa.column('id', sa.Integer), sa.column('trigger', sa.String))
    rule_ids = sa.select(ids.c.id).where(ids.c.trigger.like('notice_%')
                                          | (ids.c.trigger == 'letter_outcomes'))
    connection.execute(outbox.delete().where(outbox.c.rule_id.in_(rule_ids)))
    connection.execute(_rules.delete().where(_rules.c.trigger.like('notice_%')
                                             | (_rules.c.trigger == 'letter_outcomes')))
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reminder_rules_trigger'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_reminder_rules_trigger'),
                                         sa.text(_check(_OLD_TRIGGERS)))
    prisoners = sa.table('prisoners', sa.column('can_receive_letters', sa.Boolean))
    # Not known was yes before (the old default).
    connection.execute(prisoners.update().where(prisoners.c.can_receive_letters.is_(None))
                       .values(can_receive_letters=True))
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.alter_column('can_receive_letters', existing_type=sa.Boolean(),
                              nullable=False)
    with op.batch_alter_table('change_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_notices_prisoner_id'))
    op.drop_table('change_notices')
    op.drop_table('transit_times')
