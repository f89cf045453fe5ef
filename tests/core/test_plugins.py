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
    for name in ("acme", "broken", "clash", "halfbroken", "faulty"):
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


def test_two_plugins_claiming_one_name_is_reported_naming_both_and_the_name_refuses(site):
    listed = run(site, "import domaug; print(len(domaug.list_transforms('core')))", plugins=("acme", "clash"))
    assert listed.returncode == 0, listed.stderr  # the other transforms still work
    assert "acme.Sepia" in listed.stderr
    assert "acme-augment 0.1.0" in listed.stderr and "clash-augment 0.1.0" in listed.stderr
    asked = run(site, "import domaug; domaug.list_transforms(); domaug.get_transform('acme.Sepia')",
                plugins=("acme", "clash"))
    assert asked.returncode != 0  # never a silent pick of one of the two
    assert "claimed twice" in asked.stderr and "clash-augment 0.1.0" in asked.stderr


def test_a_plugin_whose_every_hook_raises_breaks_nothing_else(site, tmp_path):
    code = (
        "import warnings, numpy as np, domaug\n"
        "from domaug.formats import registry as formats\n"
        "from domaug.cli.demo_cmd import collect_demos\n"
        "from domaug.plugins import plugin_errors\n"
        "from domaug.targets import kind_of\n"
        "print(domaug.get_transform('acme.Sepia')(image=np.full((2, 2, 3), 9, np.uint8), rng=0)['image'].shape)\n"
        "print(domaug.get_transform('faulty.Dim')(image=np.full((2, 2), 9, np.uint8))['image'].tolist())\n"
        "print(sorted(f.name for f in formats.formats()))\n"
        "try:\n    kind_of('elevation')\nexcept domaug.TargetError as e:\n    print('refused', 'elevation' in str(e))\n"
        "print(sorted(d.name for d in collect_demos()[0]))\n"
        "print(plugin_errors['faulty'])\n"
    )
    result = run(site, code, plugins=("acme", "faulty"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "(2, 2, 3)" and lines[1] == "[[4, 4], [4, 4]]"  # acme's and faulty's good item
    assert "png" in lines[2] and "tiff" in lines[2]
    assert lines[3] == "refused True"  # an unknown target asks every plugin, then is refused clearly
    assert "core" in lines[4]
    report = lines[5]
    for hook in ("transforms", "formats", "targets", "demos"):
        assert f"failed to register its {hook}: RuntimeError: {hook} hook exploded" in report
    assert "faulty-augment 0.1.0" in report and "faulty.NotATransform" not in result.stdout
    assert "not a subclass of domaug.Transform" in report  # the bad item, named
    # plugin commands are added for a command the core does not know: the CLI still answers clearly
    cli = subprocess.run([sys.executable, "-m", "domaug", "no-such-command"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(site / "faulty")})
    assert "failed to register its commands: RuntimeError: commands hook exploded" in cli.stderr
    assert "No such command 'no-such-command'" in cli.stderr and "Traceback" not in cli.stderr


def test_plugin_failing_at_registration_does_not_break_core_or_others(site):
    code = "import domaug; print(domaug.list_transforms('acme'), domaug.get_transform('core.Flip'))"
    result = run(site, code, plugins=("acme", "halfbroken"))
    assert result.returncode == 0, result.stderr
    assert "acme.Sepia" in result.stdout and "Flip" in result.stdout
    assert "halfbroken-augment 0.1.0 failed to register its transforms" in result.stderr
    missing = run(site, "import domaug; domaug.get_transform('halfbroken.Thing')", plugins=("halfbroken",))
    assert "failed to register its transforms" in missing.stderr and missing.returncode != 0


def test_domain_targets_are_declared_by_their_plugins():
    code = (
        "import numpy as np, domaug\n"
        "flip = domaug.get_transform('core.Flip')\n"
        "for depth in (np.ones((4, 5), np.float32), np.full((4, 5), -1.0, np.float32)):\n"
        "    try:\n"
        "        print('ok', flip(image=np.zeros((4, 5), np.uint8), depth=depth, rng=0)['depth'].shape)\n"
        "    except domaug.TargetError as exc:\n"
        "        print('refused', exc)\n"
    )

    def run_with(selected: str) -> list[str]:
        env = {**os.environ, "DOMAUG_PLUGINS": selected}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    without = run_with("")  # the core alone does not know what a depth is
    assert all(line.startswith("refused unknown target 'depth'") for line in without), without
    driving = run_with("driving")  # the driving plugin declares it, with its check of the values
    assert driving[0] == "ok (4, 5)"
    assert driving[1].startswith("refused depth has 20 negative pixels")
