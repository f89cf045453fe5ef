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
