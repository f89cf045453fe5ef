"""core.Resize and the resample kernels: bounds kept, spacing, antialiasing, nodata."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError
from domaug.ops import resample

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_helpers import blob, centroid_xy, world  # noqa: E402


def resize(**kw):
    return domaug.get_transform("core.Resize", **kw)


def test_half_size_keeps_geographic_bounds_and_doubles_pixel_size():
    img = np.random.default_rng(0).integers(0, 4000, (64, 90, 3)).astype(np.uint16)
    gt = [440000.0, 10.0, 0.0, 3750000.0, 0.0, -10.0]
    out = resize(scale=0.5)(image=img, meta={"transform": gt, "spacing": [10.0, 10.0]}, rng=0)
    new = out["meta"]["transform"]
    assert out["image"].shape == (32, 45, 3) and out["image"].dtype == np.uint16
    np.testing.assert_allclose(new, [440000.0, 20.0, 0.0, 3750000.0, 0.0, -20.0])
    np.testing.assert_allclose(world(new, 45, 32), world(gt, 90, 64))  # far corner unchanged
    assert out["meta"]["spacing"] == [20.0, 20.0]


def test_non_integer_factor_keeps_bounds_exactly():
    gt = [0.0, 3.0, 0.0, 0.0, 0.0, -3.0]
    out = resize(height=7, width=13)(image=np.zeros((10, 20), np.float32), meta={"transform": gt}, rng=0)
    np.testing.assert_allclose(world(out["meta"]["transform"], 13, 7), world(gt, 20, 10))


def test_volume_spacing_scales_per_axis():
    vol = np.random.default_rng(1).random((8, 32, 32)).astype(np.float32)
    out = resize(height=16, width=64, depth=4)(image=vol, meta={"spacing": [2.5, 0.8, 0.8]}, rng=0)
    assert out["image"].shape == (4, 16, 64)
    np.testing.assert_allclose(out["meta"]["spacing"], [5.0, 1.6, 0.4])


def test_downsampling_integrates_pixel_areas():
    # A detector 3× coarser sees 5 or 4 bright cells of a Nyquist checkerboard: 5/9 and
    # 4/9 of white (the boxcar's residual), not the checkerboard's full swing.
    yy, xx = np.mgrid[:63, :63]
    checker = ((xx + yy) % 2 * 255).astype(np.uint8)
    smooth = resize(scale=1 / 3)(image=checker, rng=0)["image"]
    assert smooth.shape == (21, 21)
    expected = np.where((np.add.outer(np.arange(21), np.arange(21)) % 2) == 0, 113, 142)
    np.testing.assert_array_equal(smooth, expected)
    aliased = resize(scale=1 / 3, antialias=False)(image=checker, rng=0)["image"].astype(float)
    assert aliased.std() > 100  # without integration each new pixel samples one cell


@pytest.mark.parametrize("opencv_on", [True, False])
def test_integer_factor_is_the_block_mean_and_any_factor_keeps_the_mean(opencv_on):
    from domaug.ops import opencv

    rng = np.random.default_rng(3)
    img = rng.random((48, 60, 2)).astype(np.float32)
    try:
        opencv.set_enabled(opencv_on)
        out = resize(height=12, width=15)(image=img, rng=0)["image"]
        odd = resize(height=17, width=23)(image=img, rng=0)["image"]
    finally:
        opencv.set_enabled(True)
    blocks = img.reshape(12, 4, 15, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(out, blocks, atol=1e-6)
    # each fine pixel's area is shared out exactly once: the image mean is kept
    np.testing.assert_allclose(odd.mean(axis=(0, 1)), img.mean(axis=(0, 1)), rtol=1e-5)


def test_area_integration_ignores_nodata_pixels():
    img = np.full((8, 8), 100, np.int16)
    img[:, 1::2] = 300  # half of every 2×2 block is 300 ...
    img[0:2, 0:2] = -9999  # ... except a whole nodata block
    img[2, 2] = -9999  # and one nodata pixel in a block
    out = resize(scale=0.5)(image=img, meta={"nodata": -9999}, rng=0)["image"]
    assert out[0, 0] == -9999  # nearest pixel is nodata: stays nodata
    assert out[1, 1] == round((100 + 300 + 300) / 3)  # valid area only, no -9999 bleeding
    assert out[2, 2] == 200 and out[0, 1] == 200


def test_masks_nearest_boxes_and_keypoints_scale():
    mask = np.zeros((40, 40), np.int32)
    mask[10:30, 10:30] = 7
    boxes = np.array([[10.0, 10.0, 30.0, 30.0, 7]])
    img = blob(40, 40, 20.5, 12.5, 2.0)
    out = resize(scale=0.5)(image=img, mask=mask, bboxes=boxes, keypoints=np.array([[20.5, 12.5]]), rng=0)
    assert set(np.unique(out["mask"])) == {0, 7}
    assert (out["mask"][5:15, 5:15] == 7).all()
    np.testing.assert_allclose(out["bboxes"], [[5.0, 5.0, 15.0, 15.0, 7]])
    kx, ky = out["keypoints"][0]
    np.testing.assert_allclose((kx, ky), (10.25, 6.25))
    cx, cy = centroid_xy(out["image"], (kx, ky), 5)
    assert abs(cx - kx) < 0.25 and abs(cy - ky) < 0.25


def test_upsampling_a_ramp_is_linear_and_mean_preserving():
    ramp = np.tile(np.arange(16, dtype=np.float32), (8, 1))
    out = resize(scale=2.0)(image=ramp, rng=0)["image"]
    assert out.shape == (16, 32)
    # interior samples sit on the linear ramp at the mapped pixel centres
    x_in = (np.arange(32) + 0.5) / 2 - 0.5
    np.testing.assert_allclose(out[0, 1:-1], x_in[1:-1], atol=1e-5)
    assert abs(out.mean() - ramp.mean()) < 0.05


def test_nodata_region_downsampled_without_bleeding():
    img = np.full((40, 40), 500, np.int16)
    img[:, 17:] = 1000
    img[:, :10] = -32768
    out = resize(scale=0.5)(image=img, meta={"nodata": -32768}, rng=0)["image"]
    good = out != -32768
    assert (out[:, :4] == -32768).all() and good[:, 6:].all()
    assert out[good].min() >= 500 and out[good].max() <= 1000


def test_resize_kernel_dtype_and_order0():
    labels = np.random.default_rng(2).integers(0, 4, (9, 11)).astype(np.uint8)
    small = resample.resize(labels, (5, 6), spatial_ndim=2, order=0)
    assert small.dtype == np.uint8 and set(np.unique(small)) <= set(np.unique(labels))
    rgb = np.random.default_rng(3).integers(0, 255, (9, 11, 3)).astype(np.uint8)
    big = resample.resize(rgb, (18, 22), spatial_ndim=2)
    assert big.shape == (18, 22, 3) and big.dtype == np.uint8


def test_parameter_validation():
    with pytest.raises(ParameterError, match="both height and width"):
        resize(width=4)
    with pytest.raises(ParameterError, match="scale"):
        resize(scale=-1)
    with pytest.raises(ParameterError, match="antialias"):
        resize(antialias="yes")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_image_only_call_equals_the_general_path(dtype):
    img = (np.random.default_rng(5).random((90, 70, 3)) * 200).astype(dtype)
    t = resize(height=31, width=29)
    fast = t(image=img, rng=0)  # nothing declared: the integrated pixels are returned as they are
    general = t(image=img, meta={"valid_range": [-1e9, 1e9]}, rng=0)  # a declared range: the finishing path
    assert fast["image"].dtype == img.dtype
    np.testing.assert_array_equal(fast["image"], general["image"])
    assert fast["applied"] == general["applied"]
