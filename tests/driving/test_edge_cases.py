"""Every driving transform on tiny and odd-shaped frames, every supported dtype, and HDR floats."""

from __future__ import annotations

import numpy as np
import pytest

import domaug

NAMES = [n for n in domaug.list_transforms() if n.startswith("driving.")]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (1, 9), (40, 3)])
def test_tiny_and_thin_frames(name, shape):
    rng = np.random.default_rng(0)
    for dtype, scale in ((np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)):
        img = (rng.random((*shape, 3)) * scale).astype(dtype)
        out = domaug.get_transform(name)(image=img, rng=3)["image"]
        assert out.shape == img.shape and out.dtype == img.dtype
        if dtype == np.float32:
            assert np.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_hdr_float_input_stays_finite_and_non_negative(name):
    img = np.random.default_rng(1).uniform(0, 4.0, (24, 32, 3)).astype(np.float32)  # linear HDR radiance
    out = domaug.get_transform(name)(image=img, rng=2)["image"]
    assert np.isfinite(out).all() and out.min() >= 0


def test_meta_transfer_linear_integer_is_not_decoded():
    """meta['transfer'] = 'linear' declares raw/linear integer data: Exposure then simply doubles it."""
    img = np.full((4, 4, 3), 20000, np.uint16)
    out = domaug.get_transform("driving.Exposure", ev=1.0)(image=img, meta={"transfer": "linear"}, rng=0)["image"]
    assert (out == 40000).all()
    srgb = domaug.get_transform("driving.Exposure", ev=1.0)(image=img, rng=0)["image"]  # sRGB: 2× light ≠ 2× code
    assert 25000 < srgb.min() and srgb.max() < 35000


@pytest.mark.parametrize("name", NAMES)
def test_nan_nodata_stays_out_of_the_scene_statistics(name):
    rng = np.random.default_rng(4)
    img = rng.uniform(0.05, 0.9, (40, 56, 3)).astype(np.float32)
    valid = np.ones((40, 56), bool)
    valid[:, :6] = False
    with_nan = img.copy()
    with_nan[~valid] = np.nan
    filled = img.copy()
    filled[~valid] = img[valid].mean(axis=0)
    t = domaug.get_transform(name)
    a = t(image=with_nan, valid=valid, meta={"nodata": float("nan")}, rng=5)["image"]
    b = t(image=filled, valid=valid, rng=5)["image"]
    assert np.isnan(a[~valid]).all()  # nodata put back untouched
    np.testing.assert_allclose(a[valid], b[valid], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_undeclared_non_finite_pixels_are_filled_before_the_physics(name):
    """NaN / inf pixels that no nodata declares are filled with the mean colour: no NaN spreads."""
    img = np.random.default_rng(6).uniform(0.05, 0.9, (40, 56, 3)).astype(np.float32)
    img[3:6, 10:14] = np.nan
    img[20, 5, 1] = np.inf
    out = domaug.get_transform(name)(image=img, rng=1)["image"]
    assert np.isfinite(out).all()


def test_prepare_gives_the_physics_a_filled_scene_and_keeps_the_sample():
    from domaug_driving.fog import Fog

    img = np.random.default_rng(7).integers(1, 256, (30, 40, 3)).astype(np.uint8)
    img[:, :5] = 0
    sample = {"image": img, "meta": {"nodata": 0}}
    fog = Fog()
    params = fog.make_params(np.random.default_rng(0), sample)
    ctx = fog.prepare(sample, params)
    assert ctx["image"] is img and (img[:, :5] == 0).all()  # the sample is untouched
    scene = ctx.scene["image"]
    expected = np.rint(img[:, 5:].reshape(-1, 3).mean(axis=0)).astype(np.uint8)
    assert (scene[:, :5] == expected).all() and (scene[:, 5:] == img[:, 5:]).all()
    assert ctx.new_targets["transmission"].shape == (30, 40)  # Fog's geometry is shared by the targets
