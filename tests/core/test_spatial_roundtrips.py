"""Flip twice and Rotate90 four times are the identity, for every target and the geotransform."""

from __future__ import annotations

import numpy as np
import pytest

import domaug


def _sample():
    rng = np.random.default_rng(0)
    h, w = 13, 21
    return {
        "image": rng.integers(0, 255, (h, w, 3)).astype(np.uint8),
        "mask": rng.integers(0, 4, (h, w)).astype(np.uint8),
        "valid": rng.random((h, w)) > 0.1,
        "depth": rng.uniform(1, 50, (h, w)).astype(np.float32),
        "bboxes": np.array([[1.0, 2.0, 7.0, 11.0, 3], [10.5, 0.0, 21.0, 6.25, 4]]),
        "keypoints": np.array([[0.5, 0.5, 1], [20.25, 12.75, 2], [7.0, 3.0, 3]]),
        "meta": {"transform": [350000.0, 30.0, 0.0, 4200000.0, 0.0, -30.0], "crs": "EPSG:32610"},
    }


def _assert_same(a, b):
    for key in ("image", "mask", "valid", "depth"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for key in ("bboxes", "keypoints"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-9, err_msg=key)
    np.testing.assert_allclose(a["meta"]["transform"], b["meta"]["transform"], atol=1e-6)
    assert a["meta"]["crs"] == b["meta"]["crs"]


@pytest.mark.parametrize("axis", ["horizontal", "vertical"])
def test_flip_twice_is_identity(axis):
    sample = _sample()
    t = domaug.get_transform("core.Flip", axis=axis)
    once = t(rng=0, **sample)
    assert not np.array_equal(once["image"], sample["image"])
    assert not np.allclose(once["meta"]["transform"], sample["meta"]["transform"])
    twice = t(rng=0, **{k: v for k, v in once.items() if k != "applied"})
    _assert_same(twice, sample)


def test_flip_depth_twice_is_identity_for_a_volume():
    vol = np.random.default_rng(1).random((5, 6, 7)).astype(np.float32)
    aff = np.diag([2.0, 1.0, 1.0, 1.0]).tolist()
    t = domaug.get_transform("core.Flip", axis="depth")
    once = t(image=vol, meta={"spacing": [2, 1, 1], "affine": aff}, rng=0)
    twice = t(image=once["image"], meta=once["meta"], rng=0)
    np.testing.assert_array_equal(twice["image"], vol)
    np.testing.assert_allclose(twice["meta"]["affine"], aff)


def test_rot90_four_times_is_identity():
    sample = _sample()
    t = domaug.get_transform("core.Rotate90", k=1)
    cur = sample
    for i in range(4):
        cur = t(rng=0, **{k: v for k, v in cur.items() if k != "applied"})
        if i == 0:
            assert cur["image"].shape[:2] == sample["image"].shape[1::-1]
    _assert_same(cur, sample)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rot90_then_inverse_is_identity(k):
    sample = _sample()
    fwd = domaug.get_transform("core.Rotate90", k=k)(rng=0, **sample)
    back = domaug.get_transform("core.Rotate90", k=4 - k if k else 0)(
        rng=0, **{key: v for key, v in fwd.items() if key != "applied"})
    _assert_same(back, sample)
