"""driving.SunGlare: sun placed by angle, glare falls off with distance, ghosts on the centre line."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug_driving.depth import camera_from
from domaug_driving.sun_glare import sun_pixel

SunGlare = domaug.registry.get_transform_class("driving.SunGlare")


def test_sun_position_from_angles():
    cam = camera_from((720, 1280), focal_length_px=1152, horizon_row=420)
    assert sun_pixel(0.0, 0.0, cam, 1280) == pytest.approx((420.0, 640.0))
    row, col = sun_pixel(10.0, 0.0, cam, 1280)
    assert row == pytest.approx(420 - 1152 * math.tan(math.radians(10)))
    assert sun_pixel(5.0, 20.0, cam, 1280)[1] > 640 + 1152 * math.tan(math.radians(19))


def test_glare_peaks_at_the_sun_and_falls_off():
    img = np.zeros((120, 160, 3), np.float32)
    out = SunGlare(sun_position=(0.25, 0.3), ghosts=0, veil=0.0, intensity=1.0)(image=img, rng=0)["image"]
    y = out.sum(-1)
    r, c = np.unravel_index(np.argmax(y), y.shape)
    assert abs(r - 36) <= 1 and abs(c - 40) <= 1
    line = y[36, 40:]
    assert np.all(np.diff(line) <= 1e-6) and line[-1] < 0.1 * line[0]


def test_veil_lowers_contrast():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    out = SunGlare(sun_position=(1.5, -0.5), ghosts=0, veil=0.1, intensity=0.5)(image=img, rng=0)["image"]
    c = lambda a: a.std() / a.mean()  # noqa: E731
    assert c(out.astype(float)) < 0.8 * c(img.astype(float))


def test_ghosts_lie_on_the_line_through_sun_and_centre():
    img = np.zeros((200, 300, 3), np.float32)
    kw = dict(sun_position=(0.8, 0.2), veil=0.0, intensity=1.0)
    base = SunGlare(ghosts=0, **kw)(image=img, rng=4)["image"]
    res = SunGlare(ghosts=6, **kw)(image=img, rng=4)
    diff = (res["image"] - base).sum(-1)
    rows, cols = np.nonzero(diff > 1e-4)
    assert len(rows) > 0
    sun = np.array([0.2 * 200, 0.8 * 300])
    centre = np.array([100.0, 150.0])
    d = (sun - centre) / np.linalg.norm(sun - centre)
    pts = np.stack([rows + 0.5, cols + 0.5], 1) - centre
    dist = np.abs(pts[:, 0] * d[1] - pts[:, 1] * d[0])
    max_radius = max(g["radius"] for g in res["applied"][0]["params"]["ghosts"])
    assert dist.max() <= max_radius + 2


def test_reproducible_and_dtype():
    img = np.full((40, 60, 3), 30000, np.uint16)
    a = SunGlare()(image=img, rng=1)["image"]
    np.testing.assert_array_equal(a, SunGlare()(image=img, rng=1)["image"])
    assert a.dtype == np.uint16 and a.max() == 65535
