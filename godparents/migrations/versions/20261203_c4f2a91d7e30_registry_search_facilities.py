"""registry: search by every spelling, facilities, identity-safe imports

Revision ID: c4f2a91d7e30
Revises: 8e3b1c7d2a55
Create Date: 2026-12-03 10:00:00

- Search: ``prisoners.search_text`` holds every word of every name and its generated
  spellings (godparents.search); ``sponsors.search_text`` the words of the godparent's
  name; ``search_words`` the vocabulary for typos. On PostgreSQL the pg_trgm extension and
  GIN indexes answer the LIKEs and the typos (on SQLite those indexes are partial and
  empty). The stored keys are computed here, and computed back on the way down.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4f2a91d7e30'
down_revision = '8e3b1c7d2a55'
branch_labels = None
depends_on = None

_prisoners = sa.table(
    "prisoners", sa.column("id", sa.Integer), sa.column("name_latin", sa.String),
    sa.column("name_be", sa.String), sa.column("name_ru", sa.String),
    sa.column("aliases", sa.JSON), sa.column("search_text", sa.Text))
_sponsors = sa.table("sponsors", sa.column("id", sa.Integer),
                     sa.column("full_name", sa.String), sa.column("search_text", sa.Text))
_words = sa.table("search_words", sa.column("word", sa.String))


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _trigram_index(name, table, column):
    op.create_index(name, table, [column], unique=False, postgresql_using="gin",
                    postgresql_ops={column: "gin_trgm_ops"}, sqlite_where=sa.text("0"))


def _rewrite(table, rows, compute):
    """Set search_text of each row to ``compute(row)``; returns every word written."""
    connection = op.get_bind()
    changes, words = [], set()
    for row in rows:
        key = compute(row)
        words.update(key.split())
        changes.append({"row_id": row.id, "key": key})
    for start in range(0, len(changes), 1000):
        connection.execute(table.update().where(table.c.id == sa.bindparam("row_id"))
                           .values(search_text=sa.bindparam("key")),
                           changes[start:start + 1000])
    return words


def _search_keys_up():
    from godparents.prisoners.spellings import prisoner_search_words, words_of
    from godparents.search import key_text

    connection = op.get_bind()
    words = _rewrite(_prisoners, connection.execute(sa.select(_prisoners)).all(),
                     lambda row: key_text(prisoner_search_words(
                         row.name_latin, row.name_be, row.name_ru, row.aliases)))
    words |= _rewrite(_sponsors, connection.execute(sa.select(_sponsors)).all(),
                      lambda row: key_text(words_of(row.full_name)))
    rows = [{"word": word[:64]} for word in sorted(words)]
    for start in range(0, len(rows), 1000):
        connection.execute(_words.insert(), rows[start:start + 1000])


def _search_keys_down():
    from godparents.prisoners.names import search_key

    connection = op.get_bind()
    _rewrite(_prisoners, connection.execute(sa.select(_prisoners)).all(),
             lambda row: search_key([row.name_latin, row.name_be, row.name_ru,
                                     *(row.aliases or [])]))


def upgrade():
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        'search_words',
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words')),
    )
    _trigram_index('ix_search_words_trigrams', 'search_words', 'word')
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)
    _search_keys_up()
    _trigram_index('ix_prisoners_search_text_trigrams', 'prisoners', 'search_text')
    _trigram_index('ix_sponsors_search_text_trigrams', 'sponsors', 'search_text')


def downgrade():
    op.drop_index('ix_sponsors_search_text_trigrams', table_name='sponsors')
    op.drop_index('ix_prisoners_search_text_trigrams', table_name='prisoners')
    _search_keys_down()
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    op.drop_index('ix_search_words_trigrams', table_name='search_words')
    op.drop_table('search_words')
