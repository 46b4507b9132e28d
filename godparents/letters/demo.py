"""The print kit's demo data: letter templates, the withheld-words list, and the senders'
office addresses of the demo godparents (all invented; the parliaments' public addresses)."""

from __future__ import annotations

from collections.abc import Iterable

from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.sponsors.models import Sponsor

# Where members of these parliaments receive post (public addresses of the institutions).
OFFICES = {
    "Bundestag": "Deutscher Bundestag\nPlatz der Republik 1\n11011 Berlin\nGERMANY",
    "European Parliament": "European Parliament\nRue Wiertz 60\n1047 Bruxelles\nBELGIUM",
    "Sejm": "Sejm RP\nul. Wiejska 4/6/8\n00-902 Warszawa\nPOLAND",
    "Seimas": "Lietuvos Respublikos Seimas\nGedimino pr. 53\nLT-01109 Vilnius\nLITHUANIA",
}

TEMPLATES: tuple[tuple[Occasion, LetterLanguage, str, str, str, str], ...] = (
    (
        Occasion.BIRTHDAY,
        LetterLanguage.RUSSIAN,
        "Открытка ко дню рождения",
        "Дорогой {first_name}!\n\nСердечно поздравляем Вас с днём рождения! Желаем крепкого "
        "здоровья, сил и тепла. Мы часто думаем о Вас.\n\nС уважением и теплом",
        "Lieber {first_name}!\n\nHerzlichen Glückwunsch zum Geburtstag! Wir wünschen Ihnen "
        "gute Gesundheit, Kraft und Wärme. Wir denken oft an Sie.\n\nMit Respekt und Wärme",
        "Dear {first_name},\n\nHappy birthday from the bottom of our hearts! We wish you good "
        "health, strength and warmth. We often think of you.\n\nWith respect and warmth",
    ),
    (
        Occasion.BIRTHDAY,
        LetterLanguage.BELARUSIAN,
        "Паштоўка да дня нараджэння",
        "Дарагі {first_name}!\n\nШчыра віншуем Вас з днём нараджэння! Жадаем моцнага "
        "здароўя, цяпла і добрых кніг. Мы памятаем пра Вас.\n\nЗ павагай",
        "Lieber {first_name}!\n\nHerzlichen Glückwunsch zum Geburtstag! Wir wünschen Ihnen "
        "gute Gesundheit, Wärme und gute Bücher. Wir denken an Sie.\n\nMit Respekt",
        "Dear {first_name},\n\nHappy birthday! We wish you good health, warmth and good "
        "books. We remember you.\n\nWith respect",
    ),
    (
        Occasion.NEW_YEAR,
        LetterLanguage.RUSSIAN,
        "С Новым годом",
        "Дорогой {first_name}!\n\nС Новым годом! Пусть в новом году будет больше светлых "
        "дней и хороших писем. У нас выпал первый снег.\n\nС наилучшими пожеланиями",
        "Lieber {first_name}!\n\nEin gutes neues Jahr! Möge das neue Jahr mehr helle Tage "
        "und gute Briefe bringen. Bei uns ist der erste Schnee gefallen.\n\nMit besten Wünschen",
        "Dear {first_name},\n\nHappy New Year! May the new year bring more bright days and "
        "good letters. The first snow has fallen here.\n\nWith best wishes",
    ),
    (
        Occasion.SUPPORT,
        LetterLanguage.BELARUSIAN,
        "Ліст падтрымкі",
        "Дарагі {first_name}!\n\nПішам Вам з Германіі. У нас вясна, у садзе цвітуць яблыні. "
        "Што Вы цяпер чытаеце? Мы будзем рады кожнаму Вашаму слову.\n\nЗ цёплымі пажаданнямі",
        "Lieber {first_name}!\n\nWir schreiben Ihnen aus Deutschland. Bei uns ist Frühling, "
        "im Garten blühen die Apfelbäume. Was lesen Sie gerade? Wir freuen uns über jedes "
        "Wort von Ihnen.\n\nMit herzlichen Grüßen",
        "Dear {first_name},\n\nWe are writing to you from Germany. It is spring here, the "
        "apple trees are in bloom. What are you reading now? Every word from you would make "
        "us glad.\n\nWith warm wishes",
    ),
    (
        Occasion.AFTER_SENTENCING,
        LetterLanguage.RUSSIAN,
        "После приговора",
        "Дорогой {first_name}!\n\nМы знаем, что сейчас трудное время. Мы рядом и пишем Вам. "
        "Берегите себя. Расскажите, как Вы, если сможете.\n\nВаши друзья",
        "Lieber {first_name}!\n\nWir wissen, dass dies eine schwere Zeit ist. Wir sind bei "
        "Ihnen und schreiben Ihnen. Passen Sie auf sich auf. Erzählen Sie, wie es Ihnen geht, "
        "wenn Sie können.\n\nIhre Freunde",
        "Dear {first_name},\n\nWe know this is a hard time. We are with you and we write to "
        "you. Take care of yourself. Tell us how you are, if you can.\n\nYour friends",
    ),
)

POLITICS = "Politics: letters that mention it are usually withheld"
FREEDOM = "“Freedom”: read as political, letters are withheld"
STRUGGLE = "“Struggle”: read as political, letters are withheld"
WAR = "The war: letters that mention it are withheld"
CASE = "The case, the trial, the prison: can be used against the prisoner"
WATCH_WORDS: tuple[tuple[str, str, str], ...] = (
    ("полит*", "ru", POLITICS),
    ("палітык*", "be", POLITICS),
    ("Politik*", "de", POLITICS),
    ("politic*", "en", POLITICS),
    ("свобод*", "ru", FREEDOM),
    ("свабод*", "be", FREEDOM),
    ("Freiheit*", "de", FREEDOM),
    ("freedom*", "en", FREEDOM),
    ("борьб*", "ru", STRUGGLE),
    ("барацьб*", "be", STRUGGLE),
    ("Kampf*", "de", STRUGGLE),
    ("struggle*", "en", STRUGGLE),
    ("войн*", "ru", WAR),
    ("вайн*", "be", WAR),
    ("Krieg*", "de", WAR),
    ("war", "en", WAR),
    ("суд", "ru", CASE),
    ("суд", "be", CASE),
    ("приговор*", "ru", CASE),
    ("прысуд*", "be", CASE),
    ("Urteil*", "de", CASE),
    ("trial", "en", CASE),
)


def demo_rows(sponsors: Iterable[Sponsor]) -> list[LetterTemplate | WatchWord]:
    """The templates and words to add; the sponsors get their office as sender's address."""
    for sponsor in sponsors:
        if sponsor.postal_address is None and sponsor.body in OFFICES:
            sponsor.postal_address = f"{sponsor.full_name}\n{OFFICES[sponsor.body]}"
    rows: list[LetterTemplate | WatchWord] = [
        LetterTemplate(
            occasion=occasion,
            language=language,
            title=title,
            body=body,
            translation_de=german,
            translation_en=english,
        )
        for occasion, language, title, body, german, english in TEMPLATES
    ]
    rows += [WatchWord(phrase=p, language=lang, reason=r) for p, lang, r in WATCH_WORDS]
    return rows
