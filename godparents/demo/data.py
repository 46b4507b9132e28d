"""The raw material of the demo data: names, places, parliaments and phrases.

Everything here is invented. First names and surnames are common ones, combined at random,
so no demo prisoner is a real person; the sponsors are invented members of real parliaments.
Facilities are real kinds of places, but their postal addresses are made up in the real format.
"""

from __future__ import annotations

from typing import NamedTuple

from godparents.actions.models import ActionKind, LetterOutcome
from godparents.prisoners.models import KeyDateKind, PrisonerStatus

SEED = 20200809  # the random generator's seed: the same demo data on every machine
DOMAIN = "demo.example"  # reserved (RFC 2606): no demo email can reach anyone

# (email, language, name, form of address): the names are invented, like every demo person.
COORDINATORS: tuple[tuple[str, str, str, str], ...] = (
    (f"coordinator@{DOMAIN}", "en", "Anna Schmidt", "female"),
    (f"koordination@{DOMAIN}", "de", "Jonas Becker", "male"),
)

# (English name, German name, month, day)
CAMPAIGN_DAYS: tuple[tuple[str, str, int, int], ...] = (
    (
        "Day of Solidarity with Belarusian Political Prisoners",
        "Tag der Solidarität mit den politischen Gefangenen in Belarus",
        5,
        21,
    ),
    ("Freedom Day (Belarus)", "Tag der Freiheit (Belarus)", 3, 25),
    ("Human Rights Day", "Tag der Menschenrechte", 12, 10),
)


# --- Prisoners ---------------------------------------------------------------------------


class Spelling(NamedTuple):
    """One name as written in Belarusian Latin, Belarusian Cyrillic and Russian Cyrillic.

    ``variants`` are other Latin spellings seen in the press: transliterated from Russian
    first, then Polish or Łacinka spellings with diacritics.
    """

    latin: str
    be: str
    ru: str
    variants: tuple[str, ...] = ()


MALE_FIRST_NAMES: tuple[Spelling, ...] = (
    Spelling("Andrei", "Андрэй", "Андрей", ("Andrey", "Andrej")),
    Spelling("Siarhei", "Сяргей", "Сергей", ("Sergey", "Siarhiej")),
    Spelling("Aliaksandr", "Аляксандр", "Александр", ("Alexander", "Alaksandr")),
    Spelling("Uladzimir", "Уладзімір", "Владимир", ("Vladimir", "Uładzimir")),
    Spelling("Dzmitry", "Дзмітрый", "Дмитрий", ("Dmitry", "Dźmitryj")),
    Spelling("Mikalai", "Мікалай", "Николай", ("Nikolai", "Mikałaj")),
    Spelling("Pavel", "Павел", "Павел", ("Paweł",)),
    Spelling("Yauhen", "Яўген", "Евгений", ("Evgeny", "Jaŭhien")),
    Spelling("Ihar", "Ігар", "Игорь", ("Igor",)),
    Spelling("Viktar", "Віктар", "Виктор", ("Viktor", "Wiktar")),
    Spelling("Aleh", "Алег", "Олег", ("Oleg",)),
    Spelling("Maksim", "Максім", "Максим", ("Maxim",)),
    Spelling("Raman", "Раман", "Роман", ("Roman",)),
    Spelling("Kanstantsin", "Канстанцін", "Константин", ("Konstantin", "Kanstancin")),
    Spelling("Yury", "Юрый", "Юрий", ("Yuri", "Jury")),
    Spelling("Ales", "Алесь", "Алесь", ("Aleś",)),
    Spelling("Vital", "Віталь", "Виталий", ("Vitaly", "Vitaĺ")),
)

FEMALE_FIRST_NAMES: tuple[Spelling, ...] = (
    Spelling("Volha", "Вольга", "Ольга", ("Olga", "Wolha")),
    Spelling("Maryia", "Марыя", "Мария", ("Maria", "Maryja")),
    Spelling("Iryna", "Ірына", "Ирина", ("Irina",)),
    Spelling("Tatsiana", "Таццяна", "Татьяна", ("Tatiana", "Tacciana")),
    Spelling("Anastasiya", "Анастасія", "Анастасия", ("Anastasia", "Anastasija")),
    Spelling("Katsiaryna", "Кацярына", "Екатерина", ("Ekaterina", "Kaciaryna")),
    Spelling("Alena", "Алена", "Елена", ("Elena", "Ałena")),
    Spelling("Natallia", "Наталля", "Наталья", ("Natalia", "Natalla")),
    Spelling("Yuliya", "Юлія", "Юлия", ("Yulia", "Julija")),
    Spelling("Darya", "Дар'я", "Дарья", ("Daria", "Darja")),
    Spelling("Hanna", "Ганна", "Анна", ("Anna",)),
    Spelling("Sviatlana", "Святлана", "Светлана", ("Svetlana", "Śviatłana")),
)


class Surname(NamedTuple):
    """A surname's masculine and feminine forms (the same for -enka, -ich, -uk, ...)."""

    male: Spelling
    female: Spelling


def _invariant(spelling: Spelling) -> Surname:
    return Surname(spelling, spelling)


SURNAMES: tuple[Surname, ...] = (
    _invariant(Spelling("Vasilenka", "Васіленка", "Василенко", ("Vasilenko", "Wasilenka"))),
    _invariant(Spelling("Hrynkevich", "Грынкевіч", "Гринкевич", ("Grinkevich", "Hrynkiewicz"))),
    Surname(
        Spelling("Karaliou", "Каралёў", "Королёв", ("Korolev", "Karaloŭ")),
        Spelling("Karaliova", "Каралёва", "Королёва", ("Koroleva", "Karalova")),
    ),
    Surname(
        Spelling("Lapitski", "Лапіцкі", "Лапицкий", ("Lapitsky", "Łapicki")),
        Spelling("Lapitskaya", "Лапіцкая", "Лапицкая", ("Lapitskaia", "Łapickaja")),
    ),
    Surname(
        Spelling("Sakalouski", "Сакалоўскі", "Соколовский", ("Sokolovsky", "Sakałoŭski")),
        Spelling("Sakalouskaya", "Сакалоўская", "Соколовская", ("Sokolovskaya", "Sakałoŭskaja")),
    ),
    _invariant(Spelling("Zhuk", "Жук", "Жук", ("Żuk",))),
    Surname(
        Spelling("Melnikau", "Мельнікаў", "Мельников", ("Melnikov", "Mielnikaŭ")),
        Spelling("Melnikava", "Мельнікава", "Мельникова", ("Melnikova", "Mielnikava")),
    ),
    _invariant(Spelling("Bandarenka", "Бандарэнка", "Бондаренко", ("Bondarenko",))),
    _invariant(Spelling("Tsvirko", "Цвірко", "Цвирко", ("Cvirko",))),
    _invariant(Spelling("Kavalchuk", "Кавальчук", "Ковальчук", ("Kovalchuk", "Kawalczuk"))),
    Surname(
        Spelling("Shautsou", "Шаўцоў", "Шевцов", ("Shevtsov", "Šaŭcoŭ")),
        Spelling("Shautsova", "Шаўцова", "Шевцова", ("Shevtsova", "Šaŭcova")),
    ),
    _invariant(Spelling("Dubovik", "Дубовік", "Дубовик", ("Dubowik",))),
    _invariant(Spelling("Yakimovich", "Якімовіч", "Якимович", ("Jakimowicz",))),
    _invariant(Spelling("Pashkevich", "Пашкевіч", "Пашкевич", ("Paszkiewicz",))),
    _invariant(Spelling("Charnysh", "Чарныш", "Черныш", ("Chernysh", "Čarnyš"))),
    Surname(
        Spelling("Lazouski", "Лазоўскі", "Лазовский", ("Lazovsky", "Łazoŭski")),
        Spelling("Lazouskaya", "Лазоўская", "Лазовская", ("Lazovskaya", "Łazoŭskaja")),
    ),
    Surname(
        Spelling("Kryvitski", "Крывіцкі", "Кривицкий", ("Krivitsky", "Kryvicki")),
        Spelling("Kryvitskaya", "Крывіцкая", "Кривицкая", ("Krivitskaya", "Kryvickaja")),
    ),
    _invariant(Spelling("Hlushko", "Глушко", "Глушко", ("Glushko", "Hłuszko"))),
    _invariant(Spelling("Savich", "Савіч", "Савич", ("Sawicz",))),
    _invariant(Spelling("Antanovich", "Антановіч", "Антонович", ("Antonovich", "Antanowicz"))),
)

# How many demo prisoners have each status: mostly sentenced, every status at least once.
STATUS_COUNTS: dict[PrisonerStatus, int] = {
    PrisonerStatus.SENTENCED: 24,
    PrisonerStatus.PRETRIAL: 4,
    PrisonerStatus.RELEASED: 4,
    PrisonerStatus.PARDONED: 3,
    PrisonerStatus.DEPORTED: 2,
    PrisonerStatus.DIED: 1,
    PrisonerStatus.UNKNOWN: 2,
}

# Relative weights of the statuses in the bulk (benchmark) data.
SCALE_STATUS_WEIGHTS: dict[PrisonerStatus, int] = {
    PrisonerStatus.SENTENCED: 700,
    PrisonerStatus.PRETRIAL: 80,
    PrisonerStatus.RELEASED: 120,
    PrisonerStatus.PARDONED: 50,
    PrisonerStatus.DEPORTED: 20,
    PrisonerStatus.DIED: 5,
    PrisonerStatus.UNKNOWN: 25,
}

# Mass arrests began after the election of 9 August 2020; most detentions date from then.
DETENTION_YEAR_WEIGHTS: dict[int, int] = {2020: 3, 2021: 4, 2022: 2, 2023: 2, 2024: 2, 2025: 1}


class Facility(NamedTuple):
    name: str
    postal_address: str  # Russian Cyrillic, one line per envelope line


PRETRIAL_FACILITIES: tuple[Facility, ...] = (
    Facility("SIZO No. 1 (Minsk)", "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"),
    Facility("SIZO No. 2 (Viciebsk)", "210026, г. Витебск,\nул. Гоголя, 4,\nСИЗО-2"),
    Facility("SIZO No. 3 (Homiel)", "246003, г. Гомель,\nул. Книжная, 1а,\nСИЗО-3"),
    Facility("SIZO No. 8 (Žodzina)", "222160, г. Жодино,\nул. Советская, 22а,\nСИЗО-8"),
)

MEN_FACILITIES: tuple[Facility, ...] = (
    Facility("Penal colony No. 3 (Viciebsk)", "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"),
    Facility(
        "Penal colony No. 1 (Navapolack)", "211440, г. Новополоцк,\nул. Техническая, 8,\nИК-1"
    ),
    Facility("Penal colony No. 9 (Horki)", "213410, г. Горки,\nул. Пролетарская, 17,\nИК-9"),
    Facility("Penal colony No. 15 (Mahilioŭ)", "212013, г. Могилёв,\nул. Крупской, 232,\nИК-15"),
    Facility(
        "Penal colony No. 22 (Ivacevičy)",
        "225295, Брестская обл.,\nИвацевичский р-н, п. Доманово,\nИК-22",
    ),
    Facility("Penal colony No. 2 (Babrujsk)", "213800, г. Бобруйск,\nул. Сикорского, 1,\nИК-2"),
)

WOMEN_FACILITIES: tuple[Facility, ...] = (
    Facility("Penal colony No. 4 (Homiel)", "246035, г. Гомель,\nул. Антошкина, 3,\nИК-4"),
)


def german_facility_name(name: str) -> str:
    """The German name of a facility above ("SIZO No. 1 (Minsk)" is
    "Untersuchungsgefängnis Nr. 1 (Minsk)")."""
    for english, german in (
        ("SIZO No. ", "Untersuchungsgefängnis Nr. "),
        ("Penal colony No. ", "Strafkolonie Nr. "),
        ("Prison No. ", "Gefängnis Nr. "),
    ):
        if name.startswith(english):
            return german + name.removeprefix(english)
    return name


# Where troublesome prisoners are moved to: a later transfer from a colony.
PRISONS: tuple[Facility, ...] = (
    Facility("Prison No. 1 (Hrodna)", "230023, г. Гродно,\nул. Кирова, 1,\nТюрьма № 1"),
    Facility("Prison No. 4 (Mahilioŭ)", "212011, г. Могилёв,\nул. Крупской, 99а,\nТюрьма № 4"),
)

# Articles of the Belarusian criminal code used against dissent, in realistic combinations.
ARTICLE_SETS: tuple[tuple[str, ...], ...] = (
    ("342",),
    ("342", "361-1"),
    ("130-3",),
    ("361-1", "361-4"),
    ("368", "369"),
    ("293",),
    ("356",),
    ("130-3", "361"),
    ("342", "411"),
    ("361-1", "130-1"),
    ("361-4",),
    ("369-1", "342"),
)

SENTENCE_YEARS: tuple[int, ...] = (2, 3, 3, 4, 5, 5, 6, 7, 8, 10, 11, 14, 15)
MEN_REGIMES: tuple[str, ...] = (
    "general-regime penal colony",
    "reinforced-regime penal colony",
    "strict-regime penal colony",
)
WOMEN_REGIMES: tuple[str, ...] = ("general-regime penal colony",)

TOWNS: tuple[str, ...] = (
    "Minsk",
    "Brest",
    "Hrodna",
    "Homiel",
    "Mahilioŭ",
    "Viciebsk",
    "Babrujsk",
    "Baranavičy",
    "Pinsk",
    "Lida",
    "Maladziečna",
    "Salihorsk",
    "Navapolack",
    "Orša",
    "Slonim",
)

OCCUPATIONS: tuple[str, ...] = (
    "history teacher",
    "software engineer",
    "journalist at a regional newspaper",
    "surgeon",
    "trade union activist",
    "student of philology",
    "retired factory worker",
    "musician",
    "small business owner",
    "railway worker",
    "lawyer",
    "photographer",
    "nurse",
    "IT project manager",
    "local historian",
)

DETENTION_REASONS: tuple[str, ...] = (
    "after taking part in peaceful protests against the falsified presidential election",
    "for comments in a neighbourhood chat",
    "for donations to a solidarity fund",
    "after a search in which the police found white-red-white ribbons",
    "for a post about the war in Ukraine",
    "for subscribing to an independent news channel",
    "for photographs of a protest march",
    "for helping the families of other political prisoners",
)

PRISONER_NOTES: tuple[str, ...] = (
    "Family asks that letters avoid political topics.",
    "Letters in Belarusian seem to be held back; write in Russian.",
    "Lawyer lost the licence in 2023; contact via the family only.",
    "The family confirmed that two cards arrived in March.",
    "Repeatedly placed in the punishment cell (SHIZO).",
    "Likes detective novels; books must be sent by the publisher.",
)

HEALTH_NOTES: tuple[str, ...] = (
    "Diabetes (type 2); parcels with medicines are refused.",
    "Heart condition; the family reports no adequate treatment.",
    "Lost a lot of weight in 2024.",
    "Back injury after the beating during detention.",
)

TRIAL_NOTES: tuple[str, ...] = (
    "Trial at the Minsk City Court, behind closed doors.",
    "Trial at the Homiel Regional Court.",
    "Trial at the Viciebsk Regional Court; the family may attend.",
)

KEY_DATE_NOTES: dict[KeyDateKind, str] = {
    KeyDateKind.APPEAL: "Appeal against the extra year under Article 411, at the regional court.",
    KeyDateKind.HEARING: "Hearing on a new charge under Article 411 (disobedience).",
    KeyDateKind.EXPECTED_RELEASE: "End of the sentence, unless it is extended.",
    KeyDateKind.CUSTOM: "Wedding anniversary: the family would welcome a card.",
}


# --- Sponsors ----------------------------------------------------------------------------


class SponsorSeed(NamedTuple):
    """An invented member of a real parliament.

    The first is the demo's first sponsor login, so it speaks English, the default language.

    ``mandate_days`` is when the mandate ends, in days from today (negative: it has ended;
    None: not recorded). ``quote`` is set for those who consented to be named in public.
    """

    full_name: str
    title: str | None
    body: str
    country: str
    party: str
    language: str
    mandate_days: int | None
    quote: str | None = None
    has_delegate: bool = False
    notes: str | None = None


_QUOTE_DE = (
    "Niemand darf für seine Meinung im Gefängnis sitzen. Ich schreibe, damit mein Patenkind "
    "weiß, dass es nicht vergessen ist."
)
_QUOTE_EN = "Every letter tells a prisoner that the world has not forgotten them."

SPONSORS: tuple[SponsorSeed, ...] = (
    SponsorSeed(
        "Helen Whitfield",
        "MP",
        "House of Commons",
        "GB",
        "Labour",
        "en",
        1300,
        "Political prisoners must never become statistics.",
        has_delegate=True,
    ),
    SponsorSeed(
        "Anna Schmidt",
        "MdB",
        "Bundestag",
        "DE",
        "Bündnis 90/Die Grünen",
        "de",
        1100,
        _QUOTE_DE,
        has_delegate=True,
    ),
    SponsorSeed(
        "Thomas Becker",
        "MdB",
        "Bundestag",
        "DE",
        "CDU/CSU",
        "de",
        1100,
        has_delegate=True,
        notes="Prefers contact via the office in session weeks.",
    ),
    SponsorSeed("Katharina Vogel", "MdB", "Bundestag", "DE", "SPD", "de", 1100),
    SponsorSeed("Markus Hoffmann", "MdB", "Bundestag", "DE", "Die Linke", "de", 1100),
    SponsorSeed(
        "Sabine Keller",
        "Nationalrätin",
        "Swiss National Council",
        "CH",
        "SP",
        "de",
        1050,
        "Solidarität braucht keine Grenzen. Jeder Brief zählt.",
    ),
    SponsorSeed(
        "Lukas Brunner",
        "Nationalrat",
        "Swiss National Council",
        "CH",
        "FDP.Die Liberalen",
        "de",
        1050,
    ),
    SponsorSeed(
        "Claire Dubois",
        None,
        "Swiss National Council",
        "CH",
        "Les Vert-e-s",
        "en",
        1050,
        notes="Writes in French; the office translates into Russian.",
    ),
    SponsorSeed(
        "Elisabeth Gruber",
        "Abg.z.NR",
        "Austrian National Council",
        "AT",
        "ÖVP",
        "de",
        45,
        notes="Not standing again; find a successor before she leaves.",
    ),
    SponsorSeed("Florian Mayr", "Abg.z.NR", "Austrian National Council", "AT", "NEOS", "de", 1400),
    SponsorSeed(
        "Magdalena Nowakowska",
        None,
        "Sejm",
        "PL",
        "Koalicja Obywatelska",
        "en",
        1050,
        "We were free to protest; they were not. We will not look away.",
    ),
    SponsorSeed(
        "Piotr Zieliński",
        None,
        "Sejm",
        "PL",
        "Polska 2050",
        "en",
        1050,
        notes="Speaks Russian; writes the letters himself.",
    ),
    SponsorSeed("Rasa Jankauskienė", None, "Seimas", "LT", "Homeland Union", "en", 700, _QUOTE_EN),
    SponsorSeed("Tomas Petrauskas", None, "Seimas", "LT", "Liberal Movement", "en", 700),
    SponsorSeed(
        "James Harrington",
        None,
        "House of Commons",
        "GB",
        "Conservative",
        "en",
        -140,
        notes="Lost his seat; his godchildren were handed over.",
    ),
    SponsorSeed("Fiona MacLeod", "MP", "House of Commons", "GB", "Liberal Democrats", "en", 1300),
    SponsorSeed(
        "Pieter de Vries",
        None,
        "Tweede Kamer",
        "NL",
        "D66",
        "en",
        20,
        "A letter costs me ten minutes. For the one who receives it, it means hope.",
    ),
    SponsorSeed("Sanne Bakker", None, "Tweede Kamer", "NL", "GroenLinks-PvdA", "en", 80),
    SponsorSeed(
        "Sophie Lambert", None, "Belgian Chamber of Representatives", "BE", "Les Engagés", "en", 900
    ),
    SponsorSeed(
        "Julien Moreau", "Député", "French National Assembly", "FR", "Renaissance", "en", None
    ),
    SponsorSeed(
        "Margarete Lindner",
        "MdEP",
        "European Parliament",
        "DE",
        "Greens/EFA",
        "de",
        950,
        "Wer in Europa Verantwortung trägt, darf zu den Gefangenen in Belarus nicht schweigen.",
        has_delegate=True,
    ),
    SponsorSeed("Krzysztof Wiśniewski", "MEP", "European Parliament", "PL", "EPP", "en", 950),
    SponsorSeed(
        "Isabelle Fontaine",
        "MEP",
        "European Parliament",
        "FR",
        "Renew Europe",
        "en",
        950,
        "Freedom for all political prisoners in Belarus, now.",
    ),
    SponsorSeed("Jonas Lindqvist", "MEP", "European Parliament", "SE", "S&D", "en", 950),
    SponsorSeed("Eva Novotná", "MEP", "European Parliament", "CZ", "Greens/EFA", "en", 950),
)

TIMEZONES: dict[str, str] = {
    "GB": "Europe/London",
    "LT": "Europe/Vilnius",
    "PL": "Europe/Warsaw",
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam",
    "CH": "Europe/Zurich",
    "AT": "Europe/Vienna",
    "SE": "Europe/Stockholm",
    "CZ": "Europe/Prague",
}

# How the godparents above are addressed (godparents/salutations.py): (form, academic
# title). Those not named here keep the neutral default ("Dear Claire Dubois,").
ADDRESSED_AS: dict[str, tuple[str, str | None]] = {
    "Helen Whitfield": ("female", None),
    "Anna Schmidt": ("female", None),
    "Thomas Becker": ("male", "dr"),
    "Katharina Vogel": ("female", None),
    "Markus Hoffmann": ("male", None),
    "Sabine Keller": ("female", None),
    "Lukas Brunner": ("male", None),
    "Elisabeth Gruber": ("female", "prof_dr"),
    "Florian Mayr": ("male", None),
    "Magdalena Nowakowska": ("female", None),
    "Piotr Zieliński": ("male", None),
    "Tomas Petrauskas": ("male", None),
    "James Harrington": ("male", None),
    "Fiona MacLeod": ("female", None),
    "Pieter de Vries": ("male", None),
    "Julien Moreau": ("male", None),
    "Margarete Lindner": ("female", "dr"),
    "Krzysztof Wiśniewski": ("male", None),
    "Isabelle Fontaine": ("female", None),
    "Eva Novotná": ("female", "dr"),
}
# The names of the office staff, in the order of the godparents who have them: neutral, as
# office staff are when they have not said otherwise.
DELEGATE_NAMES: tuple[str, ...] = ("Jamie Collins", "Alex Weber", "Kim Schulz", "Sascha Brandt")

# Parliaments of the bulk sponsors: (body, country, language).
PARLIAMENTS: tuple[tuple[str, str, str], ...] = (
    ("Bundestag", "DE", "de"),
    ("European Parliament", "DE", "de"),
    ("European Parliament", "FR", "en"),
    ("European Parliament", "PL", "en"),
    ("Swiss National Council", "CH", "de"),
    ("Austrian National Council", "AT", "de"),
    ("Sejm", "PL", "en"),
    ("Seimas", "LT", "en"),
    ("House of Commons", "GB", "en"),
    ("Tweede Kamer", "NL", "en"),
    ("Belgian Chamber of Representatives", "BE", "en"),
    ("Riigikogu", "EE", "en"),
)

SCALE_SPONSOR_FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Jan",
    "Maria",
    "Peter",
    "Sophie",
    "Michael",
    "Laura",
    "Tomasz",
    "Emma",
    "Lukas",
    "Agnieszka",
    "Oliver",
    "Ingrid",
    "Marek",
    "Claire",
    "Johan",
    "Elena",
    "David",
    "Rūta",
    "Henrik",
)
SCALE_SPONSOR_SURNAMES: tuple[str, ...] = (
    "Müller",
    "Kowalski",
    "Smith",
    "Janssen",
    "Dupont",
    "Andersson",
    "Huber",
    "Kazlauskas",
    "Novak",
    "Tamm",
    "Peeters",
    "Wagner",
    "Brown",
    "Nowak",
    "Martin",
    "Berg",
    "Weber",
    "Jones",
    "Bernard",
    "Meier",
)


# --- Actions -----------------------------------------------------------------------------

# How often each kind of action is logged, relatively.
ACTION_KIND_WEIGHTS: dict[ActionKind, int] = {
    ActionKind.LETTER: 30,
    ActionKind.CARD: 14,
    ActionKind.PARCEL: 4,
    ActionKind.LETTER_TO_AUTHORITIES: 5,
    ActionKind.EMBASSY_CONTACT: 3,
    ActionKind.SPEECH: 5,
    ActionKind.PARLIAMENTARY_QUESTION: 4,
    ActionKind.STATEMENT: 5,
    ActionKind.SOCIAL_MEDIA: 12,
    ActionKind.EVENT: 4,
    ActionKind.PETITION: 3,
    ActionKind.VISIT: 1,
    ActionKind.FAMILY_CONTACT: 4,
    ActionKind.OTHER: 2,
}

# What became of post to a prison, once the outcome is known.
LETTER_OUTCOME_WEIGHTS: dict[LetterOutcome, int] = {
    LetterOutcome.DELIVERED: 30,
    LetterOutcome.REPLY_RECEIVED: 20,
    LetterOutcome.RETURNED: 10,
    LetterOutcome.CENSORED: 10,
    LetterOutcome.UNKNOWN: 25,
}

# Actions with something to link to (a speech, a post).
LINKED_KINDS = frozenset(
    {
        ActionKind.SPEECH,
        ActionKind.PARLIAMENTARY_QUESTION,
        ActionKind.STATEMENT,
        ActionKind.SOCIAL_MEDIA,
        ActionKind.PETITION,
        ActionKind.EVENT,
    }
)

# Logged actions per year, one chosen for each sponsor: some are busy, some fall silent.
ACTIONS_PER_YEAR: tuple[int, ...] = (0, 2, 4, 6, 7, 8, 9, 10, 12)

# Summaries by kind and language; {name} is the prisoner's first name.
ACTION_SUMMARIES: dict[ActionKind, dict[str, tuple[str, ...]]] = {
    ActionKind.LETTER: {
        "en": (
            "Letter to {name} in Russian: news from parliament and greetings from home.",
            "Letter to {name} with photos of the city, translated into Belarusian by the office.",
            "Answered {name}'s last letter; asked which books we may send.",
        ),
        "de": (
            "Brief an {name} auf Russisch: Neuigkeiten aus dem Parlament und Grüße von zu Hause.",
            "Brief an {name} mit Fotos aus der Stadt, vom Büro ins Belarussische übersetzt.",
            "Antwort auf den letzten Brief von {name}; gefragt, welche Bücher wir schicken dürfen.",
        ),
    },
    ActionKind.CARD: {
        "en": (
            "Birthday card to {name}, signed by the whole office.",
            "Postcard to {name} for the holidays.",
        ),
        "de": (
            "Geburtstagskarte an {name}, vom ganzen Büro unterschrieben.",
            "Postkarte an {name} zu den Feiertagen.",
        ),
    },
    ActionKind.PARCEL: {
        "en": ("Parcel with books and warm socks for {name}.",),
        "de": ("Paket mit Büchern und warmen Socken für {name}.",),
    },
    ActionKind.LETTER_TO_AUTHORITIES: {
        "en": (
            "Letter to the colony administration asking about {name}'s medical care.",
            "Wrote to the Prosecutor General of Belarus demanding {name}'s release.",
        ),
        "de": (
            "Schreiben an die Kolonieverwaltung zur medizinischen Versorgung von {name}.",
            "Schreiben an den Generalstaatsanwalt von Belarus: Freilassung von {name}.",
        ),
    },
    ActionKind.EMBASSY_CONTACT: {
        "en": ("Raised {name}'s case with the Belarusian embassy.",),
        "de": ("Den Fall von {name} bei der belarussischen Botschaft angesprochen.",),
    },
    ActionKind.SPEECH: {
        "en": ("Named {name} in a plenary speech on human rights in Belarus.",),
        "de": ("{name} in einer Plenarrede zur Menschenrechtslage in Belarus genannt.",),
    },
    ActionKind.PARLIAMENTARY_QUESTION: {
        "en": ("Written question to the government about {name}'s case.",),
        "de": ("Schriftliche Frage an die Regierung zum Fall von {name}.",),
    },
    ActionKind.STATEMENT: {
        "en": ("Press statement on the anniversary of {name}'s arrest.",),
        "de": ("Pressemitteilung zum Jahrestag der Festnahme von {name}.",),
    },
    ActionKind.SOCIAL_MEDIA: {
        "en": (
            "Posted about {name} on social media with the campaign's hashtag.",
            "Shared {name}'s portrait on the campaign day.",
        ),
        "de": (
            "Beitrag über {name} in den sozialen Medien mit dem Hashtag der Kampagne.",
            "Porträt von {name} zum Aktionstag geteilt.",
        ),
    },
    ActionKind.EVENT: {
        "en": ("Spoke about {name} at a solidarity evening for Belarusian political prisoners.",),
        "de": (
            "Bei einem Solidaritätsabend für belarussische politische Gefangene über {name} "
            "gesprochen.",
        ),
    },
    ActionKind.PETITION: {
        "en": ("Signed and shared the petition for {name}'s release.",),
        "de": ("Petition für die Freilassung von {name} unterschrieben und geteilt.",),
    },
    ActionKind.VISIT: {
        "en": ("Applied to visit {name}; the colony refused.",),
        "de": ("Besuch bei {name} beantragt; von der Kolonie abgelehnt.",),
    },
    ActionKind.FAMILY_CONTACT: {
        "en": ("Video call with {name}'s family in Vilnius.",),
        "de": ("Videotelefonat mit der Familie von {name} in Vilnius.",),
    },
    ActionKind.OTHER: {
        "en": ("Passed {name}'s case file to the human rights committee.",),
        "de": ("Fallakte von {name} an den Menschenrechtsausschuss weitergegeben.",),
    },
}
