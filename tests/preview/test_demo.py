"""``domaug demo``: every installed plugin's demo runs end to end, a broken one is reported."""

import json
from importlib import metadata

import pytest
from click.testing import CliRunner
from PIL import Image

import domaug
from domaug.cli.demo_cmd import collect_demos
from domaug.cli.main import cli

DOMAINS = ("core", "medical", "driving", "satellite", "agriculture")


def _installed() -> set[str]:
    return {"core"} | {ep.name for ep in metadata.entry_points(group="domaug")}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--workers", "1"], catch_exceptions=False)
    return out, result


@pytest.mark.parametrize("domain", DOMAINS)
def test_demo_writes_outputs_manifest_and_preview(demo_run, domain):
    if domain not in _installed():
        pytest.skip(f"the {domain} plugin is not installed")
    out, result = demo_run
    report = {r["name"]: r for r in json.loads((out / "demo.json").read_text())}
    assert domain in report, result.output
    assert report[domain]["ok"], report[domain]["problems"]
    folder = out / domain
    lines = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    ok = [line for line in lines if line.get("status") == "ok"]
    assert ok and len(ok) == report[domain]["outputs"]
    for line in ok:
        assert (folder / line["output"]).is_file()
        assert line["applied"], "every output records its applied transforms"
    with Image.open(folder / "preview.png") as sheet:
        assert sheet.mode == "RGB" and sheet.width > 200
    assert any((out / "inputs" / domain).iterdir())
    assert str(folder / "preview.png") in result.output


def test_demo_exit_code_and_summary(demo_run):
    out, result = demo_run
    assert result.exit_code == 0, result.output
    assert "look at:" in result.output


class _BrokenDemo:
    @domaug.hookimpl
    def register_demos(self, register):
        def make_inputs(folder):
            raise RuntimeError("no sample data here")

        register("broken", make_inputs, {"name": "core.Flip"})


class _BadHook:
    @domaug.hookimpl
    def register_demos(self, register):
        raise ImportError("missing dependency")


def test_broken_demo_is_reported_and_others_go_on(tmp_path):
    from domaug.plugins import pm

    pm.register(_BrokenDemo(), name="test-broken-demo")
    pm.register(_BadHook(), name="test-bad-hook")
    try:
        demos, problems = collect_demos()
        assert "broken" in {d.name for d in demos}
        assert any("missing dependency" in p for p in problems)
        result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--only", "core,broken,nosuch"],
                                    catch_exceptions=False)
    finally:
        pm.unregister(name="test-broken-demo")
        pm.unregister(name="test-bad-hook")
    assert result.exit_code == 1
    assert "no sample data here" in result.output
    assert "nosuch" in result.output
    assert (tmp_path / "core" / "preview.png").is_file()
    assert not (tmp_path / "broken" / "preview.png").exists()
