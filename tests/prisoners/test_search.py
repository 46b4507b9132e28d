"""Search by name: the spellings in real use, word order, prefixes, one typo; SQLite and
PostgreSQL alike (the suite runs on both)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from godparents.extensions import db
from godparents.prisoners import services
from godparents.prisoners.models import Prisoner
from godparents.prisoners.spellings import word_spellings, words_of
from godparents.search import (
    SearchWord,
    key_words,
    matches,
    one_edit_away,
    typo_words,
    within_one_edit,
)
from godparents.sponsors.models import Sponsor
from tests.factories import make_prisoner, make_sponsor

# (Belarusian name, Russian name) of fictional prisoners.
PEOPLE = {
    "andrei": ("Андрэй Васіленка", "Андрей Василенко", "Andrei Vasilenka"),
    "alena": ("Алена Краўцова", "Елена Кравцова", "Alena Krautsova"),
    "pavel": ("Павел Жук", "Павел Жук", "Pavel Zhuk"),
    "ales": ("Алесь Бяляцкі", "Алесь Беляцкий", "Ales Bialiatski"),
    "ihar": ("Ігар Ласіцкі", "Игорь Лосицкий", "Ihar Lasitski"),
    "sviatlana": ("Святлана Ціханоўская", "Светлана Тихановская", "Sviatlana Tsikhanouskaya"),
    "yauhen": ("Яўген Каралёў", "Евгений Королёв", "Yauhen Karaliou"),
    "maryia": ("Марыя Калеснікава", "Мария Колесникова", "Maryia Kalesnikava"),
    "aliaksandr": ("Аляксандр Лукашэнка", "Александр Лукашенко", "Aliaksandr Lukashenka"),
}

# (spelling typed, whom it must find, the system it comes from). No alias is stored: every
# one of these comes from the Cyrillic names alone.
SPELLINGS = [
    # Belarusian: passport and English press, BGN/PCGN, the national system
    ("Vasilenka", "andrei", "Belarusian passport / BGN"),
    ("Krautsova", "alena", "Belarusian passport"),
    ("Krawtsova", "alena", "BGN/PCGN Belarusian"),
    ("Kraŭcova", "alena", "Belarusian national"),
    ("Bialiatski", "ales", "Belarusian passport"),
    ("Byalyatski", "ales", "BGN/PCGN Belarusian"),
    ("Cichanoŭskaja", "sviatlana", "Belarusian national"),
    ("Karaliou", "yauhen", "Belarusian passport"),
    ("Vasilienka", "andrei", "Belarusian national"),
    # Russian: passport (ICAO since 2013, MVD before) and English press
    ("Vasilenko", "andrei", "ICAO"),
    ("Kravtsova", "alena", "ICAO"),
    ("Andrey", "andrei", "MVD 310"),
    ("Tikhanovskaya", "sviatlana", "ICAO"),
    ("Evgenii", "yauhen", "ICAO"),
    ("Yevgeny", "yauhen", "English press (Wikipedia)"),
    ("Belyatsky", "ales", "English press (Wikipedia)"),
    ("Lositskiy", "ihar", "MVD / BGN"),
    # ISO 9 and the scholarly system
    ("Žuk", "pavel", "ISO 9 / national"),
    ("Kravcova", "alena", "ISO 9"),
    ("Beljackij", "ales", "scholarly"),
    ("Losickij", "ihar", "ISO 9"),
    # Polish press and Łacinka
    ("Wasilenka", "andrei", "Polish press (Belarusian form)"),
    ("Krawcowa", "alena", "Polish press (Russian form)"),
    ("Żuk", "pavel", "Polish press"),
    ("Łukašenka", "aliaksandr", "Łacinka"),
    ("Białacki", "ales", "Łacinka / Polish press"),
    ("Łasicki", "ihar", "Łacinka"),
    ("Łosicki", "ihar", "Polish press (Russian form)"),
    ("Cichanouska", "sviatlana", "Polish press"),
    ("Łukaszenka", "aliaksandr", "Polish press"),
    # German press (Duden)
    ("Wassilenko", "andrei", "German press"),
    ("Krawzowa", "alena", "German press"),
    ("Schuk", "pavel", "German press"),
    ("Lossizki", "ihar", "German press"),
    ("Beljazki", "ales", "German press"),
    ("Tichanowskaja", "sviatlana", "German press"),
    ("Kolesnikowa", "maryia", "German press"),
    ("Lukaschenko", "aliaksandr", "German press"),
]


@pytest.fixture
def people(app) -> dict[str, int]:
    ids = {}
    for key, (be, ru, latin) in PEOPLE.items():
        ids[key] = make_prisoner(name_latin=latin, name_be=be, name_ru=ru, aliases=[]).id
    return ids


def _found(query: str) -> set[int]:
    return set(
        db.session.scalars(
            services.search(services.Filters(q=query)).with_only_columns(Prisoner.id)
        )
    )


def test_at_least_thirty_spellings_across_six_systems() -> None:
    assert len(SPELLINGS) >= 30
    families = {system.split()[0].split("/")[0] for _q, _who, system in SPELLINGS}
    assert {"Belarusian", "ICAO", "ISO", "Polish", "German", "English"} <= families


@pytest.mark.parametrize(
    ("typed", "who", "system"),
    SPELLINGS,
    ids=[f"{typed}-{system}" for typed, _w, system in SPELLINGS],
)
def test_each_spelling_finds_exactly_its_person(
    people: dict[str, int], typed: str, who: str, system: str
) -> None:
    assert _found(typed) == {people[who]}


def test_the_issues_examples_are_generated() -> None:
    def spelled(be: str, ru: str) -> set[str]:
        return set(word_spellings(be, "be")) | set(word_spellings(ru, "ru"))

    assert {"vasilenka", "vasilenko", "wassilenko", "wasilenka"} <= spelled(
        "Васіленка", "Василенко"
    )
    assert {"krautsova", "kravtsova", "krawzowa", "krawcowa"} <= spelled("Краўцова", "Кравцова")
    assert {"zhuk", "schuk", "zuk"} <= spelled("Жук", "Жук")


@pytest.mark.parametrize(
    "query",
    [
        "Vasilenka Andrei",
        "Andrei Vasilenka",
        "Andrei V",
        "vasil",
        "ANDR vasi",
        "Wassilenko Andrej",
        "Андрэй Васіленка",
        "васіл",
        "Василенко",
    ],
)
def test_words_in_any_order_and_as_prefixes(people: dict[str, int], query: str) -> None:
    assert _found(query) == {people["andrei"]}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("Vasilneka", "andrei"),  # two letters swapped
        ("Vasilenkaa", "andrei"),  # a letter added
        ("Vasilnka", "andrei"),  # a letter missing
        ("Krautsowa", "alena"),  # a letter wrong
        ("Tsikhanouskaja", "sviatlana"),
        ("Andrei Vasilrnka", "andrei"),
        ("Кравцава", "alena"),  # in Cyrillic too
    ],
)
def test_one_typo_in_a_word_of_six_letters_or_more(
    people: dict[str, int], query: str, who: str
) -> None:
    assert _found(query) == {people[who]}


@pytest.mark.parametrize(
    "query",
    [
        "Zhul",  # a typo in a word under six letters
        "Vaslinekaa",  # two edits
        "Andrei Tsvirko",  # one word matches, the other does not
        "Krautsova Vasilenka",  # two people's surnames
        "%",
        "_",
        "' OR 1=1 --",
    ],
)
def test_what_must_find_nobody(people: dict[str, int], query: str) -> None:
    assert _found(query) == set()


def test_a_blank_query_is_no_condition(people: dict[str, int]) -> None:
    assert matches(Prisoner.search_text, "  ") is None
    assert _found("") == set(people.values())


def test_typo_candidates_are_the_same_on_both_databases(people: dict[str, int]) -> None:
    """PostgreSQL takes them from pg_trgm, SQLite from the strings one edit away: both must
    be exactly the vocabulary's words within one edit."""
    vocabulary = db.session.scalars(select(SearchWord.word)).all()
    for word in ("vasilneka", "krawzova", "tichanowskja", "losickj", "беляцкии"):
        expected = sorted(w for w in vocabulary if w != word and within_one_edit(word, w))
        assert typo_words(db.session, word) == expected[:20], word
        assert expected, word


def test_within_one_edit_is_the_optimal_string_alignment_distance() -> None:
    for near in (
        "vasilenka",
        "vasilenk",
        "vasilenkas",
        "vasilemka",
        "vaislenka",
        "avsilenka",
        "vasilenak",
    ):
        assert within_one_edit("vasilenka", near), near
        assert near == "vasilenka" or near in one_edit_away("vasilenka")
    for far in ("vasilen", "vaslienkaa", "asilenk", "vasilnekaa", "kasilenkv"):
        assert not within_one_edit("vasilenka", far), far


def test_the_key_is_kept_current_and_feeds_the_vocabulary(app) -> None:
    prisoner = make_prisoner(name_latin="Ales Bialiatski", name_be="Алесь Бяляцкі")
    assert {"ales", "bialiatski", "bialacki", "бяляцкі"} <= set(key_words(prisoner.search_text))
    prisoner.aliases = ["Ales Byalyatski"]
    prisoner.name_ru = "Алесь Беляцкий"
    db.session.commit()
    assert {"beljazki", "belyatsky"} <= set(key_words(prisoner.search_text))
    stored = set(db.session.scalars(select(SearchWord.word)))
    assert set(key_words(prisoner.search_text)) <= stored


def test_words_no_key_holds_any_more_leave_the_vocabulary(app) -> None:
    sponsor = make_sponsor(full_name="Jadwiga Unikalna")
    make_sponsor(full_name="Jadwiga Kowalska")
    vocabulary = set(db.session.scalars(select(SearchWord.word)))
    assert {"jadwiga", "unikalna", "kowalska"} <= vocabulary
    sponsor.full_name = "(erased)"
    db.session.commit()
    vocabulary = set(db.session.scalars(select(SearchWord.word)))
    assert "unikalna" not in vocabulary and {"jadwiga", "erased"} <= vocabulary


def test_godparents_are_searched_the_same_way(app) -> None:
    sponsor = make_sponsor(full_name="Krzysztof Wiśniewski")
    make_sponsor(full_name="Anna Schmidt")
    for query in ("wisniewski", "Wiśniewski Krzysztof", "krzy", "Wisniewsky"):
        found = db.session.scalars(
            select(Sponsor.id).where(matches(Sponsor.search_text, query))
        ).all()
        assert found == [sponsor.id], query


def test_words_are_folded_and_split_at_anything_but_letters() -> None:
    assert words_of('Pavel "Pasha" Zhuk') == ["pavel", "pasha", "zhuk"]
    assert words_of("Rubtsova-Sidarenka, Maryia") == ["rubtsova", "sidarenka", "maryia"]
    assert words_of("O’Neil-Smith Jr.") == ["oneil", "smith", "jr"]
    assert words_of("Дар'я") == ["даря"]


def test_the_key_stays_small(people: dict[str, int]) -> None:
    longest = db.session.scalar(select(func.max(func.length(Prisoner.search_text))))
    assert longest < 700
