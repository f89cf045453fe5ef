"""core.MotionBlur: a line PSF of the drawn length and direction, mean kept, volumes refused."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import UnsupportedInputError


def _point_response(length, angle):
    img = np.zeros((61, 61), np.float32)
    img[30, 30] = 1.0
    t = domaug.get_transform("core.MotionBlur", length_px=length, angle_deg=angle)
    return t(image=img, rng=0)["image"]


def test_horizontal_streak_has_requested_length():
    out = _point_response(11, 0)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)
    rows = np.nonzero(out.sum(axis=1) > 1e-3)[0]
    cols = np.nonzero(out.sum(axis=0) > 1e-3)[0]
    assert rows.tolist() == [30]
    assert 10 <= cols.max() - cols.min() + 1 <= 13


def test_vertical_streak():
    out = _point_response(11, 90)
    assert np.nonzero(out.sum(axis=0) > 1e-3)[0].tolist() == [30]


def test_diagonal_orientation_follows_screen_convention():
    out = _point_response(15, 45)   # 45° counter-clockwise on screen: up-right / down-left
    assert out[30 - 5, 30 + 5] > 0.01 and out[30 + 5, 30 - 5] > 0.01
    assert out[30 - 5, 30 - 5] < 1e-4


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_mean_and_dtype_kept(dtype):
    rng = np.random.default_rng(2)
    scale = 200 if dtype != np.float32 else 0.8
    img = (rng.random((64, 64, 3)) * scale).astype(dtype)
    out = domaug.get_transform("core.MotionBlur")(image=img, rng=3)["image"]
    assert out.dtype == img.dtype
    assert abs(float(out.mean()) - float(img.mean())) < 0.01 * scale
    assert out.astype(float).var() < img.astype(float).var()


def test_volume_refused():
    with pytest.raises(UnsupportedInputError, match="volume"):
        domaug.get_transform("core.MotionBlur")(image=np.zeros((4, 8, 8), np.float32), meta={"spatial_ndim": 3})


@pytest.mark.parametrize("length,angle", [(11, 0), (13, 27), (9, 63), (15, 135)])
def test_aliased_line_has_one_tap_per_step_and_the_same_length_and_direction(length, angle):
    import math

    from domaug.ops import psf

    k = psf.line_kernel(length, angle, antialias=False).astype(np.float64)
    smooth = psf.line_kernel(length, angle).astype(np.float64)
    steep = abs(math.sin(math.radians(angle))) > abs(math.cos(math.radians(angle)))
    per_step = np.count_nonzero(k, axis=1 if steep else 0)
    assert per_step.max() == 1  # one tap per row (steep) or column
    assert np.count_nonzero(k) < np.count_nonzero(smooth) or angle % 45 == 0
    assert k.sum() == pytest.approx(1.0, abs=1e-6)
    yy, xx = np.mgrid[0:k.shape[0], 0:k.shape[1]]
    x, y = xx - (k.shape[1] - 1) / 2, -(yy - (k.shape[0] - 1) / 2)
    assert (k * x).sum() == pytest.approx(0, abs=1e-6) and (k * y).sum() == pytest.approx(0, abs=1e-6)
    cov = np.array([[(k * x * x).sum(), (k * x * y).sum()], [(k * x * y).sum(), (k * y * y).sum()]])
    evals, evecs = np.linalg.eigh(cov)
    measured = math.degrees(math.atan2(evecs[1, 1], evecs[0, 1])) % 180
    # positions snap to whole pixels: the direction is off by a few degrees at most, and
    # the spread along the line gains about a pixel² (anti-aliased: < 2° and 0.4 px²)
    assert min(abs(measured - angle % 180), 180 - abs(measured - angle % 180)) < 5
    assert evals[1] == pytest.approx(length**2 / 12, abs=1.2)
    out = domaug.get_transform("core.MotionBlur", length_px=length, angle_deg=angle, antialias=False)(
        image=np.full((20, 20), 7.0, np.float32), rng=0)
    assert out["applied"][0]["params"]["antialias"] is False and np.allclose(out["image"], 7.0)
