"""Behaviour unchanged while the code moves: every URL the app answers, and with which
methods, is checked in (tests/data/url_map.txt); so are the command-line commands
(tests/data/cli_commands.txt) and the request hooks in the order they run, the error
handlers and the template filters and globals (tests/data/hooks.txt). Endpoint names are
left out on purpose: they may change when views move between modules; the addresses that
people, links and reminders use may not.

After a deliberate change of a URL or command, rewrite the files with
``GODPARENTS_UPDATE_SNAPSHOTS=1 pytest tests/test_url_map.py`` and review the diff.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask

from godparents import create_app

DATA = Path(__file__).resolve().parent / "data"
URL_MAP = DATA / "url_map.txt"
CLI_COMMANDS = DATA / "cli_commands.txt"
HOOKS = DATA / "hooks.txt"
UPDATE = os.environ.get("GODPARENTS_UPDATE_SNAPSHOTS") == "1"


def _app() -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


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


def test_every_url_answers_as_before() -> None:
    _compare(URL_MAP, url_map_lines(_app()))


def test_every_command_is_there_as_before() -> None:
    _compare(CLI_COMMANDS, cli_command_lines(_app()))


def test_every_hook_runs_as_before() -> None:
    _compare(HOOKS, hook_lines(_app()), ordered=True)


def test_the_snapshot_sees_a_changed_url() -> None:
    """The comparison is not vacuous: a rule's path and its methods both count."""
    app = _app()
    lines = url_map_lines(app)
    assert any(line.startswith("/coordinator/prisoners/ ") for line in lines)
    assert any(line.startswith("/auth/login ") and "POST" in line for line in lines)
    app.add_url_rule("/coordinator/prisoners/new-thing", "x", lambda: "")
    assert url_map_lines(app) != lines
