"""``domaug run`` end to end with click's CliRunner on real PNG/JPEG/TIFF/NumPy files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import domaug
from domaug.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["run", *map(str, args)], catch_exceptions=False)


def test_outputs_mirror_tree_in_input_formats(inputs, pipeline_file, tmp_path, helpers):
    out = tmp_path / "out"
    result = run(pipeline_file, inputs, out, "--seed", 3, "--variants", 2, "--executor", "serial")
    assert result.exit_code == 0, result.output
    files = helpers.output_files(out)
    assert "a/img0.aug0.png" in files and "a/img0.aug1.png" in files
    assert "a/img0.aug0.mask.png" in files and "a/img0.aug0.boxes.json" in files
    assert "b/photo.aug1.jpg" in files and "b/deep/gray16.aug0.tif" in files and "b/arr.aug0.npy" in files
    assert not any(n.startswith("a/img0.mask.aug") or "boxes.aug" in n for n in files)  # sidecars are no inputs
    records = helpers.manifest_lines(out)
    assert len(records) == 7 * 2
    assert [(r["input"], r["variant"]) for r in records] == sorted((r["input"], r["variant"]) for r in records)
    for r in records:
        assert r["status"] == "ok" and len(r["output_sha256"]) == 64 and len(r["input_sha256"]) == 64
        assert r["applied"][0]["name"] == "core.Flip" and len(r["seed_key"]) == 2
        assert r["ssim"] is None or -1 <= r["ssim"] <= 1
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["root_seed"] == 3 and run_json["counts"]["outputs_written"] == 14
    assert "domaug" in run_json["plugins"].values() and run_json["pipeline_hash"]
    assert "1 skipped" not in result.output and "7 files ok" in result.output


def test_broken_files_reported_others_succeed(inputs, pipeline_file, tmp_path, helpers):
    good = (inputs / "a" / "img1.png").read_bytes()
    (inputs / "a" / "zero.png").write_bytes(b"")
    (inputs / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    (inputs / "a" / "text.png").write_text("this is not an image\n")
    out = tmp_path / "out"
    result = run(pipeline_file, inputs, out, "--seed", 1, "--workers", "2")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert sorted(e.split(":")[1].strip() for e in errors) == ["a/text.png", "a/truncated.png", "a/zero.png"]
    assert "empty file" in result.output and "truncated" in result.output and "not a PNG file" in result.output
    files = helpers.output_files(out)
    assert not [n for n in files if "zero" in n or "truncated" in n or "text" in n]
    assert not [n for n in files if ".domaug-tmp" in n]
    assert len([n for n in files if ".aug0." in n and not n.endswith((".mask.png", ".json"))]) == 7
    failed = [r for r in helpers.manifest_lines(out) if r["status"] == "failed"]
    assert len(failed) == 3 and all(r["error"] and "\n" not in r["error"] for r in failed)


def test_output_inside_input_refused(inputs, pipeline_file):
    result = run(pipeline_file, inputs, inputs / "augmented")
    assert result.exit_code == 2 and "inside INPUT" in result.output
    assert not (inputs / "augmented").exists()


def test_unknown_transform_exit_2_before_any_output(inputs, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n    - {name: core.Fliip}\n")
    result = run(bad, inputs, tmp_path / "out")
    assert result.exit_code == 2 and "core.Fliip" in result.output and "core.Flip" in result.output
    assert not (tmp_path / "out").exists()
    bad.write_text("domaug_format: 1\npipeline: {name: core.GaussianNoise, params: {p: 3}}\n")
    result = run(bad, inputs, tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()


def test_missing_input_and_missing_plugin_exit_2(pipeline_file, tmp_path, inputs):
    assert run(pipeline_file, tmp_path / "nope", tmp_path / "out").exit_code == 2
    result = run(pipeline_file, inputs, tmp_path / "out", "--plugin", "no_such_module_xyz")
    assert result.exit_code == 2 and "no_such_module_xyz" in result.output
    assert not (tmp_path / "out").exists()


def test_adding_a_file_changes_no_other_output(inputs, pipeline_file, tmp_path, helpers):
    first = tmp_path / "first"
    assert run(pipeline_file, inputs, first, "--seed", 5, "--executor", "serial").exit_code == 0
    from PIL import Image

    Image.fromarray(helpers.small_rgb(9)).save(inputs / "a" / "aaa_new.png")
    second = tmp_path / "second"
    assert run(pipeline_file, inputs, second, "--seed", 5, "--executor", "serial").exit_code == 0
    before, after = helpers.output_files(first), helpers.output_files(second)
    assert set(after) - set(before) == {"a/aaa_new.aug0.png"}
    assert all(after[name] == data for name, data in before.items())


def test_balance_classes_plan_and_counts(tmp_path, pipeline_file, helpers):
    from PIL import Image

    src = tmp_path / "in"
    for cls, n in {"cat": 5, "dog": 2, "fox": 1}.items():
        (src / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(helpers.small_rgb(i, 16)).save(src / cls / f"{i}.png")
    out = tmp_path / "out"
    result = run(pipeline_file, src, out, "--balance-classes", "--seed", 0, "--executor", "serial")
    assert result.exit_code == 0, result.output
    assert "class balance plan" in result.output and "fox" in result.output
    files = helpers.output_files(out)
    count = {c: len([n for n in files if n.startswith(c + "/")]) for c in ("cat", "dog", "fox")}
    assert count == {"cat": 0, "dog": 3, "fox": 4}  # every class reaches 5
    out2 = tmp_path / "out2"
    assert run(pipeline_file, src, out2, "--balance-classes", "--variants", 1, "-q").exit_code == 0
    files = helpers.output_files(out2)
    count = {c: len([n for n in files if n.startswith(c + "/")]) for c in ("cat", "dog", "fox")}
    assert count == {"cat": 5, "dog": 8, "fox": 9}  # every class reaches 10


def test_replay_bit_identical_and_detects_tampering(inputs, pipeline_file, tmp_path):
    out = tmp_path / "out"
    assert run(pipeline_file, inputs, out, "--seed", 2, "--variants", 2, "-q").exit_code == 0
    runner = CliRunner()
    result = runner.invoke(cli, ["replay", str(out / "manifest.jsonl")])
    assert result.exit_code == 0, result.output
    assert "14 identical, 0 different" in result.output
    result = runner.invoke(cli, ["replay", str(out / "manifest.jsonl"), "--line", "3"])
    assert result.exit_code == 0 and "1 identical" in result.output
    lines = (out / "manifest.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["applied"][0]["params"]["axis"] = "vertical" if record["applied"][0]["params"]["axis"] != "vertical" else "horizontal"
    lines[2] = json.dumps(record)
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    result = runner.invoke(cli, ["replay", str(out / "manifest.jsonl"), "--line", "3"])
    assert result.exit_code == 1 and "MISMATCH" in result.output
    assert "other versions" not in result.output  # same versions: no excuse offered
    run_json = json.loads((out / "run.json").read_text())
    run_json["domaug_version"] = "0.0.1"
    (out / "run.json").write_text(json.dumps(run_json))
    result = runner.invoke(cli, ["replay", str(out / "manifest.jsonl"), "--line", "3"])
    assert result.exit_code == 1 and f"domaug 0.0.1 → {domaug.__version__}" in result.output


def test_png_provenance_chunk(inputs, pipeline_file, tmp_path):
    from PIL import Image

    out = tmp_path / "out"
    assert run(pipeline_file, inputs, out, "--seed", 4, "--executor", "serial").exit_code == 0
    record = next(json.loads(l) for l in (out / "manifest.jsonl").read_text().splitlines()
                  if l and json.loads(l)["output"] == "a/img1.aug0.png")
    with Image.open(out / "a" / "img1.aug0.png") as im:
        stamp = json.loads(im.text["domaug"])
    assert stamp["pipeline_hash"] == json.loads((out / "run.json").read_text())["pipeline_hash"]
    assert stamp["seed_key"] == record["seed_key"] and stamp["applied"] == record["applied"]


def test_include_glob_and_symlink_outside_not_followed(inputs, pipeline_file, tmp_path, helpers):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.png").write_bytes((inputs / "a" / "img1.png").read_bytes())
    os.symlink(outside, inputs / "link_out")
    os.symlink(inputs / "a" / "img1.png", inputs / "b" / "alias.png")
    out = tmp_path / "out"
    result = run(pipeline_file, inputs, out, "--include", "*.png", "--seed", 1, "--executor", "serial")
    assert result.exit_code == 0, result.output
    files = helpers.output_files(out)
    assert "b/alias.aug0.png" in files and not any(n.startswith("link_out") for n in files)
    assert not any(n.endswith((".jpg", ".tif", ".npy")) for n in files)
    assert "1 skipped" in result.output  # the symlink leaving INPUT


def test_existing_output_needs_resume_and_resume_skips_done(inputs, pipeline_file, tmp_path, helpers):
    out = tmp_path / "out"
    assert run(pipeline_file, inputs, out, "--seed", 8, "-q", "--executor", "serial").exit_code == 0
    before = helpers.output_files(out)
    assert run(pipeline_file, inputs, out, "--seed", 8).exit_code == 2
    (out / "a" / "img2.aug0.png").unlink()
    result = run(pipeline_file, inputs, out, "--resume", "-q", "--executor", "serial")
    assert result.exit_code == 0 and "1 files ok" in result.output and "6 already done" in result.output
    assert helpers.output_files(out) == before
    assert run(pipeline_file, inputs, out, "--resume", "--seed", 9).exit_code == 2


def test_max_distortion_redraws_then_flags(inputs, tmp_path, helpers):
    strong = tmp_path / "strong.yaml"
    strong.write_text("domaug_format: 1\npipeline: {name: core.GaussianNoise, params: {sigma: 0.3}}\n")
    out = tmp_path / "out"
    result = run(strong, inputs, out, "--seed", 0, "--max-distortion", "0.999", "--executor", "serial",
                 "--include", "a/*")
    assert result.exit_code == 0, result.output
    records = helpers.manifest_lines(out)
    assert records and all(r["flagged"] is True and r["attempts"] == 6 for r in records)
    assert all(len(r["seed_key"]) == 3 and r["seed_key"][2] == 5 for r in records)
    assert "flagged" in result.output
    result = CliRunner().invoke(cli, ["replay", str(out / "manifest.jsonl"), "-q"])
    assert result.exit_code == 0, result.output


def test_plugins_command_lists_core():
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].split()[:3] == ["plugin", "distribution", "version"]
    core = next(line for line in result.output.splitlines() if line.startswith("core"))
    assert int(core.split()[-1]) >= 4  # PNG, JPEG, TIFF, NumPy formats


def test_plugin_module_reaches_spawned_workers(inputs, tmp_path, monkeypatch, helpers):
    """A --plugin module's transforms work in fresh (spawned) worker processes too."""
    fixtures = tmp_path / "user_module"
    fixtures.mkdir()
    (fixtures / "my_batch_transforms.py").write_text(
        "import domaug\n\n\n"
        "@domaug.register_transform(name='user.BatchInvert')\n"
        "class BatchInvert(domaug.PixelTransform):\n"
        "    \"\"\"Photographic negative.\"\"\"\n\n"
        "    def __init__(self, p=1.0):\n"
        "        super().__init__(p=p)\n\n"
        "    def apply_to_image(self, image, params, sample):\n"
        "        return 255.0 - image.astype(float)\n")
    monkeypatch.syspath_prepend(str(fixtures))
    monkeypatch.setenv("PYTHONPATH", str(fixtures) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("DOMAUG_START_METHOD", "spawn")
    pipe = tmp_path / "user.yaml"
    pipe.write_text("domaug_format: 1\npipeline: {name: user.BatchInvert}\n")
    out = tmp_path / "out"
    result = run(pipe, inputs, out, "--plugin", "my_batch_transforms", "--workers", 2, "--include", "a/*", "-q")
    assert result.exit_code == 0, result.output
    import numpy as np
    from PIL import Image

    original = np.asarray(Image.open(inputs / "a" / "img1.png"))
    inverted = np.asarray(Image.open(out / "a" / "img1.aug0.png"))
    np.testing.assert_array_equal(inverted, 255 - original)
    assert json.loads((out / "run.json").read_text())["plugin_modules"] == ["my_batch_transforms"]


def test_inputs_never_modified(inputs, pipeline_file, tmp_path):
    import hashlib

    def tree(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    before = tree(inputs)
    assert run(pipeline_file, inputs, tmp_path / "out", "--variants", 2, "-q").exit_code == 0
    assert tree(inputs) == before


def test_broken_sidecar_fails_its_image_with_the_sidecar_named(inputs, pipeline_file, tmp_path):
    (inputs / "a" / "img1.mask.png").write_bytes(b"")
    result = run(pipeline_file, inputs, tmp_path / "out", "--executor", "serial", "--seed", 0)
    assert result.exit_code == 1
    assert "error: a/img1.png: a/img1.mask.png: empty sidecar file (0 bytes)" in result.output


def test_plugins_command_reports_broken_plugins(monkeypatch):
    from domaug import plugins

    plugins.load_plugins()
    monkeypatch.setitem(plugins.plugin_errors, "brokenx",
                        "plugin 'brokenx' from brokenx-augment 0.1.0 failed to load: ImportError: no numpy9")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert "broken: brokenx: plugin 'brokenx' from brokenx-augment 0.1.0 failed to load" in result.output
