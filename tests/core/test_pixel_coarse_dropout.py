"""core.CoarseDropout: filled area equals the drawn holes, nodata kept, masks optional."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError
from domaug.transforms.coarse_dropout import CoarseDropout


def test_filled_area_matches_drawn_holes():
    img = np.full((100, 120, 3), 200, np.uint8)
    out = domaug.get_transform("core.CoarseDropout", num_holes=(3, 6), fill=0)(image=img, rng=4)
    holes = out["applied"][0]["params"]["holes"]
    assert 3 <= len(holes) <= 6
    expected = CoarseDropout.hole_mask((100, 120), holes)
    filled = (out["image"] == 0).all(-1)
    np.testing.assert_array_equal(filled, expected)
    assert np.all(out["image"][~expected] == 200)


def test_hole_size_px_and_fraction():
    img = np.ones((50, 80), np.float32)
    out = domaug.get_transform("core.CoarseDropout", num_holes=4, hole_size_px=7)(image=img, rng=0)
    for hole in out["applied"][0]["params"]["holes"]:
        assert [b - a for a, b in hole] == [7, 7]
    out = domaug.get_transform("core.CoarseDropout", num_holes=4, hole_size_fraction=0.2)(image=img, rng=0)
    for hole in out["applied"][0]["params"]["holes"]:
        assert [b - a for a, b in hole] == [10, 16]


def test_nodata_never_overwritten_nor_produced():
    img = np.full((40, 40), 90, np.uint8)
    img[:, :20] = 0
    valid = img != 0
    t = domaug.get_transform("core.CoarseDropout", num_holes=10, hole_size_fraction=0.4, fill=0)
    out = t(image=img, valid=valid, meta={"nodata": 0}, rng=1)["image"]
    np.testing.assert_array_equal(out[:, :20], 0)
    assert np.all(out[valid] != 0)          # filled valid pixels nudged off nodata
    assert np.any(out[valid] == 1)


def test_mask_unchanged_by_default_and_filled_on_request():
    img = np.zeros((30, 30), np.float32)
    mask = np.ones((30, 30), np.uint8)
    out = domaug.get_transform("core.CoarseDropout", num_holes=3)(image=img, mask=mask, rng=0)
    np.testing.assert_array_equal(out["mask"], mask)
    out = domaug.get_transform("core.CoarseDropout", num_holes=3, mask_fill=255, fill=1.0)(image=img, mask=mask, rng=0)
    holes = CoarseDropout.hole_mask((30, 30), out["applied"][0]["params"]["holes"])
    np.testing.assert_array_equal(out["mask"] == 255, holes)
    np.testing.assert_array_equal(out["image"] == 1.0, holes)


def test_mean_fill_per_band_and_volume():
    img = np.zeros((20, 20, 2), np.float32)
    img[..., 1] = 1.0
    out = domaug.get_transform("core.CoarseDropout", num_holes=1, fill="mean")(image=img, rng=0)["image"]
    np.testing.assert_array_equal(out, img)  # the mean of a constant band is that constant
    vol = np.ones((10, 20, 20), np.float32)
    out = domaug.get_transform("core.CoarseDropout", num_holes=2)(image=vol, meta={"spatial_ndim": 3}, rng=0)
    assert all(len(h) == 3 for h in out["applied"][0]["params"]["holes"])


def test_parameter_errors():
    with pytest.raises(ParameterError, match="fill"):
        domaug.get_transform("core.CoarseDropout", fill="black")
    with pytest.raises(ParameterError, match="hole_size_fraction"):
        domaug.get_transform("core.CoarseDropout", hole_size_fraction=1.5)
