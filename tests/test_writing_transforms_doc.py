"""docs/writing-transforms.md runs as written: its transforms, its plugin table and its format."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug import plugins, registry, targets

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-transforms.md"


def block(first_line: str) -> str:
    """The python block of the doc whose first line is ``first_line``."""
    for code in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        if code.splitlines()[0] == first_line:
            return code
    raise AssertionError(f"no python block starting with {first_line!r} in {DOC.name}")


@pytest.fixture
def doc_transforms():
    ns: dict = {}
    try:
        exec(compile(block("# vignetting.py"), "vignetting.py", "exec"), ns)
        exec(compile(block("# camera_roll.py"), "camera_roll.py", "exec"), ns)
        yield ns
    finally:
        registry.unregister_transform("lab.Vignetting")
        registry.unregister_transform("lab.CameraRoll")


def test_usage_block_runs_and_replays(doc_transforms):
    ns = dict(doc_transforms)
    exec(compile(block("frame = np.full((120, 160, 3), 180, np.uint8)"), "usage", "exec"), ns)
    assert ns["out"]["image"].dtype == np.uint8 and ns["out"]["image"].shape == (120, 160, 3)


def test_vignetting_corner_follows_the_cosine_fourth_law(doc_transforms):
    h, w, hfov = 90, 160, 90.0
    flat = np.full((h, w), 0.5, np.float32)  # float = linear radiance
    out = domaug.get_transform("lab.Vignetting", hfov_deg=hfov)(image=flat, rng=0)["image"]
    focal = (w / 2) / np.tan(np.radians(hfov) / 2)
    r = np.hypot(w / 2 - 0.5, h / 2 - 0.5)  # the corner pixel's centre
    expected = 0.5 * np.cos(np.arctan(r / focal)) ** 4
    assert out[0, 0] == pytest.approx(expected, rel=1e-5)
    assert out[h // 2, w // 2] == pytest.approx(0.5, rel=1e-3)
    assert out.dtype == np.float32 and (np.diff(out[h // 2, : w // 2]) >= 0).all()  # brighter towards the centre


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_vignetting_keeps_dtype_range_and_nodata(doc_transforms, dtype):
    top = 1.0 if dtype == np.float32 else np.iinfo(dtype).max
    image = np.full((40, 60, 3), top * 0.8, dtype)
    image[:, :3] = 0
    valid = np.ones((40, 60), bool)
    valid[:, :3] = False
    t = domaug.get_transform("lab.Vignetting")
    out = t(image=image, valid=valid, meta={"nodata": 0}, rng=5)
    assert out["image"].dtype == dtype and out["image"].shape == image.shape
    assert (out["image"][:, :3] == 0).all() and (out["image"][valid] > 0).all()
    assert (out["image"][valid] <= image[valid]).all()  # vignetting only removes light
    again = t(image=image, valid=valid, meta={"nodata": 0}, rng=5)
    np.testing.assert_array_equal(again["image"], out["image"])


def test_camera_roll_moves_the_box_with_the_pixels(doc_transforms):
    image = np.zeros((100, 140), np.uint8)
    image[40:60, 90:110] = 255  # a bright square off-centre
    boxes = np.array([[90.0, 40.0, 110.0, 60.0, 7]])
    out = domaug.get_transform("lab.CameraRoll", roll_deg=10.0)(image=image, bboxes=boxes, rng=0)
    ys, xs = np.nonzero(out["image"] > 128)
    x0, y0, x1, y1, label = out["bboxes"][0]
    assert label == 7
    cx, cy = xs + 0.5, ys + 0.5  # pixel centres of the moved square, all inside the moved box
    assert x0 <= cx.min() and cx.max() <= x1 and y0 <= cy.min() and cy.max() <= y1
    assert abs((ys.mean() + 0.5) - (y0 + y1) / 2) < 1.0  # centred on the moved square
    assert abs((xs.mean() + 0.5) - (x0 + x1) / 2) < 1.0
    assert (ys.mean(), xs.mean()) != (49.5, 99.5)  # it did move


def test_plugin_table_registers_transforms_and_targets(tmp_path, monkeypatch):
    package = tmp_path / "lab_augment"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "vignetting.py").write_text(block("# vignetting.py"))
    (package / "camera_roll.py").write_text(block("# camera_roll.py"))
    (package / "plugin.py").write_text(block("# lab_augment/plugin.py"))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        plugins.load_plugin_module("lab_augment.plugin")
        assert registry.get_transform_class("lab.CameraRoll").__module__ == "lab_augment.camera_roll"
        assert "lab.Vignetting" in domaug.list_transforms("lab")
        assert targets.kind_of("irradiance") == "field"
    finally:
        registry.unregister_transform("lab.Vignetting")
        registry.unregister_transform("lab.CameraRoll")
        targets.TARGET_KINDS.pop("irradiance", None)
        plugins.pm.unregister(name="lab_augment.plugin")
        for name in [m for m in sys.modules if m.startswith("lab_augment")]:
            del sys.modules[name]


def test_format_block_runs_through_domaug_run(tmp_path):
    (tmp_path / "pgm_format.py").write_text(block("# pgm_format.py"))
    src = tmp_path / "in"
    src.mkdir()
    yy, xx = np.mgrid[0:24, 0:32]
    grey = (xx * 8 + yy).astype(">u2")
    (src / "scan.pgm").write_bytes(b"P5\n32 24\n65535\n" + grey.tobytes())
    (src / "scan.boxes.json").write_text(json.dumps([[4, 4, 12, 10, 1]]))
    (tmp_path / "p.yaml").write_text("name: core.Flip\nparams: {axis: horizontal}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "domaug", "run", "p.yaml", "in", "out", "--plugin", "pgm_format",
                             "--executor", "serial", "-q"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    written = (tmp_path / "out" / "scan.aug0.pgm").read_bytes()
    assert written.startswith(b"P5\n32 24\n65535\n")
    flipped = np.frombuffer(written[len(b"P5\n32 24\n65535\n"):], ">u2").reshape(24, 32)
    np.testing.assert_array_equal(flipped, grey[:, ::-1])
    boxes = json.loads((tmp_path / "out" / "scan.aug0.boxes.json").read_text())
    assert [round(v) for v in boxes[0][:4]] == [20, 4, 28, 10]  # the box flipped with the pixels
