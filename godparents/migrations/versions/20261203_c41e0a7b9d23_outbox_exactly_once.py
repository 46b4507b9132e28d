"""reminders: exactly once under faults; runs with a lifecycle; bounces

Revision ID: c41e0a7b9d23
Revises: 8e3b1c7d2a55
Create Date: 2026-12-03 10:00:00

- The outbox's uniqueness rests on its columns (date, rule, recipient, subject), each NOT
  NULL, instead of a key string whose format once changed under running code. Messages
  whose rule or recipient no longer exists cannot be planned again, so they cannot be
  duplicated either: they are deleted (no code path makes them: rules are never deleted,
  and erasing an account deletes its messages first). A missing date is read back from
  the old key, else the day the message was made.
- A claim names its runner (``claimed_by``); a message remembers its Message-ID, which a
  bounce quotes.
- A reminder run has a lifecycle (requested, running, finished, ...) and its counts.
- Bounces and the addresses that bounced for good.
"""
import re
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c41e0a7b9d23'
down_revision = '8e3b1c7d2a55'
branch_labels = None
depends_on = None

_KEY_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}):")

_outbox = sa.table(
    "outbox_messages", sa.column("id", sa.Integer), sa.column("idempotency_key", sa.String),
    sa.column("rule_id", sa.Integer), sa.column("recipient_user_id", sa.Integer),
    sa.column("subject_ref", sa.String), sa.column("occurs_on", sa.Date),
    sa.column("created_at", sa.DateTime(timezone=True)))

_RUN_STATUS = sa.Enum('requested', 'running', 'finished', 'undelivered', 'stopped', 'crashed',
                      name='status', native_enum=False, create_constraint=True, length=32)


def _fill_dates(connection):
    rows = connection.execute(
        sa.select(_outbox.c.id, _outbox.c.idempotency_key, _outbox.c.created_at)
        .where(_outbox.c.occurs_on.is_(None))).all()
    for row_id, key, created_at in rows:
        match = _KEY_DATE.match(key or "")
        if match:
            on = date(*(int(part) for part in match.groups()))
        else:
            on = created_at.date() if created_at else date(2000, 1, 1)
        connection.execute(_outbox.update().where(_outbox.c.id == row_id).values(occurs_on=on))


def upgrade():
    connection = op.get_bind()
    orphans = connection.execute(_outbox.delete().where(
        sa.or_(_outbox.c.rule_id.is_(None), _outbox.c.recipient_user_id.is_(None))))
    if orphans.rowcount:
        print(f"deleted {orphans.rowcount} outbox messages whose rule or recipient is gone")
    _fill_dates(connection)
    # Keys made by hand could collide once only the columns count: keep the first.
    first = (sa.select(sa.func.min(_outbox.c.id))
             .group_by(_outbox.c.occurs_on, _outbox.c.rule_id, _outbox.c.recipient_user_id,
                       _outbox.c.subject_ref).scalar_subquery())
    connection.execute(_outbox.delete().where(_outbox.c.id.not_in(first)))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_message_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_email_message_id'),
                              ['email_message_id'], unique=False)
        batch_op.drop_constraint('uq_outbox_messages_idempotency_key', type_='unique')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_constraint('fk_outbox_messages_rule_id_reminder_rules',
                                 type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_messages_recipient_user_id_users',
                                 type_='foreignkey')
        batch_op.alter_column('rule_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('recipient_user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('occurs_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_rule_id_reminder_rules'),
                                    'reminder_rules', ['rule_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_recipient_user_id_users'),
                                    'users', ['recipient_user_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint(
            'uq_outbox_messages_reminder',
            ['occurs_on', 'rule_id', 'recipient_user_id', 'subject_ref'])

    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', _RUN_STATUS, nullable=False,
                                      server_default='finished'))
        for name in ('written', 'sent', 'retrying', 'failed'):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('planned_for', existing_type=sa.Date(), nullable=True)
        batch_op.alter_column('window_start', existing_type=sa.Date(), nullable=True)
        batch_op.alter_column('finished_at', existing_type=sa.DateTime(timezone=True),
                              nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_reminder_runs_requested_by_id_users'),
                                    'users', ['requested_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_reminder_runs_status'), ['status'], unique=False)
    # The defaults were for the rows already there; the models give their own.
    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_RUN_STATUS, server_default=None)
        for name in ('written', 'sent', 'retrying', 'failed'):
            batch_op.alter_column(name, existing_type=sa.Integer(), server_default=None)

    op.create_table('bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.Enum('hard', 'soft', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_code', sa.String(length=16), nullable=False),
    sa.Column('diagnostic', sa.Text(), nullable=True),
    sa.Column('report_id', sa.String(length=255), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_bounces_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounces')),
    sa.UniqueConstraint('report_id', name=op.f('uq_bounces_report_id'))
    )
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounces_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounces_message_id'), ['message_id'], unique=False)

    op.create_table('undeliverable_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('bounce_id', sa.Integer(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bounce_id'], ['bounces.id'], name=op.f('fk_undeliverable_addresses_bounce_id_bounces'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_undeliverable_addresses')),
    sa.UniqueConstraint('email', name=op.f('uq_undeliverable_addresses_email'))
    )


def downgrade():
    op.drop_table('undeliverable_addresses')
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounces_message_id'))
        batch_op.drop_index(batch_op.f('ix_bounces_email'))
    op.drop_table('bounces')

    connection = op.get_bind()
    runs = sa.table("reminder_runs", sa.column("planned_for", sa.Date),
                    sa.column("window_start", sa.Date),
                    sa.column("finished_at", sa.DateTime(timezone=True)))
    # The old table knew only finished planning runs.
    connection.execute(runs.delete().where(sa.or_(runs.c.planned_for.is_(None),
                                                  runs.c.window_start.is_(None),
                                                  runs.c.finished_at.is_(None))))
    with op.batch_alter_table('reminder_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_runs_status'))
        batch_op.drop_constraint(batch_op.f('ck_reminder_runs_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_reminder_runs_requested_by_id_users'),
                                 type_='foreignkey')
        batch_op.alter_column('finished_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column('window_start', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('planned_for', existing_type=sa.Date(), nullable=False)
        for name in ('heartbeat_at', 'started_at', 'requested_at', 'requested_by_id', 'error',
                     'failed', 'retrying', 'sent', 'written', 'status'):
            batch_op.drop_column(name)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
    # The key as the code before this revision wrote it (planner.Due.key).
    rows = connection.execute(sa.select(_outbox.c.id, _outbox.c.occurs_on, _outbox.c.rule_id,
                                        _outbox.c.recipient_user_id,
                                        _outbox.c.subject_ref)).all()
    for row_id, on, rule_id, user_id, subject_ref in rows:
        connection.execute(_outbox.update().where(_outbox.c.id == row_id).values(
            idempotency_key=f"{on.isoformat()}:{rule_id}:{user_id}:{subject_ref}"))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_messages_reminder', type_='unique')
        batch_op.drop_constraint('fk_outbox_messages_recipient_user_id_users',
                                 type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_messages_rule_id_reminder_rules',
                                 type_='foreignkey')
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=200),
                              nullable=False)
        batch_op.create_unique_constraint('uq_outbox_messages_idempotency_key',
                                          ['idempotency_key'])
        batch_op.alter_column('occurs_on', existing_type=sa.Date(), nullable=True)
        batch_op.alter_column('recipient_user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('rule_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_outbox_messages_rule_id_reminder_rules',
                                    'reminder_rules', ['rule_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_outbox_messages_recipient_user_id_users',
                                    'users', ['recipient_user_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_email_message_id'))
        batch_op.drop_column('email_message_id')
        batch_op.drop_column('claimed_by')
