"""core.RandomCrop: exact windows, geotransform/affine origin shift, boxes and keypoints."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_helpers import world  # noqa: E402


def crop(**kw):
    return domaug.get_transform("core.RandomCrop", **kw)


def test_pixel_window_is_an_exact_slice_and_geotransform_moves_origin():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 2**12, (40, 50, 4)).astype(np.uint16)
    mask = rng.integers(0, 5, (40, 50)).astype(np.uint8)
    depth = rng.uniform(1, 80, (40, 50)).astype(np.float32)
    gt = [600000.0, 10.0, 0.0, 5200000.0, 0.0, -10.0]
    out = crop(height=20, width=30)(image=img, mask=mask, depth=depth, meta={"transform": gt, "crs": "EPSG:32633"}, rng=4)
    (r0, c0), (h, w) = out["applied"][0]["params"]["start"], out["applied"][0]["params"]["size"]
    assert (h, w) == (20, 30)
    np.testing.assert_array_equal(out["image"], img[r0:r0 + 20, c0:c0 + 30])
    np.testing.assert_array_equal(out["mask"], mask[r0:r0 + 20, c0:c0 + 30])
    np.testing.assert_array_equal(out["depth"], depth[r0:r0 + 20, c0:c0 + 30])
    new = out["meta"]["transform"]
    assert new[1] == gt[1] and new[5] == gt[5] and out["meta"]["crs"] == "EPSG:32633"
    # pixel (0, 0) of the crop is where pixel (c0, r0) of the input was
    np.testing.assert_allclose(world(new, 0, 0), world(gt, c0, r0))
    np.testing.assert_allclose(world(new, 7.5, 3.5), world(gt, c0 + 7.5, r0 + 3.5))


def test_boxes_clipped_and_dropped_keypoints_shifted_and_dropped():
    img = np.zeros((40, 40), np.uint8)
    boxes = np.array([[0.0, 0.0, 40.0, 40.0, 1], [0.0, 0.0, 2.0, 2.0, 2], [10.0, 10.0, 20.0, 20.0, 3]])
    kps = np.array([[0.5, 0.5, 11], [15.5, 15.5, 12]])
    t = crop(height=20, width=20)
    for seed in range(10):
        out = t(image=img, bboxes=boxes, keypoints=kps, rng=seed)
        r0, c0 = out["applied"][0]["params"]["start"]
        b = out["bboxes"]
        assert (b[:, [0, 2]] >= 0).all() and (b[:, [0, 2]] <= 20).all()
        assert (b[:, [1, 3]] >= 0).all() and (b[:, [1, 3]] <= 20).all()
        assert ((b[:, 2] - b[:, 0]) >= 1).all() and ((b[:, 3] - b[:, 1]) >= 1).all()
        assert 1 in b[:, 4]  # the full-image box always survives, clipped to the window
        np.testing.assert_allclose(b[b[:, 4] == 1, :4], [[0, 0, 20, 20]])
        if r0 >= 2 or c0 >= 2:
            assert 2 not in b[:, 4]
        k = out["keypoints"]
        expect = kps[(kps[:, 0] - c0 >= 0) & (kps[:, 0] - c0 < 20) & (kps[:, 1] - r0 >= 0) & (kps[:, 1] - r0 < 20)]
        np.testing.assert_allclose(k, expect - [c0, r0, 0])


def test_fraction_crops_every_axis_of_a_volume_and_moves_voxel_affine():
    vol = np.random.default_rng(1).random((10, 20, 30)).astype(np.float32)
    aff = np.diag([3.0, 0.7, 0.7, 1.0])
    aff[:3, 3] = [-5, 12, 40]
    out = crop(size_frac=0.5)(image=vol, meta={"spacing": [3.0, 0.7, 0.7], "affine": aff.tolist()}, rng=2)
    start = out["applied"][0]["params"]["start"]
    assert out["image"].shape == (5, 10, 15)
    z, r, c = start
    np.testing.assert_array_equal(out["image"], vol[z:z + 5, r:r + 10, c:c + 15])
    np.testing.assert_allclose(np.asarray(out["meta"]["affine"]) @ [0, 0, 0, 1], aff @ [z, r, c, 1])
    assert out["meta"]["spacing"] == [3.0, 0.7, 0.7]


def test_tiny_images_and_errors():
    out = crop()(image=np.arange(7, dtype=np.uint8).reshape(1, 7), rng=0)
    assert out["image"].shape == (1, 5)
    with pytest.raises(UnsupportedInputError, match="height=50"):
        crop(height=50, width=5)(image=np.zeros((10, 10), np.uint8), rng=0)
    with pytest.raises(ParameterError, match="both height and width"):
        crop(height=5)
    with pytest.raises(ParameterError, match="not both"):
        crop(height=5, width=5, size_frac=0.5)
    with pytest.raises(ParameterError, match="size_frac"):
        crop(size_frac=1.5)


def test_random_size_range_and_reproducibility():
    img = np.zeros((100, 80), np.uint8)
    t = crop(size_frac=(0.3, 0.9))
    sizes = {t(image=img, rng=s)["image"].shape for s in range(8)}
    assert len(sizes) > 1
    assert all(30 <= h <= 90 and 24 <= w <= 72 for h, w in sizes)
    a, b = t(image=img, rng=3), t(image=img, rng=3)
    assert a["applied"] == b["applied"]


def test_stack_of_georeferenced_rasters_crops_in_plane_geotransform():
    stack = np.random.default_rng(5).random((3, 20, 30)).astype(np.float32)
    gt = [1000.0, 2.0, 0.0, 9000.0, 0.0, -2.0]
    out = crop(height=10, width=12)(image=stack, meta={"spatial_ndim": 3, "transform": gt}, rng=1)
    _, r0, c0 = out["applied"][0]["params"]["start"]
    np.testing.assert_allclose(world(out["meta"]["transform"], 0, 0), world(gt, c0, r0))
    rot = domaug.get_transform("core.Affine", rotate_deg=30)(image=stack, meta={"spatial_ndim": 3, "transform": gt}, rng=1)
    assert rot["meta"]["transform"][2] != 0  # rotated geotransform, slices untouched
