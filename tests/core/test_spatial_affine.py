"""core.Affine: exact special cases, content/keypoint/geotransform agreement, nodata, volumes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_helpers import blob, centroid_xy, world  # noqa: E402

IDENT = dict(rotate_deg=0, scale=1, translate_frac=0, shear_deg=0)


def affine(**kw):
    return domaug.get_transform("core.Affine", **kw)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_identity_parameters_are_exact(dtype):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 200, (17, 23, 3)).astype(dtype)
    mask = rng.integers(0, 4, (17, 23)).astype(np.uint8)
    boxes = np.array([[1.0, 2.0, 10.0, 12.0, 7]])
    kps = np.array([[3.5, 4.5], [22.9, 16.9]])
    out = affine(**IDENT)(image=img, mask=mask, bboxes=boxes, keypoints=kps, rng=0)
    assert out["image"].dtype == dtype
    np.testing.assert_array_equal(out["image"], img)
    np.testing.assert_array_equal(out["mask"], mask)
    np.testing.assert_allclose(out["bboxes"], boxes)
    np.testing.assert_allclose(out["keypoints"], kps)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_rotation_by_90_matches_rotate90_for_all_targets(order):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (20, 20)).astype(np.uint8)
    mask = rng.integers(0, 3, (20, 20)).astype(np.int32)
    boxes = np.array([[2.0, 3.0, 9.0, 15.0, 1]])
    kps = np.array([[4.5, 7.5]])
    meta = {"transform": [500000.0, 10.0, 0.0, 4100000.0, 0.0, -10.0]}
    sample = dict(image=img, mask=mask, bboxes=boxes, keypoints=kps, meta=meta)
    a = affine(rotate_deg=90, scale=1, translate_frac=0, shear_deg=0, order=order)(rng=0, **sample)
    r = domaug.get_transform("core.Rotate90", k=1)(rng=0, **sample)
    np.testing.assert_array_equal(a["image"], r["image"])
    np.testing.assert_array_equal(a["mask"], r["mask"])
    np.testing.assert_allclose(a["bboxes"], r["bboxes"], atol=1e-9)
    np.testing.assert_allclose(a["keypoints"], r["keypoints"], atol=1e-9)
    np.testing.assert_allclose(a["meta"]["transform"], r["meta"]["transform"], atol=1e-6)


def test_translation_shifts_content_and_fills_uncovered_with_nodata():
    img = np.arange(1, 13 * 9 + 1, dtype=np.uint16).reshape(13, 9)
    valid = np.ones((13, 9), bool)
    out = affine(**{**IDENT, "translate_frac": None}, translate_px=3)(
        image=img, valid=valid, meta={"nodata": 0}, rng=0)
    np.testing.assert_array_equal(out["image"][3:, 3:], img[:-3, :-3])
    assert (out["image"][:3] == 0).all() and (out["image"][:, :3] == 0).all()
    assert not out["valid"][:3].any() and not out["valid"][:, :3].any()
    assert out["valid"][3:, 3:].all()


def test_fill_used_without_nodata_and_mask_fill_for_masks():
    img = np.full((10, 10), 100, np.uint8)
    mask = np.full((10, 10), 2, np.uint8)
    out = affine(rotate_deg=45, scale=1, translate_frac=0, shear_deg=0, fill=7, mask_fill=9)(
        image=img, mask=mask, rng=0)
    assert out["image"][0, 0] == 7 and out["mask"][0, 0] == 9
    assert set(np.unique(out["mask"])) <= {2, 9}
    assert out["image"][5, 5] == 100


@pytest.mark.parametrize("rot,scale,shear,tx", [(30, 1.0, 0, 0), (-50, 1.3, 0, 2), (10, 0.8, 12, -3)])
def test_keypoint_geolocation_and_content_agree(rot, scale, shear, tx):
    h, w, x, y = 48, 56, 21.5, 30.5
    img = blob(h, w, x, y)
    gt = [300000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5]
    t = affine(rotate_deg=rot, scale=scale, shear_deg=shear, translate_frac=None, translate_px=tx)
    out = t(image=img, keypoints=np.array([[x, y]]), meta={"transform": gt}, rng=0)
    kx, ky = out["keypoints"][0, :2]
    cx, cy = centroid_xy(out["image"], (kx, ky), 6)
    assert abs(cx - kx) < 0.5 and abs(cy - ky) < 0.5
    # the marked feature keeps its map position (within a pixel) under the new geotransform
    before = np.array(world(gt, x, y))
    after = np.array(world(out["meta"]["transform"], cx, cy))
    assert np.linalg.norm(after - before) < 0.5 * gt[1]


@pytest.mark.parametrize("order", [0, 1, 3])
def test_nodata_never_bleeds_for_any_order(order):
    img = np.full((30, 40), 15.0, np.float32)
    img[:, :9] = -9999.0
    img[20:, 30:] = -9999.0
    t = affine(rotate_deg=23, scale=1.2, translate_frac=0, shear_deg=4, order=order)
    res = t(image=img, meta={"nodata": -9999.0}, rng=0)["image"]
    good = res != -9999.0
    assert good.sum() > 300 and (~good).sum() > 150
    np.testing.assert_allclose(res[good], 15.0, atol=1e-4)


def test_nodata_never_bleeds_into_valid_pixels():
    rng = np.random.default_rng(2)
    img = rng.uniform(10, 20, (30, 40)).astype(np.float32)
    img[:, :9] = -9999.0
    out = affine(rotate_deg=17, scale=1.1, translate_frac=0, shear_deg=5)(image=img, meta={"nodata": -9999.0}, rng=0)
    res = out["image"]
    good = res != -9999.0
    assert good.any() and (~good).any()
    assert res[good].min() >= 10 and res[good].max() <= 20


def test_zoom_out_is_antialiased():
    yy, xx = np.mgrid[:64, :64]
    checker = ((xx + yy) % 2).astype(np.float32)
    out = affine(rotate_deg=0, scale=0.5, translate_frac=0, shear_deg=0)(image=checker, rng=0)["image"]
    centre = out[20:44, 20:44]
    assert abs(centre.mean() - 0.5) < 0.05 and centre.std() < 0.1


def test_volume_rotates_in_plane_and_updates_affine_and_spacing():
    vol = np.zeros((4, 24, 24), np.float32)
    vol[:, 6, 15] = 1.0
    aff = np.diag([2.0, 0.5, 0.5, 1.0])
    aff[:3, 3] = [10, 20, 30]
    meta = {"affine": aff.tolist(), "spacing": [2.0, 0.5, 0.5]}
    t = affine(rotate_deg=30, scale=2.0, translate_frac=0, shear_deg=0)
    out = t(image=vol, meta=meta, rng=0)
    for z in range(4):  # every slice moves alike
        np.testing.assert_array_equal(out["image"][z], out["image"][0])
    r, c = np.unravel_index(np.argmax(out["image"][1]), (24, 24))
    before = aff @ [1, 6, 15, 1]
    after = np.asarray(out["meta"]["affine"]) @ [1, r, c, 1]
    assert np.linalg.norm(after[:3] - before[:3]) <= 0.5
    np.testing.assert_allclose(out["meta"]["spacing"], [2.0, 0.25, 0.25])
    with pytest.raises(UnsupportedInputError):
        t(image=vol, meta=meta, keypoints=np.array([[1.0, 1.0]]), rng=0)


def test_parameter_validation():
    with pytest.raises(ParameterError, match="translate_frac or translate_px"):
        affine(translate_frac=0.1, translate_px=3)
    with pytest.raises(ParameterError, match="order"):
        affine(order=2)
    with pytest.raises(ParameterError, match="scale"):
        affine(scale=0)


def test_reproducible_and_replayable():
    img = np.random.default_rng(3).integers(0, 255, (21, 31, 3)).astype(np.uint8)
    t = affine()
    a, b = t(image=img, rng=5), t(image=img, rng=5)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(domaug.replay(a["applied"], image=img)["image"], a["image"])
    assert not np.array_equal(t(image=img, rng=6)["image"], a["image"])
