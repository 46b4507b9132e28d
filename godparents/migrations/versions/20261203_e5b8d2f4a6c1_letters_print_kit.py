"""letters: templates per occasion, the words that get letters withheld, the sender's address

Revision ID: e5b8d2f4a6c1
Revises: d7a3c5e9b1f2
Create Date: 2026-12-03 14:00:00

- ``letter_templates``: letter and card texts in Russian or Belarusian, with German and
  English translations, per occasion.
- ``letter_watch_words``: the coordinators' list of words and topics that get letters
  withheld, with the reason, in four languages.
- ``sponsors.postal_address``: the sender's address for envelopes.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5b8d2f4a6c1'
down_revision = 'd7a3c5e9b1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'letter_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occasion', sa.Enum('birthday', 'new_year', 'support', 'after_sentencing',
                                      name='occasion', native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
        sa.Column('language', sa.Enum('ru', 'be', name='language', native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('translation_de', sa.Text(), nullable=True),
        sa.Column('translation_en', sa.Text(), nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_templates')),
    )
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_templates_occasion'), ['occasion'],
                              unique=False)
    op.create_table(
        'letter_watch_words',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phrase', sa.String(length=200), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_watch_words')),
    )
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.drop_column('postal_address')
    op.drop_table('letter_watch_words')
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_templates_occasion'))
    op.drop_table('letter_templates')
