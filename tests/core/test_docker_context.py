"""The image's build context: .dockerignore keeps secrets, local data and version control out of `COPY . .`."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@cache
def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    """Docker's .dockerignore rules: `*`, `?`, `**`, `!` exceptions; the last matching rule wins."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                regex += ".*"
                i += 2
                if pattern.startswith("/", i):
                    regex = regex[:-2] + "(?:.*/)?"
                    i += 1
                continue
            char = pattern[i]
            if char == "*":
                regex += "[^/]*"
            elif char == "?":
                regex += "[^/]"
            elif char == "[":
                end = pattern.index("]", i)
                regex += pattern[i : end + 1]
                i = end
            else:
                regex += re.escape(char)
            i += 1
        rules.append((negate, re.compile(f"^{regex}$")))
    return rules


def excluded(path: str) -> bool:
    """Is this path (relative, with /) left out of the context? A parent directory matching excludes it too."""
    parts = path.split("/")
    result = False
    for negate, regex in _rules():
        if any(regex.match("/".join(parts[: n + 1])) for n in range(len(parts))):
            result = not negate
    return result


def build_context() -> list[str]:
    """Every file `docker build .` would send, computed from the working tree and .dockerignore."""
    files = []
    for directory, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(directory, ROOT)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        dirnames[:] = [d for d in dirnames if not excluded(prefix + d) or _may_reinclude(prefix + d)]
        files.extend(prefix + name for name in filenames if not excluded(prefix + name))
    return files


def _may_reinclude(directory: str) -> bool:
    return any(negate and regex.pattern.startswith("^" + re.escape(directory)) for negate, regex in _rules())


def test_secrets_local_data_and_version_control_never_enter_the_image():
    for path in [
        ".env",
        ".env.production",
        "var/adminpanel.sqlite3",
        "var/emulator.sqlite3",
        "var/exports/1234.csv",
        ".git/config",
        ".git/objects/ab/cdef",
        ".venv/bin/python",
        "adminpanel/__pycache__/settings.cpython-313.pyc",
        "staticfiles/css/app.css",
        ".testtools/node_modules/axe-core/axe.js",
        "tests/e2e/screenshots/journey.png",
        "secrets/tls.key",
        "adminpanel.sqlite3",
    ]:
        assert excluded(path), path


def test_what_the_image_needs_is_kept():
    for path in [
        "manage.py",
        "pyproject.toml",
        "uv.lock",
        ".python-version",
        "gunicorn.conf.py",
        ".env.example",
        "adminpanel/settings.py",
        "adminpanel/audit/migrations/0001_initial.py",
        "templates/base.html",
        "static/css/app.css",
    ]:
        assert not excluded(path), path


def test_the_real_context_holds_no_forbidden_path(tmp_path):
    (ROOT / "var").mkdir(exist_ok=True)
    sentinel = ROOT / "var" / "context-test.sqlite3"
    sentinel.write_text("local data")
    try:
        context = build_context()
    finally:
        sentinel.unlink()
    forbidden = ("var/", ".git/", ".venv/", "staticfiles/", ".testtools/", "tests/")
    secrets = [f for f in context if (f.startswith(".env") and f != ".env.example") or f.endswith((".key", ".pem"))]
    assert not secrets
    assert not [f for f in context if f.startswith(forbidden) or "__pycache__" in f]
    assert "manage.py" in context and "adminpanel/wsgi.py" in context and "templates/base.html" in context
    assert ".env.example" in context
