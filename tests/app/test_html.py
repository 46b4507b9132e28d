"""Valid HTML from every form (godparents/fields.py draws the fields): no id twice on a page
that shows several forms, no ``required`` on a select that has no empty placeholder first.
The walk (tests/journeys/test_walk.py) runs the Nu HTML checker over every page; these say
the same quickly, on the pages that had the most."""

from __future__ import annotations

import re
from collections import Counter

from flask.testing import FlaskClient

from tests.factories import make_coordinator, make_sponsor
from tests.helpers import LoginAs

ID = re.compile(r'\sid="([^"]+)"')


def _repeated_ids(page: str) -> list[str]:
    return sorted(name for name, count in Counter(ID.findall(page)).items() if count > 1)


def test_the_settings_and_two_factor_pages_repeat_no_id(
    login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    for path in ("/account/", "/account/two-factor"):
        page = client.get(path).get_data(as_text=True)
        assert page.count('name="csrf_token"') >= 3, path  # several forms
        assert page.count('name="current_password"') >= 2, path
        assert _repeated_ids(page) == [], path
        # Each password field keeps a label that points at it.
        for field_id in re.findall(r'<input[^>]*\sid="([^"]*current_password)"', page):
            assert f'for="{field_id}"' in page, (path, field_id)
    # The names posted stay as they were: the forms still work.
    page = client.get("/account/").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="login-email-current_password"[^>]*>', page)
    assert field and 'name="current_password"' in field.group(0)


def test_a_select_is_required_only_with_an_empty_placeholder_first(
    login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_sponsor().email)
    page = client.get("/account/").get_data(as_text=True)
    selects = re.findall(r"<select[^>]*>\s*<option[^>]*>", page)
    assert selects, "the settings page has its language and time zone selects"
    for select in selects:
        first_value = re.search(r'<option[^>]*value="([^"]*)"', select)
        if "required" in select.split(">")[0]:
            assert first_value is not None and first_value.group(1) == "", select
    assert any("required" not in s.split(">")[0] for s in selects)
