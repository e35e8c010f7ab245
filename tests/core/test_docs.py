"""The project documents itself: every file it points to exists inside it, and nothing points outside."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if not n.endswith((".lock", ".png", ".svg", ".ico"))]


def test_no_file_points_outside_the_repository():
    outside = re.compile(r"\.\./shared|DESIGN\.md|TESTING-NOTES\.md|CONVENTIONS\.md")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in tracked_text_files()
        if path.is_file() and path.name != "test_docs.py"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not offenders


def test_the_docs_the_code_points_to_exist():
    referenced = set()
    for path in tracked_text_files():
        if path.is_file():
            referenced.update(re.findall(r"docs/[\w.-]+\.md", path.read_text(errors="replace")))
    assert referenced >= {"docs/architecture.md", "docs/authsignal-api.md"}
    assert all((ROOT / name).is_file() for name in referenced), referenced
