"""The layers hold: import-linter's contracts (.importlinter) pass, and they cover the whole core."""

from __future__ import annotations

import configparser
import pkgutil
import shutil
import subprocess
from pathlib import Path

import domaug

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports")
    assert lint, "lint-imports not found: install the test extras (pip install -e '.[test]')"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_plugin_contract_forbids_every_core_module_but_the_kit():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    forbidden = set(config["importlinter:contract:plugin-kit"]["forbidden_modules"].split())
    core = {f"domaug.{m.name}" for m in pkgutil.iter_modules(domaug.__path__) if m.name != "__main__"}
    assert core - forbidden == {"domaug.kit"}, "a new core module must be added to the plugin-kit contract"
    assert forbidden <= core, f"the contract names modules that do not exist: {sorted(forbidden - core)}"
