"""core.GaussianNoise: measured std ≈ requested fraction of full scale, per-channel option."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError


@pytest.mark.parametrize("dtype,fs,meta", [
    (np.uint8, 255, {}), (np.uint16, 4095, {"bit_depth": 12}), (np.float32, 1.0, {}), (np.int16, 32767, {}),
])
def test_measured_std_matches_request(dtype, fs, meta):
    img = np.full((256, 256, 3), fs // 2 if dtype != np.float32 else 0.5, dtype=dtype)
    out = domaug.get_transform("core.GaussianNoise", sigma=0.05)(image=img, meta=meta, rng=0)["image"]
    assert out.dtype == img.dtype
    diff = out.astype(np.float64) - img.astype(np.float64)
    assert diff.std() == pytest.approx(0.05 * fs, rel=0.03)
    assert abs(diff.mean()) < 0.005 * fs


def test_per_channel_independent_or_shared():
    img = np.full((128, 128, 3), 0.5, np.float32)
    a = domaug.get_transform("core.GaussianNoise", sigma=0.1)(image=img, rng=1)["image"] - 0.5
    assert abs(np.corrcoef(a[..., 0].ravel(), a[..., 1].ravel())[0, 1]) < 0.05
    b = domaug.get_transform("core.GaussianNoise", sigma=0.1, per_channel=False)(image=img, rng=1)["image"] - 0.5
    np.testing.assert_array_equal(b[..., 0], b[..., 1])


def test_volume_and_white_spectrum():
    vol = np.zeros((16, 32, 32), np.float32)
    out = domaug.get_transform("core.GaussianNoise", sigma=0.1)(image=vol, meta={"spatial_ndim": 3}, rng=2)["image"]
    # white: neighbouring voxels uncorrelated
    assert abs(np.corrcoef(out[:, :, :-1].ravel(), out[:, :, 1:].ravel())[0, 1]) < 0.03


def test_different_seeds_differ_same_seed_equal():
    img = np.full((32, 32), 100, np.uint8)
    t = domaug.get_transform("core.GaussianNoise")
    np.testing.assert_array_equal(t(image=img, rng=5)["image"], t(image=img, rng=5)["image"])
    assert np.any(t(image=img, rng=5)["image"] != t(image=img, rng=6)["image"])


def test_bad_parameters():
    with pytest.raises(ParameterError, match="sigma"):
        domaug.get_transform("core.GaussianNoise", sigma=-0.1)
    with pytest.raises(ParameterError, match="per_channel"):
        domaug.get_transform("core.GaussianNoise", per_channel="yes")
