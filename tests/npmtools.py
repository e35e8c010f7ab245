"""Test-only npm tools (a local OIDC provider, axe-core, …), installed on demand into the git-ignored .testtools/.

`npm_package(name, version)` installs the pinned version once (under a file lock, so parallel test processes do
not race) and returns the package's folder. `.ci/run` pre-installs every pin in PINS: `python -m tests.npmtools`.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".testtools"
# The versions the tests use; tests ask for npm_package(name, PINS[name]).
PINS = {
    "oauth2-mock-server": "9.3.0",  # a local OpenID Connect provider for the SSO tests
    "axe-core": "4.14.1",  # the accessibility checks of every page and dialog state
}


def npm_package(name: str, version: str) -> Path:
    """The folder of npm package `name` at exactly `version`, installing it into .testtools/ if needed."""
    folder = TOOLS / "node_modules" / name
    if _installed_version(folder) == version:
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to install the test tool {name}@{version} (apt-get install npm)")
    TOOLS.mkdir(exist_ok=True)
    with open(TOOLS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(folder) != version:
            manifest = TOOLS / "package.json"
            if not manifest.exists():
                manifest.write_text("{}\n")  # without it npm walks up and installs into a parent folder
            subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(TOOLS),
                    "--no-audit",
                    "--no-fund",
                    "--save-exact",
                    f"{name}@{version}",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
    if _installed_version(folder) != version:
        raise RuntimeError(f"npm did not install {name}@{version} into {TOOLS}")
    return folder


def _installed_version(folder: Path) -> str | None:
    try:
        return json.loads((folder / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


if __name__ == "__main__":
    for pinned_name, pinned_version in PINS.items():
        print(f"{pinned_name}@{pinned_version}: {npm_package(pinned_name, pinned_version)}")
