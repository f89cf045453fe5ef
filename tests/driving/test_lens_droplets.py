"""driving.LensDroplets: each drop shows the scene upside down; elsewhere the frame is untouched."""

from __future__ import annotations

import numpy as np

import domaug

LensDroplets = domaug.registry.get_transform_class("driving.LensDroplets")


def test_drop_shows_a_flipped_view_and_leaves_the_rest_alone():
    h, w = 200, 200
    ramp = np.linspace(0.05, 0.95, h, dtype=np.float32)[:, None, None] * np.ones((1, w, 3), np.float32)
    res = LensDroplets(drops=1, radius_frac=0.12, magnification=2.0)(image=ramp, rng=5)
    drop = res["applied"][0]["params"]["drops"][0]
    out = res["image"]
    r, c, rad = int(drop["row"]), int(drop["col"]), drop["radius"] * min(drop["aspect"], 1.0)
    k = int(rad * 0.4)
    if 0 <= r - k and r + k < h and 0 <= c < w:
        above, below = out[r - k, c, 1], out[r + k, c, 1]
        assert above > below  # the scene (dark top, bright bottom) appears inverted
    yy, xx = np.mgrid[0:h, 0:w]
    far = np.hypot(yy + 0.5 - drop["row"], xx + 0.5 - drop["col"]) > drop["radius"] * 1.3 + 2
    np.testing.assert_array_equal(out[far], ramp[far])


def test_dirt_darkens_and_is_reproducible():
    img = np.full((80, 100, 3), 180, np.uint8)
    a = LensDroplets(drops=0, dirt=0.8)(image=img, rng=3)["image"]
    assert a.mean() < img.mean() and a.min() < 150
    np.testing.assert_array_equal(a, LensDroplets(drops=0, dirt=0.8)(image=img, rng=3)["image"])
    clean = LensDroplets(drops=0, dirt=0.0)(image=img, rng=3)["image"]
    np.testing.assert_array_equal(clean, img)
