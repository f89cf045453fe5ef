"""Property tests (hypothesis) over every core spatial transform.

Random shapes (including 1×N and odd sizes), dtypes, band counts, masks, boxes,
keypoints, valid/nodata and geotransforms; each property would fail on a wrong
implementation: labels only from the input set, boxes inside and non-degenerate,
keypoints on the content they marked, nodata handling, geolocation kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domaug

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_helpers import blob, centroid_xy, world  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.uint8, np.uint16, np.int16, np.float32]
SPATIAL = ["core.Flip", "core.Rotate90", "core.Affine", "core.RandomCrop", "core.Resize", "core.ElasticDeformation"]


def make(name: str, draw) -> domaug.Transform:
    if name == "core.Flip":
        return domaug.get_transform(name, axis=draw(st.sampled_from(["horizontal", "vertical"])))
    if name == "core.Affine":
        return domaug.get_transform(name, rotate_deg=(-180, 180), scale=(0.6, 1.6), shear_deg=(-15, 15),
                                    translate_frac=(-0.3, 0.3), order=draw(st.sampled_from([0, 1, 3])))
    if name == "core.RandomCrop":
        return domaug.get_transform(name, size_frac=(0.1, 1.0))
    if name == "core.Resize":
        return domaug.get_transform(name, scale=(0.3, 2.5))
    if name == "core.ElasticDeformation":
        return domaug.get_transform(name, max_displacement_px=(0, 6), n_control=draw(st.integers(4, 8)))
    return domaug.get_transform(name)


@st.composite
def samples(draw):
    h, w = draw(st.integers(1, 33)), draw(st.integers(1, 33))
    dtype = draw(st.sampled_from(DTYPES))
    bands = draw(st.sampled_from([None, 1, 3, 4, 7]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    shape = (h, w) if bands is None else (h, w, bands)
    lo, hi = (-500, 500) if dtype == np.int16 else (1, 250)
    image = rng.integers(lo, hi, shape).astype(dtype)
    labels = draw(st.lists(st.integers(0, 300), min_size=1, max_size=4, unique=True))
    mask = rng.choice(np.array(labels, dtype=np.int32), size=(h, w)).astype(np.uint16)
    n = draw(st.integers(0, 5))
    x0, y0 = rng.uniform(0, w, n), rng.uniform(0, h, n)
    x1, y1 = np.minimum(x0 + rng.uniform(1, w + 1, n), w), np.minimum(y0 + rng.uniform(1, h + 1, n), h)
    boxes = np.stack([x0, y0, x1, y1, np.arange(n)], 1)
    boxes = boxes[(boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)]
    kps = np.stack([rng.uniform(0, w, n), rng.uniform(0, h, n), np.arange(n)], 1)
    sample = {"image": image, "mask": mask, "bboxes": boxes.reshape(-1, 5), "keypoints": kps.reshape(-1, 3),
              "meta": {"transform": [1000.0, 2.0, 0.0, 5000.0, 0.0, -2.0]}}
    if draw(st.booleans()):
        valid = rng.random((h, w)) > 0.2
        nodata = 0
        img = image.copy()
        img[~valid] = nodata
        if bands is not None:
            vals = img[valid]
            vals[(vals == nodata).all(-1)] = 1
            img[valid] = vals
        else:
            img[valid & (img == nodata)] = 1
        sample.update(image=img, valid=valid)
        sample["meta"]["nodata"] = nodata
    return sample


@SETTINGS
@given(data=st.data(), name=st.sampled_from(SPATIAL))
def test_targets_stay_consistent(data, name):
    sample = data.draw(samples())
    t = make(name, data.draw)
    seed = data.draw(st.integers(0, 1000))
    out = t(rng=seed, **sample)
    img, new = sample["image"], out["image"]
    assert new.dtype == img.dtype and new.ndim == img.ndim
    if img.ndim == 3:
        assert new.shape[-1] == img.shape[-1]
    h, w = new.shape[:2]
    assert out["mask"].shape == (h, w) and out["mask"].dtype == sample["mask"].dtype
    fill = {0} if name in ("core.Affine", "core.ElasticDeformation") else set()
    assert set(np.unique(out["mask"]).tolist()) <= set(np.unique(sample["mask"]).tolist()) | fill
    b = out["bboxes"]
    assert b.shape[1] == 5
    if len(b):
        assert (b[:, [0, 2]] >= 0).all() and (b[:, [0, 2]] <= w).all()
        assert (b[:, [1, 3]] >= 0).all() and (b[:, [1, 3]] <= h).all()
        assert ((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])).all()
        assert set(b[:, 4]) <= set(sample["bboxes"][:, 4])
    k = out["keypoints"]
    if len(k):
        assert (k[:, 0] >= 0).all() and (k[:, 0] < w).all() and (k[:, 1] >= 0).all() and (k[:, 1] < h).all()
    if "valid" in sample:
        v = out["valid"]
        assert v.dtype == bool and v.shape == (h, w)
        flat = new.reshape(h, w, -1)
        assert (flat[~v] == 0).all(), "invalid output pixels carry the nodata value"
        assert not (flat[v] == 0).all(-1).any(), "a valid output pixel took the nodata value"
    # reproducible
    again = t(rng=seed, **sample)
    np.testing.assert_array_equal(again["image"], new)
    np.testing.assert_array_equal(domaug.replay(out["applied"], **sample)["image"], new)


@SETTINGS
@given(data=st.data(), name=st.sampled_from(SPATIAL))
def test_keypoints_mark_the_moved_content_and_keep_their_geolocation(data, name):
    h, w = data.draw(st.integers(16, 40)), data.draw(st.integers(16, 40))
    x = data.draw(st.integers(5, w - 6)) + 0.5
    y = data.draw(st.integers(5, h - 6)) + 0.5
    gt = [700000.0, 5.0, 0.0, 4000000.0, 0.0, -5.0]
    if name == "core.Affine":
        t = domaug.get_transform(name, rotate_deg=(-180, 180), scale=(0.8, 1.5), shear_deg=(-10, 10))
    elif name == "core.Resize":
        t = domaug.get_transform(name, scale=(0.5, 2.0))
    elif name == "core.ElasticDeformation":
        t = domaug.get_transform(name, max_displacement_px=(0, 4), n_control=4)
    else:
        t = domaug.get_transform(name)
    out = t(image=blob(h, w, x, y, 1.5), keypoints=np.array([[x, y]]), meta={"transform": gt},
            rng=data.draw(st.integers(0, 1000)))
    if not len(out["keypoints"]):
        return
    kx, ky = out["keypoints"][0]
    oh, ow = out["image"].shape
    if not (3 <= kx <= ow - 3 and 3 <= ky <= oh - 3):
        return  # too close to the border for a centroid
    cx, cy = centroid_xy(out["image"], (kx, ky), 4)
    scale = max(1.0, ow / w, oh / h)
    # a non-rigid field stretches the blob, so its centroid and the moved centre part by up to ~1 px
    tol = 1.0 if name == "core.ElasticDeformation" else 0.6
    assert abs(cx - kx) < tol * scale and abs(cy - ky) < tol * scale
    new_gt = out["meta"]["transform"]
    if name != "core.ElasticDeformation":  # the grid itself did not change for elastic
        np.testing.assert_allclose(world(new_gt, kx, ky), world(gt, x, y), atol=1e-6)
    # the content itself is where the world says (within one input pixel)
    assert np.hypot(*(np.subtract(world(new_gt, cx, cy), world(gt, x, y)))) < 0.6 * gt[1] * max(scale, 1.0) + \
        (4 * gt[1] if name == "core.ElasticDeformation" else 0)


@SETTINGS
@given(h=st.integers(1, 30), w=st.integers(1, 30), d=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_volumes_keep_layout_and_labels(h, w, d, seed):
    rng = np.random.default_rng(seed)
    vol = rng.random((d, h, w)).astype(np.float32)
    mask = (vol > 0.5).astype(np.uint8)
    meta = {"spacing": [2.0, 0.5, 0.5]}
    for name in ("core.Affine", "core.RandomCrop", "core.Resize", "core.ElasticDeformation"):
        out = domaug.get_transform(name)(image=vol, mask=mask, meta=meta, rng=seed)
        assert out["image"].ndim == 3 and out["image"].dtype == np.float32
        assert out["mask"].shape == out["image"].shape
        assert set(np.unique(out["mask"])) <= {0, 1}
        assert np.isfinite(out["image"]).all()
        assert len(out["meta"]["spacing"]) == 3


@SETTINGS
@given(h=st.integers(2, 30), w=st.integers(2, 30), seed=st.integers(0, 10**6))
def test_resize_keeps_bounds_and_scales_spacing(h, w, seed):
    rng = np.random.default_rng(seed)
    oh, ow = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    gt = [10.0, 0.3, 0.0, 20.0, 0.0, -0.3]
    out = domaug.get_transform("core.Resize", height=oh, width=ow)(
        image=np.zeros((h, w), np.uint8), meta={"transform": gt, "spacing": [0.3, 0.3]}, rng=0)
    assert out["image"].shape == (oh, ow)
    np.testing.assert_allclose(world(out["meta"]["transform"], ow, oh), world(gt, w, h), atol=1e-9)
    np.testing.assert_allclose(out["meta"]["spacing"], [0.3 * h / oh, 0.3 * w / ow])


def test_spatial_transforms_are_registered():
    names = set(domaug.list_transforms())
    assert set(SPATIAL) <= names
    pytest.importorskip("hypothesis")
