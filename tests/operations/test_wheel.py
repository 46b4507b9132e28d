"""The wheel, installed outside the checkout, is complete: German pages and German emails.

Builds the source distribution and from it the wheel, as a package index would (uv build;
the build hook in setup.py compiles the catalogs and copies templates/ and static/ into the
wheel; building from the sdist also proves MANIFEST.in carries what the hook needs, and no
``build/`` left in the checkout can stand in for it), installs the wheel with the locked
dependencies into a new virtual environment in a temporary directory, and from there, with
the checkout nowhere on the path: migrates, seeds the demo, serves the login page in German
through gunicorn, and sends the reminders to a real SMTP server, where a German godparent's
email must be German.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.conftest import ENCRYPTION_KEY
from tests.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.prefix) / "bin" / "uv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.one_database("the installed wheel says nothing new on a second database"),
    pytest.mark.skipif(not UV.exists(), reason="uv is not installed in this environment"),
]


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment, outside the checkout, with the wheel and the locked
    dependencies installed (from uv's cache when the suite's own install filled it)."""
    work = tmp_path_factory.mktemp("wheel")
    run([str(UV), "build", "--quiet", "--out-dir", str(work / "dist")], ROOT)
    wheel = next((work / "dist").glob("godparents-*.whl"))
    requirements = work / "requirements.txt"
    requirements.write_text(
        run(
            [
                str(UV),
                "export",
                "--frozen",
                "--no-dev",
                "--no-hashes",
                "--no-emit-project",
                "--quiet",
            ],
            ROOT,
        )
    )
    venv = work / "venv"
    run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], work)
    run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",  # as a deployment would: no process compiles at start
            "--python",
            str(venv / "bin" / "python"),
            "-r",
            str(requirements),
            str(wheel),
        ],
        work,
    )
    return venv


def environment(work: Path, smtp_port: int = 25) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "GODPARENTS_INSTANCE_PATH": str(work / "instance"),
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'app.db'}",
        "GODPARENTS_SECRET_KEY": "wheel-test-" + "0" * 40,
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "GODPARENTS_BASE_URL": "https://godparents.example.org",
        "GODPARENTS_MAIL_SERVER": "127.0.0.1",
        "GODPARENTS_MAIL_PORT": str(smtp_port),
        "GODPARENTS_DEMO_PASSWORD": "wheel test password 1",
    }


def test_the_wheel_alone_serves_german_pages_and_writes_german_reminders(
    installed: Path, tmp_path: Path, smtp_server: SMTPServer
) -> None:
    bin_ = installed / "bin"
    env = environment(tmp_path, smtp_server.port)
    where = run(
        [
            str(bin_ / "python"),
            "-c",
            "import godparents as g; print(g.__file__); print(g.shipped('templates'))",
        ],
        tmp_path,
        env,
    )
    module, templates = where.split()
    assert module.startswith(str(installed)) and templates.startswith(str(installed)), where

    flask = [str(bin_ / "flask"), "--app", "godparents"]
    run([*flask, "db", "upgrade"], tmp_path, env)
    run([*flask, "demo", "seed", "--public-demo"], tmp_path, env)

    # The reminders of a week in spring: the campaign day (21 May) is announced to every
    # godparent, the German ones in German (the sentence as the checkout's catalog has it).
    output = run([*flask, "reminders", "run", "--today", "2027-05-14"], tmp_path, env)
    assert "sent" in output, output
    english = (
        "On this day godparents in many parliaments speak up together for the political "
        "prisoners in Belarus. Please take part in public: a post on social media, a "
        "statement, a speech or an event."
    )
    german = _german(english)
    bodies = [
        " ".join(m.get_body(("plain",)).get_content().split()) for m in smtp_server.inbox.messages
    ]
    assert bodies, output
    assert any(german in body for body in bodies), bodies[:3]
    assert any(english in body for body in bodies), "the English godparents get English"

    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(bin_ / "gunicorn"),
                "--no-control-socket",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "godparents:create_app()",
            ],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        page = _get(f"http://127.0.0.1:{port}/auth/login", server, log)
        assert "Passwort" in page and "Anmelden" in page, page[:2000]
        css = _get(f"http://127.0.0.1:{port}/static/css/app.css", server, log)
        assert css.strip()
    finally:
        server.terminate()
        server.wait(timeout=20)


def _get(url: str, server: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    request = urllib.request.Request(url, headers={"Accept-Language": "de"})
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode()
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer {url}:\n{log.read_text()}")
            time.sleep(0.2)


def _german(msgid: str) -> str:
    with (ROOT / "godparents/translations/de/LC_MESSAGES/messages.po").open("rb") as stream:
        message = read_po(stream, locale="de").get(msgid)
    assert message is not None and message.string, msgid
    return " ".join(message.string.split())


def test_the_wheel_carries_the_letters_font_and_prints_cyrillic(
    installed: Path, tmp_path: Path
) -> None:
    """The font the PDFs embed, and its licence, are inside the installed package."""
    script = tmp_path / "envelope.py"
    script.write_text(
        "from godparents.letters import pdf\n"
        "print(pdf.FONTS)\n"
        "envelope = pdf.Envelope('220030, г. Мінск,\\nСІЗА № 1\\nАлесь Бяляцкі', 'Berlin')\n"
        "open('envelope.pdf', 'wb').write(pdf.envelope_pdf(envelope, 'dl'))\n",
        encoding="utf-8",
    )
    fonts = Path(run([str(installed / "bin" / "python"), str(script)], tmp_path).strip())
    assert str(fonts).startswith(str(installed)), fonts
    assert (fonts / "DejaVuSans.ttf").is_file() and (fonts / "LICENSE.txt").is_file()
    assert (tmp_path / "envelope.pdf").read_bytes().startswith(b"%PDF")
