"""Plugins through real entry points: tiny packages pip-installed into a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    for name in ("acme", "broken", "clash", "halfbroken"):
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", str(target / name), str(FIXTURES / name)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"pip could not install the {name} fixture plugin: {result.stderr[-2000:]}")
    return target


def run(site: Path, code: str, plugins=("acme",), **env) -> subprocess.CompletedProcess:
    path = os.pathsep.join(str(site / p) for p in plugins)
    full_env = {**os.environ, "PYTHONPATH": path, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env)


def test_packaged_plugin_is_discovered_through_its_entry_point(site):
    code = (
        "import numpy as np, domaug\n"
        "from domaug.registry import owner_of\n"
        "assert 'acme.Sepia' in domaug.list_transforms('acme')\n"
        "t = domaug.get_transform('acme.Sepia', strength=0.5)\n"
        "out = t(image=np.full((4, 4, 3), 100, np.uint8), rng=0)\n"
        "print(out['image'][0, 0].tolist(), owner_of('acme.Sepia'))\n"
    )
    result = run(site, code)
    assert result.returncode == 0, result.stderr
    assert "acme-augment 0.1.0" in result.stdout
    assert result.stdout.split("]")[0] != "[100, 100, 100"


def test_asking_for_one_namespace_imports_only_that_plugin(site):
    code = ("import sys, domaug; domaug.get_transform('acme.Sepia');"
            "print([m for m in sys.modules if m.startswith('domaug_')])")
    result = run(site, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_disable_and_select_plugins(site):
    code = "import domaug; print(domaug.list_transforms('acme'))"
    assert run(site, code, DOMAUG_DISABLE_PLUGINS="acme").stdout.strip() == "[]"
    assert run(site, code, DOMAUG_DISABLE_PLUGINS="acme-augment").stdout.strip() == "[]"
    assert run(site, code, DOMAUG_PLUGINS="").stdout.strip() == "[]"
    assert "acme.Sepia" in run(site, code, DOMAUG_PLUGINS="acme").stdout
    missing = run(site, "import domaug; domaug.get_transform('acme.Sepia')", DOMAUG_PLUGINS="")
    assert "no installed plugin provides the 'acme' namespace" in missing.stderr


def test_broken_plugin_is_reported_with_its_distribution_and_others_still_work(site):
    code = "import domaug; print(domaug.list_transforms('acme'))"
    result = run(site, code, plugins=("acme", "broken"))
    assert result.returncode == 0, result.stderr
    assert "acme.Sepia" in result.stdout
    assert "broken-augment 0.1.0 failed to load" in result.stderr
    assert "a_module_that_does_not_exist" in result.stderr


def test_two_plugins_claiming_one_name_is_an_error_naming_both(site):
    result = run(site, "import domaug; domaug.list_transforms()", plugins=("acme", "clash"))
    assert result.returncode != 0
    assert "acme.Sepia" in result.stderr
    assert "acme-augment 0.1.0" in result.stderr and "clash-augment 0.1.0" in result.stderr


def test_plugin_failing_at_registration_does_not_break_core_or_others(site):
    code = "import domaug; print(domaug.list_transforms('acme'), domaug.get_transform('core.Flip'))"
    result = run(site, code, plugins=("acme", "halfbroken"))
    assert result.returncode == 0, result.stderr
    assert "acme.Sepia" in result.stdout and "Flip" in result.stdout
    assert "halfbroken-augment 0.1.0 failed to register its transforms" in result.stderr
    missing = run(site, "import domaug; domaug.get_transform('halfbroken.Thing')", plugins=("halfbroken",))
    assert "failed to register its transforms" in missing.stderr and missing.returncode != 0
