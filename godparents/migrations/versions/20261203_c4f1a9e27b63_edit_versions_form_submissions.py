"""edit versions, form submissions, home versions: no lost updates, no repeated POSTs, fresh homes

Revision ID: c4f1a9e27b63
Revises: c4f1a9e2b7d3
Create Date: 2026-12-03 10:00:00

Prisoners, sponsors and actions get a ``version`` (1 for every existing row), which the ORM
bumps on each update and checks in its WHERE clause (``version_id_col``): an edit form
carries the version it was read at, and a save from a stale form is refused
(godparents/concurrency.py). ``form_submissions`` remembers the token of each form whose
changes were committed, so that the same POST sent again (its answer lost) is recognised
and answered with the saved result instead of being applied twice (godparents/idempotency.py).
Sponsors get a ``home_version`` (0), moved on by changes that concern that team's home page,
which keys its cached content (godparents/sponsors/home_cache.py).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4f1a9e27b63'
down_revision = 'c4f1a9e2b7d3'
branch_labels = None
depends_on = None

VERSIONED = ("prisoners", "sponsors", "actions")


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                          nullable=False))
            if table == "sponsors":
                batch_op.add_column(sa.Column('home_version', sa.Integer(),
                                              server_default='0', nullable=False))
    op.create_table(
        'form_submissions',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('location', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_form_submissions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'token', name=op.f('pk_form_submissions')),
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_created_at'))
    op.drop_table('form_submissions')
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "sponsors":
                batch_op.drop_column('home_version')
            batch_op.drop_column('version')
