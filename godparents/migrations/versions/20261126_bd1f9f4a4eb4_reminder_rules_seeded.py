"""reminders: a record of runs, key-date kinds on rules, message bodies beside the messages, the default rules, indexes

Revision ID: bd1f9f4a4eb4
Revises: 11438e10f9dd
Create Date: 2026-11-26 01:11:14.127192

The default rules are written out here, not imported: this migration must seed the same
rows whatever the code says later. tests/test_reminder_rules.py checks that they agree with
godparents/reminders/defaults.py.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'bd1f9f4a4eb4'
down_revision = '11438e10f9dd'
branch_labels = None
depends_on = None

_TEAM = {"to_sponsor": True, "to_delegates": True, "to_coordinators": False}
_COURT = ["trial", "appeal", "hearing"]
DEFAULT_RULES = [
    {"name": "Birthday card", "trigger": "birthday", "offset_days": 30,
     "template": "birthday_card", "key_date_kinds": [], **_TEAM},
    {"name": "Birthday greeting", "trigger": "birthday", "offset_days": 0,
     "template": "birthday", "key_date_kinds": [], **_TEAM},
    {"name": "Detention anniversary, a week before", "trigger": "detention_anniversary",
     "offset_days": 7, "template": "detention_anniversary", "key_date_kinds": [], **_TEAM},
    {"name": "Detention anniversary, on the day", "trigger": "detention_anniversary",
     "offset_days": 0, "template": "detention_anniversary", "key_date_kinds": [], **_TEAM},
    {"name": "Days in detention", "trigger": "detention_milestone", "offset_days": 3,
     "template": "detention_milestone", "key_date_kinds": [], **_TEAM},
    {"name": "Trial or hearing, a week before", "trigger": "key_date", "offset_days": 7,
     "template": "key_date", "key_date_kinds": _COURT, **_TEAM},
    {"name": "Trial or hearing, the day before", "trigger": "key_date", "offset_days": 1,
     "template": "key_date", "key_date_kinds": _COURT, **_TEAM},
    {"name": "Expected release", "trigger": "key_date", "offset_days": 14,
     "template": "expected_release", "key_date_kinds": ["expected_release"], **_TEAM},
    {"name": "Campaign day", "trigger": "campaign_day", "offset_days": 7,
     "template": "campaign_day", "key_date_kinds": [], **_TEAM},
    {"name": "Nothing logged for a while", "trigger": "inactivity", "offset_days": -60,
     "template": "inactivity", "key_date_kinds": [], **_TEAM},
    {"name": "Welcome", "trigger": "sponsorship_start", "offset_days": 0,
     "template": "welcome", "key_date_kinds": [], **_TEAM},
    {"name": "First steps, two weeks later", "trigger": "sponsorship_start",
     "offset_days": -14, "template": "welcome_followup", "key_date_kinds": [], **_TEAM},
    {"name": "Weekly digest", "trigger": "coordinator_digest", "offset_days": 0,
     "template": "coordinator_digest", "key_date_kinds": [], "to_sponsor": False,
     "to_delegates": False, "to_coordinators": True},
]


def upgrade():
    op.create_table('reminder_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('planned_for', sa.Date(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('planned', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_runs'))
    )
    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_runs_planned_for'), ['planned_for'], unique=False)

    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_date_kinds', sa.JSON(), nullable=False,
                                      server_default='[]'))
    # The bodies move beside the message (sending rewrites the message's row twice), with
    # the email as composed for the wire; what is there already moves with them.
    op.create_table('outbox_contents',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('mime', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_outbox_contents_message_id_outbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_outbox_contents'))
    )
    op.execute("INSERT INTO outbox_contents (message_id, body_text, body_html) "
               "SELECT id, body_text, body_html FROM outbox_messages")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('body_html')
        batch_op.drop_column('body_text')

    # The reminder planner's lookups: held prisoners' dates, pairings by start day.
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.create_index('ix_prisoners_status_dates',
                              ['status', 'birth_date', 'detained_on', 'expected_release_on'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_prisoners_expected_release_on'),
                              ['expected_release_on'], unique=False)
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.create_index('ix_sponsorships_status_started_on', ['status', 'started_on'],
                              unique=False)
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_occurred_on_sponsorship_id',
                              ['occurred_on', 'sponsorship_id'], unique=False)

    rules = sa.table(
        'reminder_rules',
        sa.column('name', sa.String), sa.column('trigger', sa.String),
        sa.column('offset_days', sa.Integer), sa.column('to_sponsor', sa.Boolean),
        sa.column('to_delegates', sa.Boolean), sa.column('to_coordinators', sa.Boolean),
        sa.column('template', sa.String), sa.column('is_active', sa.Boolean),
        sa.column('key_date_kinds', sa.JSON), sa.column('created_at', sa.DateTime(timezone=True)),
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(rules, [{**rule, "is_active": True, "created_at": now}
                           for rule in DEFAULT_RULES])


def downgrade():
    rules = sa.table("reminder_rules", sa.column("name", sa.String))
    op.execute(rules.delete().where(rules.c.name.in_([rule["name"] for rule in DEFAULT_RULES])))
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_occurred_on_sponsorship_id')
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.drop_index('ix_sponsorships_status_started_on')
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prisoners_expected_release_on'))
        batch_op.drop_index('ix_prisoners_status_dates')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
    op.execute("UPDATE outbox_messages SET "
               "body_text = (SELECT body_text FROM outbox_contents "
               "WHERE message_id = outbox_messages.id), "
               "body_html = (SELECT body_html FROM outbox_contents "
               "WHERE message_id = outbox_messages.id) "
               "WHERE id IN (SELECT message_id FROM outbox_contents)")
    op.drop_table('outbox_contents')
    with op.batch_alter_table('reminder_rules', schema=None) as batch_op:
        batch_op.drop_column('key_date_kinds')

    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_runs_planned_for'))

    op.drop_table('reminder_runs')
