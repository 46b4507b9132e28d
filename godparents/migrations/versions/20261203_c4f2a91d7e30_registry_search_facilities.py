"""registry: search by every spelling, facilities, identity-safe imports

Revision ID: c4f2a91d7e30
Revises: c4f1a9e27b63
Create Date: 2026-12-03 10:00:00

- Search: ``prisoners.search_text`` holds every word of every name and its generated
  spellings (godparents.search); ``sponsors.search_text`` the words of the godparent's
  name; ``search_words`` the vocabulary for typos. On PostgreSQL the pg_trgm extension and
  GIN indexes answer the LIKEs and the typos (on SQLite those indexes are partial and
  empty). The stored keys are computed here, and computed back on the way down.
- Facilities become records (``facilities``: names in four languages, a kind, the postal
  address in parts and as written). Every existing address row gets a facility, matched by
  its name, else by its postal address; the row keeps its own text. An address may now
  have no postal address of its own (a facility known only by name). On the way down such
  rows get their facility's address, or an empty one.
- Pairings end for two more reasons, pardoned and deported (read as released on the way
  down).
- ``prisoners.former_external_ids``: the ids of records merged into a prisoner.
- ``import_mappings``: how the columns of a list with headings of its own are read,
  remembered per set of headings.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4f2a91d7e30'
down_revision = 'c4f1a9e27b63'
branch_labels = None
depends_on = None

_prisoners = sa.table(
    "prisoners", sa.column("id", sa.Integer), sa.column("name_latin", sa.String),
    sa.column("name_be", sa.String), sa.column("name_ru", sa.String),
    sa.column("aliases", sa.JSON), sa.column("search_text", sa.Text))
_sponsors = sa.table("sponsors", sa.column("id", sa.Integer),
                     sa.column("full_name", sa.String), sa.column("search_text", sa.Text))
_words = sa.table("search_words", sa.column("word", sa.String))
_addresses = sa.table("prisoner_addresses", sa.column("id", sa.Integer),
                      sa.column("facility", sa.String), sa.column("postal_address", sa.Text),
                      sa.column("facility_id", sa.Integer))
_facilities = sa.table(
    "facilities", sa.column("id", sa.Integer), sa.column("name_en", sa.String),
    sa.column("name_de", sa.String), sa.column("name_ru", sa.String),
    sa.column("name_be", sa.String), sa.column("kind", sa.String),
    sa.column("postcode", sa.String), sa.column("region", sa.String),
    sa.column("town", sa.String), sa.column("street", sa.String),
    sa.column("institution", sa.String), sa.column("postal_address", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)))
_pairings = sa.table("sponsorships", sa.column("end_reason", sa.String))

_OLD_REASONS = ('released', 'mandate_ended', 'withdrew', 'died', 'other')
_NEW_REASONS = ('released', 'pardoned', 'deported', 'mandate_ended', 'withdrew', 'died',
                'other')


def _reasons(values):
    return sa.Enum(*values, name='end_reason', native_enum=False, create_constraint=True,
                   length=32)


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


def _facilities_up():
    """A facility for every facility name (or, without one, postal address) in the history;
    each address row points to its facility and keeps its own text."""
    from datetime import UTC, datetime

    from godparents.prisoners.facilities import new_facility
    from godparents.prisoners.names import fold

    connection = op.get_bind()
    rows = connection.execute(sa.select(_addresses).order_by(_addresses.c.id)).all()
    made, links = {}, []
    now = datetime.now(UTC)
    for row in rows:
        key = ("name", " ".join(fold(row.facility).split())) if row.facility else \
            ("address", " ".join(fold(row.postal_address or "").split()))
        if key not in made:
            facility = new_facility(row.facility, row.postal_address)
            values = {column: getattr(facility, column) for column in (
                "name_en", "name_de", "name_ru", "name_be", "postcode", "region", "town",
                "street", "institution", "postal_address")}
            values.update(kind=facility.kind.value, created_at=now, updated_at=now)
            made[key] = connection.execute(
                _facilities.insert().values(**values).returning(_facilities.c.id)).scalar_one()
        links.append({"row_id": row.id, "record": made[key]})
    for start in range(0, len(links), 1000):
        connection.execute(_addresses.update().where(_addresses.c.id == sa.bindparam("row_id"))
                           .values(facility_id=sa.bindparam("record")),
                           links[start:start + 1000])


def upgrade():
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        'search_words',
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words')),
    )
    _trigram_index('ix_search_words_trigrams', 'search_words', 'word')
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('former_external_ids', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.alter_column('former_external_ids', server_default=None)
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)
    _search_keys_up()
    _trigram_index('ix_prisoners_search_text_trigrams', 'prisoners', 'search_text')
    _trigram_index('ix_sponsors_search_text_trigrams', 'sponsors', 'search_text')

    op.create_table(
        'facilities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name_en', sa.String(length=300), nullable=True),
        sa.Column('name_de', sa.String(length=300), nullable=True),
        sa.Column('name_ru', sa.String(length=300), nullable=True),
        sa.Column('name_be', sa.String(length=300), nullable=True),
        sa.Column('kind', sa.Enum('pretrial', 'penal_colony', 'prison', 'settlement',
                                  'temporary', 'other', name='kind', native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column('postcode', sa.String(length=40), nullable=True),
        sa.Column('region', sa.String(length=200), nullable=True),
        sa.Column('town', sa.String(length=200), nullable=True),
        sa.Column('street', sa.String(length=300), nullable=True),
        sa.Column('institution', sa.String(length=300), nullable=True),
        sa.Column('postal_address', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities')),
    )
    with op.batch_alter_table('prisoner_addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facility_id', sa.Integer(), nullable=True))
        batch_op.alter_column('postal_address', existing_type=sa.Text(), nullable=True)
        batch_op.create_index(batch_op.f('ix_prisoner_addresses_facility_id'), ['facility_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_prisoner_addresses_facility_id_facilities'),
                                    'facilities', ['facility_id'], ['id'])
    _facilities_up()

    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.alter_column('end_reason', existing_type=_reasons(_OLD_REASONS),
                              type_=_reasons(_NEW_REASONS), existing_nullable=True)

    op.create_table(
        'import_mappings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('headings_key', sa.String(length=64), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_import_mappings_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
        sa.UniqueConstraint('headings_key', name=op.f('uq_import_mappings_headings_key')),
    )


def downgrade():
    op.drop_table('import_mappings')

    op.execute(_pairings.update().where(_pairings.c.end_reason.in_(('pardoned', 'deported')))
               .values(end_reason='released'))
    with op.batch_alter_table('sponsorships', schema=None) as batch_op:
        batch_op.alter_column('end_reason', existing_type=_reasons(_NEW_REASONS),
                              type_=_reasons(_OLD_REASONS), existing_nullable=True)

    facility_address = (sa.select(_facilities.c.postal_address)
                        .where(_facilities.c.id == _addresses.c.facility_id)
                        .scalar_subquery())
    op.execute(_addresses.update().where(_addresses.c.postal_address.is_(None))
               .values(postal_address=sa.func.coalesce(facility_address, '')))
    with op.batch_alter_table('prisoner_addresses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_prisoner_addresses_facility_id_facilities'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_prisoner_addresses_facility_id'))
        batch_op.alter_column('postal_address', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('facility_id')
    op.drop_table('facilities')

    op.drop_index('ix_sponsors_search_text_trigrams', table_name='sponsors')
    op.drop_index('ix_prisoners_search_text_trigrams', table_name='prisoners')
    _search_keys_down()
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('prisoners', schema=None) as batch_op:
        batch_op.drop_column('former_external_ids')
    op.drop_index('ix_search_words_trigrams', table_name='search_words')
    op.drop_table('search_words')
