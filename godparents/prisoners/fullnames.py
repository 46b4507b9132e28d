"""A whole name in one cell ("Васіленка Андрэй Іванавіч") split into its parts.

Human-rights groups list people surname first, often with the patronymic (ФИО: фамилия,
имя, отчество); press lists write the first name first. The registry keeps "first name
surname" in each script. So: a patronymic (by its ending) fixes the order, else a known
first name does, else Cyrillic is taken as surname first (the lists' way) and Latin as
first name first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import iuliia

from godparents.prisoners.names import fold
from godparents.prisoners.spellings import BE_PASSPORT, is_cyrillic, language_of

_PATRONYMIC = re.compile(
    r"(ович|евич|ёвич|ьич|ична|инична|овна|евна|авіч|евіч|эвіч|ёвіч|аўна|еўна|ічна|ovich|"
    r"evich|ovna|evna|avich|ivich|ichna|auna|euna)$"
)
# Common first names, folded, in the forms lists use (Belarusian, Russian, Latin).
_FIRST_NAMES_TEXT = """
    андрэй андрей andrei andrey сяргей сергей siarhei sergei sergey аляксандр александр
    aliaksandr alexander aleksandr уладзімір владимир uladzimir vladimir дзмітрый дмитрий
    dzmitry dmitry мікалай николай mikalai nikolai павел павал pavel paval яўген евгений
    yauhen evgeny ігар игорь ihar igor віктар виктор viktar viktor алег олег aleh oleg максім
    максим maksim maxim раман роман raman roman канстанцін константин kanstantsin konstantin
    юрый юрий yury yuri алесь ales віталь виталий vital vitaly вадзім вадим vadzim vadim
    ілья илья illia ilya мікола mikola пётр петр piotr pyotr антон anton арцём артём artsiom
    artem дзяніс денис dzianis denis іван иван ivan міхаіл михаил mikhail вольга ольга volha
    olga марыя мария maryia maria ірына ирина iryna irina таццяна татьяна tatsiana tatiana
    анастасія анастасия anastasiya anastasia кацярына екатерина katsiaryna ekaterina алена
    елена alena elena наталля наталья natallia natalia юлія юлия yuliya yulia дар'я дарья
    darya daria ганна анна hanna anna святлана светлана sviatlana svetlana людміла людмила
    liudmila ludmila ксенія ксения ksenia валянціна валентина valiantsina valentina
"""
FIRST_NAMES = frozenset(fold(name) for name in _FIRST_NAMES_TEXT.split())
_LETTERS = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")


@dataclass(frozen=True)
class FullName:
    first: str
    surname: str
    patronymic: str = ""

    @property
    def name(self) -> str:
        """First name and surname, the registry's form."""
        return " ".join(part for part in (self.first, self.surname) if part)


def split_full_name(text: str) -> FullName | None:
    """The parts of a whole name, or None when there is no word in it."""
    words = _LETTERS.findall(text or "")
    if not words:
        return None
    if len(words) == 1:
        return FullName("", words[0])
    folded = [fold(word) for word in words]
    if len(words) >= 3 and _PATRONYMIC.search(folded[-1]):
        return FullName(words[1], words[0], words[-1])  # Surname Name Patronymic
    if len(words) >= 3 and _PATRONYMIC.search(folded[1]):
        return FullName(words[0], words[-1], words[1])  # Name Patronymic Surname
    first_known = folded[0] in FIRST_NAMES
    second_known = folded[1] in FIRST_NAMES
    if second_known and not first_known:
        return FullName(words[1], " ".join([words[0], *words[2:]]))
    if first_known and not second_known:
        return FullName(words[0], " ".join(words[1:]))
    if is_cyrillic(text):
        return FullName(words[1], " ".join([words[0], *words[2:]]))
    return FullName(words[0], " ".join(words[1:]))


def latin_name(name: str) -> str:
    """A Latin form for a Cyrillic name: the Belarusian passport's system for Belarusian,
    ICAO's (Russian passports) for Russian."""
    if not is_cyrillic(name):
        return name
    schema = BE_PASSPORT if language_of(name) == "be" else iuliia.ICAO_DOC_9303
    return str(schema.translate(name))
