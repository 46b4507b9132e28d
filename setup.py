"""The build hook: catalogs compiled and the top-level templates/ and static/ shipped.

Everything else about the package is in pyproject.toml. A wheel built without this hook
would serve English text with German dates (no ``.mo`` files) and no pages at all (the
templates and static files live at the repository's top level, outside the package).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CATALOGS = Path("godparents") / "translations"
SHIPPED = ("templates", "static")  # copied into the package as godparents/templates, ...

# godparents/catalogs.py needs only Babel (a build requirement), not the app's dependencies:
# load it by path rather than importing the package.
_spec = importlib.util.spec_from_file_location("_catalogs", ROOT / "godparents" / "catalogs.py")
assert _spec is not None and _spec.loader is not None  # noqa: S101
catalogs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogs)


class BuildWithCatalogsAndPages(build_py):
    """``build_py`` that also compiles the catalogs and copies templates/ and static/."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # An editable install imports from the checkout: compile there; the app finds
            # templates/ and static/ at the top level itself.
            catalogs.compile_all(ROOT / CATALOGS)
            return
        package = Path(self.build_lib) / "godparents"
        catalogs.compile_all(ROOT / CATALOGS, package / "translations")
        for name in SHIPPED:
            target = package / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(
                ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": BuildWithCatalogsAndPages})
