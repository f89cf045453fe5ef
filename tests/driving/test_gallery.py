"""The driving gallery panels and the ``python -m domaug_driving.gallery`` alias (issue 16 item 7).

The sheets themselves are tested with ``domaug gallery`` in tests/core/test_gallery.py.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from domaug_driving.gallery_panels import DEPTH_RANGE_M, LABELS, RAMP, depth_cell, depth_colours, layout_cell, panels


def test_depth_colours_run_near_yellow_to_far_purple_and_no_data_is_black():
    rgb = depth_colours(np.array([[DEPTH_RANGE_M[0], DEPTH_RANGE_M[1], np.nan, 0.0, np.inf]], np.float32))
    np.testing.assert_array_equal(rgb[0, 0], RAMP[0].astype(np.uint8))
    np.testing.assert_array_equal(rgb[0, 1], RAMP[-1].astype(np.uint8))
    np.testing.assert_array_equal(rgb[0, 2:4], 0)
    np.testing.assert_array_equal(rgb[0, 4], RAMP[-1].astype(np.uint8))  # infinitely far: as far as the bar goes


def test_panels_are_rgb_frames_of_the_input_size():
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:40] = (150, 190, 235)  # sky
    frame[40:] = (90, 90, 95)  # road
    made = panels({"image": frame})
    assert [caption[0] for _, caption in made] == ["scene layout", "layout distance"]
    assert all(rgb.shape == (90, 160, 3) and rgb.dtype == np.uint8 for rgb, _ in made)
    given = panels({"image": frame, "depth": np.full((90, 160), 20.0, np.float32)})
    assert given[1][1][0] == "depth (given)"
    assert panels({"image": frame[..., 0]}) == []  # not an RGB frame: no panels


def test_layout_and_depth_cells_draw_legend_and_colour_bar():
    labels = np.zeros((90, 160), np.uint8)
    for i, value in enumerate(LABELS):
        labels[:, i * 40 : (i + 1) * 40] = value
    cell = layout_cell(labels)
    assert cell.shape == (90, 160, 3)
    assert (cell[60:, 2:38] == LABELS[list(LABELS)[0]][1]).all()  # below the legend: the label colour
    bar = depth_cell(np.full((90, 160), 30.0, np.float32))
    assert len(np.unique(bar[:, -8].reshape(-1, 3), axis=0)) > 10  # the colour bar, not the flat 30 m


def test_the_module_is_an_alias_of_domaug_gallery_driving(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    road = np.zeros((54, 96, 3), np.uint8)
    road[:24] = (150, 190, 235)
    road[24:] = (90, 90, 95)
    Image.fromarray(road).save(frames / "road.png")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "domaug_driving.gallery", "--data", str(frames), "--out", str(out),
                           "--seeds", "0", "--cell", "64"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "road.png").is_file() and "road.png" in (out / "gallery.md").read_text()
