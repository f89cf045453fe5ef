"""Issue 9 security: pipeline files are data, parameters are bounded, nothing escapes OUTPUT.

- YAML tags that construct Python objects are refused (safe loader), and transform
  names never import modules;
- giant sizes in a pipeline or on the command line are refused before any work;
- symlinks pointing outside INPUT are not followed;
- a crafted manifest (``..``, absolute paths, control characters) can make neither
  ``domaug replay`` nor ``domaug run --resume`` read or write outside INPUT/OUTPUT;
- sidecar JSON and target names cannot place files outside OUTPUT.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from domaug.cli.main import cli
from domaug.errors import DomaugError, PipelineFileError, UnknownTransformError
from domaug.serialize import loads

PIPE = "domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n    - {name: core.Flip}\n"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def make_input(root: Path, n: int = 2) -> Path:
    from PIL import Image

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(root / f"img{i}.png")
    return root


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
])
def test_yaml_object_tags_are_refused(tmp_path, tag):
    marker = tmp_path / "PWNED"
    text = ("domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n"
            f"    - {{name: core.Flip, params: {{p: {tag.format(marker=marker)}}}}}\n")
    with pytest.raises(PipelineFileError):
        loads(text)
    pipe = tmp_path / "evil.yaml"
    pipe.write_text(text)
    src = make_input(tmp_path / "in", 1)
    result = run("run", pipe, src, tmp_path / "out", "--executor", "serial", "-q")
    assert result.exit_code == 2 and "not valid YAML" in result.output
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_transform_names_never_import_modules(tmp_path, monkeypatch):
    marker = tmp_path / "IMPORTED"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("evilmod.Evil", "evilmod:Evil", "evilmod", "os.system", "builtins:eval"):
        text = f"domaug_format: 1\npipeline:\n  name: {name}\n"
        with pytest.raises(UnknownTransformError):
            loads(text)
    assert "evilmod" not in sys.modules
    assert not marker.exists()


@pytest.mark.parametrize("node", [
    "{name: core.RandomCrop, params: {height: 1000000000, width: 1000000000}}",
    "{name: core.Resize, params: {height: 1000000000, width: 64}}",
    "{name: core.Resize, params: {scale: 100000}}",
    "{name: core.GaussianBlur, params: {sigma_px: 1000000000}}",
    "{name: core.MotionBlur, params: {length_px: 1000000}}",
    "{name: core.CoarseDropout, params: {num_holes: 1000000000}}",
])
def test_giant_sizes_in_a_pipeline_fail_before_work(tmp_path, node):
    pipe = tmp_path / "big.yaml"
    pipe.write_text(f"domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n    - {node}\n")
    src = make_input(tmp_path / "in", 1)
    result = run("run", pipe, src, tmp_path / "out", "--executor", "serial", "-q")
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_resize_refuses_giant_outputs_from_recorded_params():
    """A crafted manifest replays ``applied`` params directly: apply must bound them too."""
    from domaug.errors import UnsupportedInputError
    from domaug.replay import replay

    image = np.zeros((8, 8), np.uint8)
    with pytest.raises(UnsupportedInputError, match="limit"):
        replay([{"name": "core.Resize", "params": {"size": [10 ** 6, 10 ** 6], "order": 1}}], image=image)


@pytest.mark.parametrize("flag", [["--variants", str(10 ** 12)], ["--workers", str(10 ** 6)]])
def test_giant_counts_on_the_command_line_fail_before_work(tmp_path, flag):
    pipe = tmp_path / "p.yaml"
    pipe.write_text(PIPE)
    src = make_input(tmp_path / "in", 1)
    result = run("run", pipe, src, tmp_path / "out", *flag)
    assert result.exit_code == 2 and "limit" in result.output, result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_pointing_outside_input_are_not_followed(tmp_path):
    from PIL import Image

    outside = tmp_path / "outside"
    outside.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(outside / "secret.png")
    src = make_input(tmp_path / "in", 1)
    os.symlink(outside / "secret.png", src / "link.png")
    os.symlink(outside, src / "linkdir")
    os.symlink(src / "img0.png", src / "inside.png")  # inside INPUT: followed
    pipe = tmp_path / "p.yaml"
    pipe.write_text(PIPE)
    out = tmp_path / "out"
    result = run("run", pipe, src, out, "--executor", "serial", "--debug", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "link.png: symlink pointing outside INPUT" in result.output
    assert "linkdir: symlink pointing outside INPUT" in result.output
    assert tree(out) == {"img0.aug0.png", "inside.aug0.png", "run.json", "manifest.jsonl"}


@pytest.fixture
def finished_run(tmp_path):
    src = make_input(tmp_path / "in", 2)
    pipe = tmp_path / "p.yaml"
    pipe.write_text(PIPE)
    out = tmp_path / "out"
    result = run("run", pipe, src, out, "--executor", "serial", "-q", "--seed", "4")
    assert result.exit_code == 0, result.output
    return src, pipe, out


EVIL_NAMES = ["../escape.png", "../../escape.png", "/tmp/domaug-abs-escape.png", "sub/../../escape.png",
              "a\x1b[2Jb.png", "ok\nname.png", "C:/escape.png", "..", ""]


@pytest.mark.parametrize("evil", EVIL_NAMES)
def test_replay_of_a_crafted_manifest_writes_nothing_outside(tmp_path, finished_run, evil):
    src, _pipe, out = finished_run
    path = out / "manifest.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    crafted = []
    for field in ("output", "outputs", "files", "inputs"):
        r = dict(records[0])
        if field == "output":
            r["output"] = evil
        elif field == "outputs":
            r["outputs"] = [evil]
        elif field == "files":
            r["files"] = {evil: "0" * 64}
        else:
            r["inputs"] = [evil]
        crafted.append(r)
    path.write_text("".join(json.dumps(r) + "\n" for r in crafted + records))
    before = tree(tmp_path)
    result = run("replay", path)
    assert result.exit_code == 1, result.output
    assert "refused: unsafe path" in result.output
    assert "Traceback" not in result.output
    assert result.output.count("identical:") == len(records)  # the genuine lines still replay
    assert tree(tmp_path) == before
    assert not Path("/tmp/domaug-abs-escape.png").exists()


def test_replay_never_imports_modules_named_in_run_json(tmp_path, finished_run, monkeypatch):
    _src, _pipe, out = finished_run
    marker = tmp_path / "IMPORTED"
    (tmp_path / "runjsonmod.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run_json = json.loads((out / "run.json").read_text())
    run_json["plugin_modules"] = ["runjsonmod"]
    (out / "run.json").write_text(json.dumps(run_json))
    result = run("replay", out / "manifest.jsonl")
    assert result.exit_code == 0, result.output
    assert not marker.exists() and "runjsonmod" not in sys.modules


@pytest.mark.parametrize("evil", ["../victim.png", "VICTIM_ABS", "img0.aug0.png/../../victim.png"])
def test_resume_does_not_trust_crafted_manifest_paths(tmp_path, finished_run, evil):
    src, pipe, out = finished_run
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"not yours")
    digest = hashlib.sha256(victim.read_bytes()).hexdigest()
    rel = str(victim) if evil == "VICTIM_ABS" else evil
    reference = (out / "manifest.jsonl").read_text()
    records = [json.loads(line) for line in reference.splitlines()]
    for r in records:  # claim img0's output is the victim file (which exists, hash matching)
        if r["input"] == "img0.png":
            (out / r["output"]).unlink()
            r["output"], r["files"] = rel, {rel: digest}
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = run("run", pipe, src, out, "--resume", "--executor", "serial", "-q")
    assert result.exit_code == 0, result.output
    assert victim.read_bytes() == b"not yours"
    strip = [{k: v for k, v in json.loads(line).items() if k != "duration_ms"}
             for line in reference.splitlines()]
    again = [{k: v for k, v in json.loads(line).items() if k != "duration_ms"}
             for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert again == strip  # img0 was regenerated from INPUT, the crafted line dropped
    assert (out / "img0.aug0.png").is_file()


def test_sidecar_json_cannot_place_files(tmp_path):
    src = make_input(tmp_path / "in", 1)
    (src / "img0.boxes.json").write_text(json.dumps(
        {"bboxes": [[1, 1, 10, 10, 3]], "path": "../../escape.json", "output": "/tmp/escape.json"}))
    (src / "img0.keypoints.json").write_text(json.dumps({"keypoints": [[2, 2]], "name": "../x"}))
    pipe = tmp_path / "p.yaml"
    pipe.write_text(PIPE)
    out = tmp_path / "out"
    result = run("run", pipe, src, out, "--executor", "serial", "-q", "--seed", "2")
    assert result.exit_code in (0, 1), result.output
    assert not (tmp_path / "escape.json").exists() and not Path("/tmp/escape.json").exists()
    assert all(not p.startswith("..") for p in tree(out))
    assert {p for p in tree(out) if not p.endswith(("run.json", "manifest.jsonl"))} <= {
        "img0.aug0.png", "img0.aug0.boxes.json", "img0.aug0.keypoints.json"}


@pytest.mark.parametrize("name", ["../../evil_mask", "/tmp/evil_mask", "a/../../evil_mask"])
def test_target_names_cannot_escape_output_folder(tmp_path, name):
    """A target name is never a path: a hostile one is refused before anything is written."""
    from domaug.formats.registry import get_format

    fmt = get_format("png")
    dest = tmp_path / "out" / "x.aug0.png"
    dest.parent.mkdir()
    sample = {"image": np.zeros((8, 8, 3), np.uint8), name: np.zeros((8, 8), np.uint8)}
    try:
        fmt.write(sample, [dest], sources=[], provenance={})
    except (DomaugError, ValueError):
        pass
    assert not (tmp_path / "evil_mask.png").exists() and not Path("/tmp/evil_mask.png").exists()
    assert all(p.parent == dest.parent for p in (tmp_path / "out").rglob("*"))
