"""Real dash-cam frames (../shared/data/driving) through `domaug run` and `domaug preview`."""

from __future__ import annotations

import json
import shutil

import numpy as np
from click.testing import CliRunner
from PIL import Image

from domaug.cli.main import cli

FRAMES = ["udacity_straight_lines2.jpg", "udacity_test6.jpg", "udacity_solidWhiteRight.jpg"]
PIPELINE = {"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": [
    {"name": "OneOf", "params": {}, "transforms": [
        {"name": "driving.Fog", "params": {"visibility_m": [80, 400]}},
        {"name": "driving.Rain", "params": {"rain_rate_mm_h": [10, 60]}},
        {"name": "driving.Night", "params": {"iso": [800, 3200]}},
        {"name": "driving.Snow", "params": {}},
    ]},
    {"name": "driving.SunGlare", "params": {"p": 0.3}},
]}}


def test_real_frames_through_run_keep_size_boxes_and_replay(shared_data, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in FRAMES:
        shutil.copy(shared_data / "driving" / name, src / name)
    boxes = [[120, 420, 300, 520, 1]]  # a car-sized box (labels ride along)
    (src / "udacity_test6.boxes.json").write_text(json.dumps(boxes))
    pipe = tmp_path / "pipe.json"
    pipe.write_text(json.dumps(PIPELINE))
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(pipe), str(src), str(out), "--variants", "2", "--seed", "5",
                                 "--workers", "1", "--executor", "serial", "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    for r in records:
        before = np.asarray(Image.open(src / r["input"]))
        after = np.asarray(Image.open(out / r["output"]))
        assert after.shape == before.shape and after.dtype == np.uint8
        assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0  # visibly changed
        assert any(a["name"].startswith("driving.") for a in r["applied"])
    for k in (0, 1):
        kept = json.loads((out / f"udacity_test6.aug{k}.boxes.json").read_text())
        np.testing.assert_allclose(np.asarray(kept, float), np.asarray(boxes, float))  # pixel-level: unchanged
    replayed = runner.invoke(cli, ["replay", str(out / "manifest.jsonl"), "-q"])
    assert replayed.exit_code == 0, replayed.output


def test_real_frame_preview_sheet(shared_data, tmp_path):
    pipe = tmp_path / "pipe.json"
    pipe.write_text(json.dumps(PIPELINE))
    sheet = tmp_path / "sheet.png"
    result = CliRunner().invoke(cli, ["preview", str(pipe), str(shared_data / "driving" / "udacity_test6.jpg"),
                                      "-n", "3", "--seed", "2", "--out", str(sheet)])
    assert result.exit_code == 0, result.output
    img = np.asarray(Image.open(sheet))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 300
