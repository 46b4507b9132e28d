"""How people are addressed: each form of address, with and without an academic title, in
each language, for godparents and for office staff and coordinators alike."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from godparents.salutations import display_name, salutation, surname


@dataclass
class Person:
    full_name: str | None
    form_of_address: str | None = "neutral"
    academic_title: str | None = None


LINDNER = Person("Margarete Lindner", "female", "dr")
HOFFMANN = Person("Markus Hoffmann", "male")
WEBER = Person("Alex Weber")  # the neutral default


@pytest.mark.parametrize(
    ("person", "locale", "expected"),
    [
        # a woman, with and without a title
        (LINDNER, "de", "Sehr geehrte Frau Dr. Lindner,"),
        (LINDNER, "en", "Dear Dr Lindner,"),
        (Person("Anna Schmidt", "female"), "de", "Sehr geehrte Frau Schmidt,"),
        (Person("Anna Schmidt", "female"), "en", "Dear Ms Schmidt,"),
        (Person("Eva Gruber", "female", "prof_dr"), "de", "Sehr geehrte Frau Prof. Dr. Gruber,"),
        (Person("Eva Gruber", "female", "prof_dr"), "en", "Dear Professor Gruber,"),
        # a man, with and without a title
        (HOFFMANN, "de", "Sehr geehrter Herr Hoffmann,"),
        (HOFFMANN, "en", "Dear Mr Hoffmann,"),
        (Person("Thomas Becker", "male", "dr"), "de", "Sehr geehrter Herr Dr. Becker,"),
        (Person("Thomas Becker", "male", "dr"), "en", "Dear Dr Becker,"),
        (Person("Jan Nowak", "male", "prof"), "de", "Sehr geehrter Herr Prof. Nowak,"),
        (Person("Jan Nowak", "male", "prof"), "en", "Dear Professor Nowak,"),
        # neutral: the whole name, with the title before it
        (WEBER, "de", "Guten Tag Alex Weber,"),
        (WEBER, "en", "Dear Alex Weber,"),
        (Person("Alex Weber", "neutral", "dr"), "de", "Guten Tag Dr. Alex Weber,"),
        (Person("Alex Weber", "neutral", "dr"), "en", "Dear Dr Alex Weber,"),
        # office staff or a coordinator who gave no name
        (Person(None), "de", "Guten Tag,"),
        (Person(None), "en", "Hello,"),
        (Person("   ", "female", "dr"), "en", "Hello,"),
        (None, "de", "Guten Tag,"),
        # a surname with particles, a language not offered, values not known
        (Person("Ursula von der Leyen", "female"), "de", "Sehr geehrte Frau von der Leyen,"),
        (Person("Pieter de Vries", "male"), "en", "Dear Mr de Vries,"),
        (HOFFMANN, "fr", "Dear Mr Hoffmann,"),
        (HOFFMANN, "de_AT", "Sehr geehrter Herr Hoffmann,"),
        (HOFFMANN, None, "Dear Mr Hoffmann,"),
        (Person("Alex Weber", "something", "phd"), "en", "Dear Alex Weber,"),
        (Person("Alex Weber", None, None), "de", "Guten Tag Alex Weber,"),
    ],
)
def test_salutation(person: Person | None, locale: str | None, expected: str) -> None:
    assert salutation(person, locale) == expected


@pytest.mark.parametrize(
    ("person", "locale", "expected"),
    [
        (LINDNER, "de", "Dr. Margarete Lindner"),
        (LINDNER, "en", "Dr Margarete Lindner"),
        (HOFFMANN, "de", "Markus Hoffmann"),
        (Person("  Alex   Weber "), "en", "Alex Weber"),
        (Person(None), "en", ""),
        (None, "de", ""),
    ],
)
def test_display_name_puts_the_academic_title_first(
    person: Person | None, locale: str, expected: str
) -> None:
    assert display_name(person, locale) == expected


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Margarete Lindner", "Lindner"),
        ("Ursula von der Leyen", "von der Leyen"),
        ("Karl-Theodor zu Guttenberg", "zu Guttenberg"),
        ("Madonna", "Madonna"),
        ("de Vries", "Vries"),  # a lone particle is a given name, not a surname's start
        ("", ""),
    ],
)
def test_surname(full_name: str, expected: str) -> None:
    assert surname(full_name) == expected
