"""The realism gallery command (issue 16 item 7) on one small frame."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import domaug
from domaug_driving import gallery

SHARED_FRAME = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "driving" / "udacity_test6.jpg"
BACKGROUND = (24, 24, 24)


def small_frame(folder: Path) -> Path:
    """A 192×108 road frame: the shared Udacity frame downscaled when present, else a synthetic one."""
    if SHARED_FRAME.is_file():
        im = Image.open(SHARED_FRAME).convert("RGB")
    else:
        from domaug_driving.demo import road_scene

        im = Image.fromarray(road_scene(0)[0])
    folder.mkdir()
    path = folder / "road.png"
    im.resize((192, 108), Image.Resampling.LANCZOS).save(path)
    return path


def check_sheet(sheet_path: Path, frame: Path) -> None:
    """One cell per transform × seed + 3, three to a row, the cell after the last one empty."""
    n_cells = len(domaug.list_transforms("driving")) + 3
    with Image.open(frame) as f:
        cell = (gallery.CELL_W, round(gallery.CELL_W * f.height / f.width))
    with Image.open(sheet_path) as sheet:
        rgb = np.asarray(sheet.convert("RGB"))
    pitch_x = cell[0] + gallery.PAD
    pitch_y = cell[1] + gallery.CAPTION_LINES * gallery.LINE_PX + gallery.PAD
    rows = math.ceil(n_cells / 3)
    assert rgb.shape[:2] == (rows * pitch_y + gallery.PAD, 3 * pitch_x + gallery.PAD)

    def cell_pixels(i):
        row, col = divmod(i, 3)
        y0, x0 = gallery.PAD + row * pitch_y, gallery.PAD + col * pitch_x
        return rgb[y0 : y0 + cell[1], x0 : x0 + cell[0]]

    assert all((cell_pixels(i) != BACKGROUND).any(axis=-1).mean() > 0.5 for i in range(n_cells))
    if n_cells % 3:
        assert (cell_pixels(n_cells) == BACKGROUND).all()


def test_gallery_writes_one_sheet_and_an_index(tmp_path):
    frame = small_frame(tmp_path / "frames")
    out = tmp_path / "out"
    assert gallery.main(["--data", str(frame.parent), "--out", str(out), "--seeds", "0", "--max-side", "192"]) == 0
    check_sheet(out / "road.png", frame)
    assert "road.png" in (out / "gallery.md").read_text()


def test_gallery_runs_as_a_module(tmp_path):
    frame = small_frame(tmp_path / "frames")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "domaug_driving.gallery", "--data", str(frame.parent), "--out",
                           str(out), "--seeds", "0", "--max-side", "192"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    check_sheet(out / "road.png", frame)


@pytest.mark.parametrize("as_module", [False, True])
def test_gallery_on_an_empty_folder_says_so_in_one_line(tmp_path, capsys, as_module):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a frame")
    args = ["--data", str(empty), "--out", str(tmp_path / "out")]
    if as_module:
        done = subprocess.run([sys.executable, "-m", "domaug_driving.gallery", *args], capture_output=True, text=True)
        code, err = done.returncode, done.stderr
    else:
        code, err = gallery.main(args), capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and str(empty) in err
    assert not (tmp_path / "out").exists()
