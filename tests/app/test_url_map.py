"""Behaviour unchanged while the code moves: every URL the app answers, and with which
methods, is checked in (tests/data/url_map.txt); so are the command-line commands
(tests/data/cli_commands.txt) and the request hooks in the order they run, the error
handlers and the template filters and globals (tests/data/hooks.txt). Endpoint names are
left out on purpose: they may change when views move between modules; the addresses that
people, links and reminders use may not.

After a deliberate change of a URL or command, rewrite the files with
``GODPARENTS_UPDATE_SNAPSHOTS=1 pytest tests/app/test_url_map.py`` and review the diff.
"""

from __future__ import annotations

import functools
import itertools
import os
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask

from godparents import create_app

# The checkout's root, wherever in tests/ this file is moved.
ROOT = next(path for path in Path(__file__).resolve().parents if (path / "pyproject.toml").exists())
DATA = ROOT / "tests" / "data"
URL_MAP = DATA / "url_map.txt"
CLI_COMMANDS = DATA / "cli_commands.txt"
HOOKS = DATA / "hooks.txt"
PACKAGES = ROOT / "godparents"
UPDATE = os.environ.get("GODPARENTS_UPDATE_SNAPSHOTS") == "1"


def _app() -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.fixture(scope="module")
def built() -> Flask:
    """One app for the tests that only read it."""
    return _app()


def url_map_lines(app: Flask) -> list[str]:
    """One line per rule: its path and its methods, sorted."""
    return sorted(
        f"{rule.rule} {','.join(sorted(rule.methods or ()))}" for rule in app.url_map.iter_rules()
    )


def cli_command_lines(app: Flask) -> list[str]:
    """Every command and sub-command of ``flask``, by its full name, with its options."""
    lines: list[str] = []

    def walk(command: click.Command, prefix: str) -> None:
        options = sorted(
            opt for param in command.params for opt in getattr(param, "opts", [param.name])
        )
        lines.append(f"{prefix} {' '.join(options)}".rstrip())
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}")

    for name, command in app.cli.commands.items():
        walk(command, name)
    return sorted(lines)


def _name(func: Any) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    return str(getattr(func, "__name__", type(func).__name__))


def hook_lines(app: Flask) -> list[str]:
    """The app-wide request hooks in their order (by function name: the order is the
    behaviour, where the function lives is not), then the template filters and globals."""
    lines: list[str] = []
    for kind, hooks in (
        ("before_request", app.before_request_funcs),
        ("after_request", app.after_request_funcs),
        ("teardown_request", app.teardown_request_funcs),
        ("context_processor", app.template_context_processors),
    ):
        lines += [f"{kind} {_name(func)}" for func in hooks.get(None, [])]
    lines += [
        f"error_handler {code} {exc.__name__}"
        for code, handlers in sorted(
            app.error_handler_spec.get(None, {}).items(), key=lambda i: str(i[0])
        )
        for exc in handlers
    ]
    lines += sorted(f"filter {name}" for name in app.jinja_env.filters)
    lines += sorted(f"global {name}" for name in app.jinja_env.globals)
    return lines


def _compare(path: Path, live: list[str], ordered: bool = False) -> None:
    if UPDATE:
        path.write_text("\n".join(live) + "\n", encoding="utf-8")
    recorded = path.read_text(encoding="utf-8").splitlines()
    missing = sorted(set(recorded) - set(live))
    added = sorted(set(live) - set(recorded))
    assert (missing, added) == ([], []), (
        f"{path.name} differs: gone {missing}, new {added}. If that is meant, rewrite it "
        "with GODPARENTS_UPDATE_SNAPSHOTS=1 and review the diff."
    )
    if ordered:
        assert live == recorded


def test_every_url_answers_as_before(built: Flask) -> None:
    _compare(URL_MAP, url_map_lines(built))


def test_every_command_is_there_as_before(built: Flask) -> None:
    _compare(CLI_COMMANDS, cli_command_lines(built))


def test_every_hook_runs_as_before(built: Flask) -> None:
    _compare(HOOKS, hook_lines(built), ordered=True)


def test_the_snapshot_sees_a_changed_url() -> None:
    """The comparison is not vacuous: a rule's path and its methods both count."""
    app = _app()
    lines = url_map_lines(app)
    assert any(line.startswith("/coordinator/prisoners/ ") for line in lines)
    assert any(line.startswith("/auth/login ") and "POST" in line for line in lines)
    app.add_url_rule("/coordinator/prisoners/new-thing", "x", lambda: "")
    assert url_map_lines(app) != lines


# Where a URL's code lives (docs/architecture.md): the first segment after /coordinator/ or
# /sponsor/ names the package; /coordinator/ pages are in its admin.py (or admin_<topic>.py),
# all others in its views.py. A collection of another package nested under an object
# belongs to that package (/sponsor/prisoners/<id>/actions/new: actions). The few paths
# whose segment names no package:
SEGMENT_PACKAGE = {"accounts": "account", "team": "sponsors", "": None}
ROOT_PACKAGE = {"coordinator": "dashboard", "sponsor": "sponsors", "photos": "prisoners"}
MODULE_PAGES = {"/": "main", "/healthz": "main", "/locale": "i18n"}


def _expected_home(path: str) -> tuple[str, str]:
    """The package and the kind of module ("admin" or "views") a path's view belongs in."""
    if path in MODULE_PAGES:
        return MODULE_PAGES[path], ""
    parts = path.strip("/").split("/")
    first, segment = parts[0], (parts[1] if len(parts) > 1 else "")
    if first in ("coordinator", "sponsor"):
        package = SEGMENT_PACKAGE.get(segment, segment) or ROOT_PACKAGE[first]
        for before, after in itertools.pairwise(parts[2:]):
            if before.startswith("<") and (PACKAGES / after).is_dir():
                package = after
        return package, "admin" if first == "coordinator" else "views"
    return ROOT_PACKAGE.get(first, first), "views"


def test_a_path_names_the_package_and_module_of_its_view(built: Flask) -> None:
    app = built
    misplaced = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        module = app.view_functions[rule.endpoint].__module__
        package, kind = _expected_home(rule.rule)
        if not kind:
            wanted_module = module == f"godparents.{package}"
        else:
            name = module.removeprefix(f"godparents.{package}.")
            wanted_module = name == kind or (kind == "admin" and name.startswith("admin_"))
        blueprint = rule.endpoint.partition(".")[0]
        if not wanted_module or blueprint != package:
            misplaced.append(f"{rule.rule} -> {rule.endpoint} in {module}")
    assert misplaced == []


def test_create_app_imports_every_module_with_pages() -> None:
    """A page module create_app does not import would have its routes silently missing."""
    factory = (PACKAGES / "__init__.py").read_text(encoding="utf-8")
    pages = [
        path
        for path in sorted(PACKAGES.glob("*/*.py"))
        if path.stem == "views" or path.stem == "admin" or path.stem.startswith("admin_")
    ]
    assert pages
    missing = [
        f"{path.parent.name}/{path.name}"
        for path in pages
        if f"from godparents.{path.parent.name} import {path.stem} as " not in factory
    ]
    assert missing == []
