"""reminders: the outbox's idempotency keys start with the occurrence date

Revision ID: 8e3b1c7d2a55
Revises: 5c2e7a9d41f0
Create Date: 2026-11-26 05:15:00

Keys were "rule:user:subject:YYYY-MM-DD"; they are now "YYYY-MM-DD:rule:user:subject"
(godparents/reminders/planner.py, Due.key), so that a day's plan lands in a few places of
the unique index instead of one page per reminder. The keys already stored are rewritten
here: a reminder planned before the upgrade must still be recognised after it, or it
would be sent twice.
"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8e3b1c7d2a55'
down_revision = '5c2e7a9d41f0'
branch_labels = None
depends_on = None

_OLD = re.compile(r"^(\d+:(?:\d+|None):.+):(\d{4}-\d{2}-\d{2})$")
_NEW = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d+:(?:\d+|None):.+)$")

_outbox = sa.table("outbox_messages", sa.column("id", sa.Integer),
                   sa.column("idempotency_key", sa.String))


def _rewrite(pattern, build):
    connection = op.get_bind()
    rows = connection.execute(sa.select(_outbox.c.id, _outbox.c.idempotency_key)).all()
    changes = [{"row_id": row_id, "new_key": build(match)} for row_id, key in rows
               if (match := pattern.match(key))]
    if changes:
        connection.execute(
            _outbox.update().where(_outbox.c.id == sa.bindparam("row_id"))
            .values(idempotency_key=sa.bindparam("new_key")), changes)


def upgrade():
    _rewrite(_OLD, lambda match: f"{match.group(2)}:{match.group(1)}")


def downgrade():
    _rewrite(_NEW, lambda match: f"{match.group(2)}:{match.group(1)}")
