"""OpenCV fast paths of domaug.ops.resample agree with the scipy reference paths."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.ops import elastic, resample
from domaug.transforms.affine import affine_matrix

cv2 = pytest.importorskip("cv2")


def smooth_rgb(h, w, channels=3, dtype=np.uint8, seed=0):
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    rng = np.random.default_rng(seed)
    bands = []
    for _ in range(channels):
        fx, fy, ph = rng.uniform(0.02, 0.08), rng.uniform(0.02, 0.08), rng.uniform(0, 6)
        bands.append(0.5 + 0.45 * np.sin(fx * xx + ph) * np.cos(fy * yy))
    img = np.stack(bands, -1)
    if np.issubdtype(dtype, np.integer):
        return (img * np.iinfo(dtype).max * 0.9).round().astype(dtype)
    return img.astype(dtype)


def brute_inside(sampler):
    grids = np.indices(sampler.out_shape, dtype=np.float64)
    inside = np.ones(sampler.out_shape, bool)
    for k in range(len(sampler.out_shape)):
        c = sampler.offset[k] + np.tensordot(sampler.matrix[k], grids, axes=1)
        inside &= (c >= -0.5 - 1e-6) & (c <= sampler.in_shape[k] - 0.5 + 1e-6)
    return inside


@pytest.mark.parametrize("seed", range(6))
def test_inside_by_rows_matches_the_pointwise_definition(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(5, 60, 2)
    m = affine_matrix((h, w), rng.uniform(-180, 180), rng.uniform(0.5, 2), rng.uniform(-20, 20),
                      rng.uniform(-10, 10), rng.uniform(-10, 10))
    out_shape = tuple(int(v) for v in rng.integers(5, 60, 2))
    s = resample.AffineSampler(m, (h, w), out_shape)
    np.testing.assert_array_equal(s.inside, brute_inside(s))
    if seed < 2:  # 3-D grids: same rule, lines along the last axis
        from domaug.ops.geometry import embed_2d

        s3 = resample.AffineSampler(embed_2d(m, 3), (4, h, w), (4,) + out_shape)
        np.testing.assert_array_equal(s3.inside, brute_inside(s3))


@pytest.mark.parametrize("dtype,channels", [(np.uint8, 3), (np.uint16, 6), (np.int16, 1), (np.float32, 4)])
def test_affine_opencv_matches_scipy(both_paths, dtype, channels):
    img = smooth_rgb(70, 90, channels, dtype)
    if channels == 1:
        img = img[..., 0]
    mask = (smooth_rgb(70, 90, 1, np.uint8, seed=3)[..., 0] // 64).astype(np.int32)
    t = domaug.get_transform("core.Affine", rotate_deg=27, scale=0.8, shear_deg=6, translate_px=4.5, fill=3)
    fast, ref = both_paths(lambda: t(image=img, mask=mask, rng=0))
    assert fast["image"].dtype == img.dtype and fast["image"].shape == img.shape
    tol = 1e-3 if dtype == np.float32 else 1.0 + np.iinfo(dtype).max / 2000  # 1/64 px on a smooth image
    assert np.abs(fast["image"].astype(float) - ref["image"]).max() <= tol
    outside = ~resample.AffineSampler(t.matrix(fast["applied"][0]["params"], {"image": img}),
                                      img.shape[:2], img.shape[:2]).inside
    assert outside.any() and (fast["image"][outside] == 3).all()
    assert set(np.unique(fast["mask"])) <= set(np.unique(mask)) | {0}
    assert (fast["mask"][outside] == 0).all()
    assert (fast["mask"] == ref["mask"]).mean() > 0.99


@pytest.mark.parametrize("size,order,antialias", [((35, 45), 1, True), ((140, 180), 1, False),
                                                  ((23, 31), 0, True), ((50, 60), 1, True)])
def test_resize_opencv_matches_scipy(both_paths, size, order, antialias):
    img = smooth_rgb(70, 90, 5, np.uint16)
    t = domaug.get_transform("core.Resize", height=size[0], width=size[1], order=order, antialias=antialias)
    fast, ref = both_paths(lambda: t(image=img, mask=img[..., 0] // 10000, rng=0))
    assert fast["image"].shape == size + (5,) and fast["image"].dtype == np.uint16
    diff = np.abs(fast["image"].astype(float) - ref["image"])
    if order == 1:
        assert diff.max() <= 2 + np.iinfo(np.uint16).max / 2000
    else:  # nearest: at most a tie broken the other way
        assert (diff == 0).mean() > 0.95
    assert set(np.unique(fast["mask"])) <= set(np.unique(img[..., 0] // 10000))


def test_nodata_declared_but_all_valid_fills_uncovered_with_nodata():
    img = smooth_rgb(40, 50, 3, np.int16) + 1
    meta = {"nodata": -32768}
    out = domaug.get_transform("core.Affine", rotate_deg=30, scale=1.0, translate_frac=0, shear_deg=0)(
        image=img, meta=meta, rng=0)
    flat = out["image"]
    bad = (flat == -32768).all(-1)
    assert bad.any() and not (flat[~bad] == -32768).any()


def test_volume_elastic_opencv_matches_scipy(both_paths):
    z, y, x = np.mgrid[:24, :30, :36].astype(np.float32)
    ramp = 0.3 * z + 0.7 * y + 0.2 * x
    mask = ((z // 5 + y // 6 + x // 7) % 3).astype(np.uint8)
    t = domaug.get_transform("core.ElasticDeformation", max_displacement_px=4.0)
    sample = dict(image=ramp, mask=mask, meta={"spacing": [1.0, 1.0, 1.0]})
    fast, ref = both_paths(lambda: t(rng=4, **sample))
    assert fast["image"].dtype == np.float32
    # through-plane exact, in-plane positions on OpenCV's 1/32 grid: < 1/64 px × gradient
    assert np.abs(fast["image"] - ref["image"]).max() <= (0.7 + 0.2) / 64 + 1e-4
    assert set(np.unique(fast["mask"])) <= {0, 1, 2}
    assert (fast["mask"] == ref["mask"]).mean() > 0.995


def test_volume_elastic_integer_and_channels(both_paths):
    vol = (smooth_rgb(30, 32, 2, np.uint16)[None].repeat(6, 0) // 2).astype(np.int16)
    f = elastic.control_grid_field(vol.shape[:3], seed=2, n_control=4, max_disp_px_per_axis=2.0)
    fast, ref = both_paths(lambda: resample.warp_image(vol, elastic.sampler(f), spatial_ndim=3, order=1))
    assert fast.dtype == np.int16 and fast.shape == vol.shape
    assert np.abs(fast.astype(int) - ref).max() <= 2 + 32767 / 2000


def test_2d_elastic_uint8_remap_matches_scipy(both_paths):
    img = smooth_rgb(64, 80, 3, np.uint8)
    t = domaug.get_transform("core.ElasticDeformation", max_displacement_px=6.0)
    fast, ref = both_paths(lambda: t(image=img, valid=np.ones((64, 80), bool), rng=1))
    assert np.abs(fast["image"].astype(int) - ref["image"]).max() <= 2
    np.testing.assert_array_equal(fast["valid"], ref["valid"])


def test_results_do_not_depend_on_opencv_threads():
    img = smooth_rgb(300, 310, 3, np.uint8)
    t = domaug.get_transform("core.Affine")
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = t(image=img, rng=5)["image"]
        cv2.setNumThreads(4)
        four = t(image=img, rng=5)["image"]
    finally:
        cv2.setNumThreads(before)
    np.testing.assert_array_equal(one, four)


def test_fields_stay_edge_extended_on_the_opencv_path(both_paths):
    depth = np.tile(np.linspace(5.0, 80.0, 60, dtype=np.float32)[:, None], (1, 50))
    img = smooth_rgb(60, 50, 3, np.uint8)
    t = domaug.get_transform("core.Affine", rotate_deg=25, scale=0.7, translate_px=6, shear_deg=0)
    fast, ref = both_paths(lambda: t(image=img, depth=depth, rng=2))
    d = fast["depth"]
    assert d.dtype == np.float32 and d.min() >= 5.0 - 1e-4 and d.max() <= 80.0 + 1e-4  # no invented 0 m
    assert np.abs(d - ref["depth"]).max() <= 75.0 / 60 / 64 * 2 + 1e-3  # 1/64 px × gradient


@pytest.mark.parametrize("seed", range(8))
def test_affine_fill_is_exactly_the_outside_pixels(seed, monkeypatch):
    # the integer fast path lets the warp's constant border fill most of the outside and sets
    # only a band along the edge: the filled set must still be exactly ``~inside``
    monkeypatch.setattr(resample, "BAND_MIN_PIXELS", 0)  # (used from 256² on)
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(20, 90, 2))
    img = rng.integers(100, 200, (h, w, 3)).astype(np.uint8 if seed % 2 else np.uint16)
    t = domaug.get_transform("core.Affine", rotate_deg=(-180, 180), scale=(0.3, 2.0), shear_deg=(-20, 20),
                             translate_px=(-15, 15), fill=7)
    out = t(image=img, rng=seed)
    m = t.matrix(out["applied"][0]["params"], {"image": img})
    inside = resample.AffineSampler(m, (h, w), (h, w)).inside
    filled = (out["image"] == 7).all(axis=-1)
    np.testing.assert_array_equal(filled, ~inside)
