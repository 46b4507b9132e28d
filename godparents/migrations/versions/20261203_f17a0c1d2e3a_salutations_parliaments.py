"""salutations: how godparents, office staff and coordinators are addressed; parliaments as
a list named in English and German; campaign days' German names

Revision ID: f17a0c1d2e3a
Revises: e16a4b2c8d10
Create Date: 2026-12-03 16:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f17a0c1d2e3a'
down_revision = 'e16a4b2c8d10'
branch_labels = None
depends_on = None

# A copy of godparents/sponsors/parliaments.KNOWN as it was when this was written.
_PARLIAMENTS = (
    ("European Parliament", "Europäisches Parlament", "EU"),
    ("Bundestag", "Bundestag", "DE"),
    ("Bundesrat (Germany)", "Bundesrat (Deutschland)", "DE"),
    ("Austrian National Council", "Österreichischer Nationalrat", "AT"),
    ("Austrian Federal Council", "Österreichischer Bundesrat", "AT"),
    ("Swiss National Council", "Schweizer Nationalrat", "CH"),
    ("Swiss Council of States", "Schweizer Ständerat", "CH"),
    ("House of Commons", "Britisches Unterhaus", "GB"),
    ("House of Lords", "Britisches Oberhaus", "GB"),
    ("Sejm", "Sejm", "PL"),
    ("Senate of Poland", "Polnischer Senat", "PL"),
    ("Seimas", "Seimas", "LT"),
    ("Saeima", "Saeima", "LV"),
    ("Riigikogu", "Riigikogu", "EE"),
    ("Tweede Kamer", "Zweite Kammer der Niederlande", "NL"),
    ("Belgian Chamber of Representatives", "Belgische Abgeordnetenkammer", "BE"),
    ("French National Assembly", "Französische Nationalversammlung", "FR"),
    ("Czech Chamber of Deputies", "Tschechisches Abgeordnetenhaus", "CZ"),
    ("Swedish Riksdag", "Schwedischer Reichstag", "SE"),
    ("Parliament of Finland", "Finnisches Parlament", "FI"),
    ("Danish Folketing", "Dänisches Folketing", "DK"),
    ("Dáil Éireann", "Irisches Unterhaus (Dáil Éireann)", "IE"),
    ("Parliamentary Assembly of the Council of Europe",
     "Parlamentarische Versammlung des Europarates", "EU"),
)
# The campaign days the demo and the first installs created, by their English names.
_CAMPAIGN_DAYS_DE = {
    "Day of Solidarity with Belarusian Political Prisoners":
        "Tag der Solidarität mit den politischen Gefangenen in Belarus",
    "Freedom Day (Belarus)": "Tag der Freiheit (Belarus)",
    "Human Rights Day": "Tag der Menschenrechte",
}
# Academic titles typed into the old single title field, and what they become.
_ACADEMIC = {"dr.": "dr", "dr": "dr", "prof.": "prof", "prof": "prof",
             "prof. dr.": "prof_dr", "prof.dr.": "prof_dr", "prof dr": "prof_dr"}

_FORMS = "'neutral', 'female', 'male'"
_TITLES = "'dr', 'prof', 'prof_dr'"


def _add_address_columns(table):
    with op.batch_alter_table(table, schema=None) as batch_op:
        if table == 'users':
            batch_op.add_column(sa.Column('full_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('form_of_address', sa.String(length=32),
                                      server_default='neutral', nullable=False))
        batch_op.add_column(sa.Column('academic_title', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(batch_op.f(f'ck_{table}_form_of_address'),
                                         f'form_of_address IN ({_FORMS})')
        batch_op.create_check_constraint(batch_op.f(f'ck_{table}_academic_title'),
                                         f'academic_title IN ({_TITLES})')


def upgrade():
    parliaments = op.create_table(
        'parliaments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name_en', sa.String(length=200), nullable=False),
        sa.Column('name_de', sa.String(length=200), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parliaments')),
        sa.UniqueConstraint('name_en', name=op.f('uq_parliaments_name_en')),
    )
    op.bulk_insert(parliaments, [
        {'name_en': en, 'name_de': de, 'country': country} for en, de, country in _PARLIAMENTS
    ])
    _add_address_columns('users')
    _add_address_columns('sponsors')
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parliament_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sponsors_parliament_id'), ['parliament_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sponsors_parliament_id_parliaments'),
                                    'parliaments', ['parliament_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('campaign_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_de', sa.String(length=200), nullable=True))

    connection = op.get_bind()
    # Godparents whose parliament, as typed, is on the list (in either language) are
    # linked to it, and their body becomes the list's English name.
    listed = connection.execute(sa.text('SELECT id, name_en, name_de FROM parliaments')).all()
    by_name: dict[str, tuple[int, str]] = {}
    for ident, name_en, name_de in listed:
        by_name.setdefault(name_en.lower(), (ident, name_en))
        by_name.setdefault(name_de.lower(), (ident, name_en))
    sponsors = connection.execute(sa.text('SELECT id, body, title FROM sponsors')).all()
    for ident, body, title in sponsors:
        match = by_name.get(' '.join((body or '').split()).lower())
        if match is not None:
            connection.execute(
                sa.text('UPDATE sponsors SET parliament_id = :p, body = :b WHERE id = :i'),
                {'p': match[0], 'b': match[1], 'i': ident},
            )
        # An academic title typed as the only title moves to where salutations read it.
        academic = _ACADEMIC.get(' '.join((title or '').split()).lower())
        if academic is not None:
            connection.execute(
                sa.text('UPDATE sponsors SET academic_title = :a, title = NULL WHERE id = :i'),
                {'a': academic, 'i': ident},
            )
    for name, name_de in _CAMPAIGN_DAYS_DE.items():
        connection.execute(
            sa.text('UPDATE campaign_days SET name_de = :de WHERE name = :name'),
            {'de': name_de, 'name': name},
        )


def downgrade():
    connection = op.get_bind()
    # The academic title goes back into the single title field where that one is empty.
    back = {'dr': 'Dr.', 'prof': 'Prof.', 'prof_dr': 'Prof. Dr.'}
    for code, text in back.items():
        connection.execute(
            sa.text('UPDATE sponsors SET title = :t WHERE academic_title = :a AND title IS NULL'),
            {'t': text, 'a': code},
        )
    with op.batch_alter_table('campaign_days', schema=None) as batch_op:
        batch_op.drop_column('name_de')
    with op.batch_alter_table('sponsors', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sponsors_parliament_id_parliaments'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sponsors_parliament_id'))
        batch_op.drop_column('parliament_id')
    for table in ('sponsors', 'users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_academic_title'), type_='check')
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_form_of_address'), type_='check')
            batch_op.drop_column('academic_title')
            batch_op.drop_column('form_of_address')
            if table == 'users':
                batch_op.drop_column('full_name')
    op.drop_table('parliaments')
