"""The OpenCV fast paths of the agriculture kernels against their numpy/scipy fallbacks (DOMAUG_OPENCV=0)."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug.kit import spread
from domaug.ops import opencv
from domaug_agriculture import _fast
from domaug_agriculture.band_misalignment import shift_plane
from domaug_agriculture.vegetation import feather, vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}


def _blobs(shape, seed, level=0.55):
    rng = np.random.default_rng(seed)
    return ndi.gaussian_filter(rng.random(shape), 3) > level


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_region_pixel_is_within_a_pixel_of_the_exact_feature_transform(both_paths, seed):
    region = _blobs((90, 130), seed)
    h, w = region.shape
    fast, ref = both_paths(lambda: _fast.nearest_region_pixel(region))
    exact_d, exact_idx = ndi.distance_transform_edt(~region, return_indices=True)
    np.testing.assert_array_equal(ref, exact_idx[0] * w + exact_idx[1])  # fallback = scipy's EDT
    assert region.ravel()[fast.ravel()].all()  # always a region pixel
    assert (fast[region] == np.flatnonzero(region)).all()  # region pixels map to themselves
    rr, cc = np.divmod(fast, w)
    d = np.hypot(rr - np.arange(h)[:, None], cc - np.arange(w)[None, :])
    excess = d - exact_d
    assert excess.min() > -1e-9 and excess.max() < 1.5 and excess.mean() < 0.02
    assert (fast == ref).mean() > 0.9


def test_nearest_region_pixel_of_an_empty_region_is_the_pixel_itself(both_paths):
    fast, ref = both_paths(lambda: _fast.nearest_region_pixel(np.zeros((5, 7), bool)))
    np.testing.assert_array_equal(fast, np.arange(35).reshape(5, 7))
    np.testing.assert_array_equal(ref, fast)


@pytest.mark.parametrize("sigma", [0.7, 1.0, 1.5, 4.0])
def test_blur_and_feather_match_scipy(both_paths, sigma):
    mask = _blobs((70, 90), 3)
    fast, ref = both_paths(lambda: _fast.blur_nearest(mask.astype(np.float32), sigma))
    expected = ndi.gaussian_filter(mask.astype(np.float32), sigma, mode="nearest", truncate=3.0)
    np.testing.assert_allclose(fast, expected, atol=1e-6)
    np.testing.assert_array_equal(ref, expected)
    f_fast, f_ref = both_paths(lambda: feather(mask, sigma))
    assert f_fast.dtype == np.float32 and f_fast.min() >= 0 and f_fast.max() <= 1
    np.testing.assert_allclose(f_fast, f_ref, atol=1e-3)  # (the 1e-3 cutoff may flip by rounding)


def test_spread_and_scale_bands_are_bit_identical(both_paths):
    rng = np.random.default_rng(5)
    plane = rng.random((20, 30)).astype(np.float32)
    x = rng.random((20, 30, 5)).astype(np.float32)
    k = rng.random(5).astype(np.float32)
    (s1, t1, x1), (s2, t2, x2) = both_paths(lambda: (spread(plane, 5), spread(plane, 3), _fast.scale_bands(x.copy(), k)))
    np.testing.assert_array_equal(s1, np.repeat(plane[..., None], 5, -1))
    np.testing.assert_array_equal(s2, s1)
    np.testing.assert_array_equal(t1, np.repeat(plane[..., None], 3, -1))  # (OpenCV merges up to 4 bands)
    np.testing.assert_array_equal(t2, t1)
    np.testing.assert_array_equal(x1, x * k)
    np.testing.assert_array_equal(x2, x1)


@pytest.mark.parametrize("shift", [(0.3, -1.7), (2.0, 0.0), (-3.25, 4.5), (12.9, -7.1), (0.0, 0.0)])
def test_band_shift_matches_scipy_on_both_paths(both_paths, shift):
    plane = (np.random.default_rng(6).random((40, 55)) * 4000).astype(np.float32)
    fast, ref = both_paths(lambda: shift_plane(plane, *shift))
    expected = ndi.shift(plane.astype(float), shift, order=1, mode="nearest")
    for got in (fast, ref):
        assert got.shape == plane.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=4000 * 1e-6)


def test_band_shift_of_a_uint8_weight_plane_is_float(both_paths):
    mask = _blobs((40, 55), 8)
    fast, ref = both_paths(lambda: shift_plane(mask.view(np.uint8), 1.3, -2.6))
    expected = ndi.shift(mask.astype(float), (1.3, -2.6), order=1, mode="nearest")
    for got in (fast, ref):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-6)


def _footprint_sample():
    img = agri_multispectral(96, 128)
    valid = np.ones(img.shape[:2], bool)
    valid[:, :14] = False
    valid[80:, 100:] = False
    img = img.copy()
    img[~valid] = 0
    return {"image": img, "valid": valid, "meta": dict(META, nodata=0)}


CASES = {
    "SunAngle": {}, "SoilMoisture": {"puddle_fraction": 0.05}, "SeasonShift": {}, "CloudShadow": {"gsd_m": 0.5},
    "BandMisalignment": {"shift_px": (0.5, 3.0)}, "AltitudeChange": {}, "FlightMotionBlur": {"gsd_m": 0.005},
    "CropStage": {"cover_change": 0.3},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transforms_agree_across_opencv_modes_and_keep_nodata(both_paths, name):
    sample = _footprint_sample()
    t = domaug.get_transform(f"agriculture.{name}", **CASES[name])
    fast, ref = both_paths(lambda: t(rng=7, **sample)["image"])
    assert fast.shape == ref.shape and fast.dtype == ref.dtype == np.uint16
    if fast.shape == sample["image"].shape:
        for out in (fast, ref):
            np.testing.assert_array_equal(out[~sample["valid"]], sample["image"][~sample["valid"]])
    if name == "CropStage":  # nearest pixels may differ (chamfer labels); the canopy change may not
        f0 = vegetation_mask(sample["image"], META, valid=sample["valid"]).sum()
        f1, f2 = (vegetation_mask(o, META, valid=sample["valid"]).sum() for o in (fast, ref))
        assert f1 / f0 - 1 == pytest.approx(0.3, abs=0.03) and f2 / f0 - 1 == pytest.approx(0.3, abs=0.03)
        assert (fast != ref).any(-1).mean() < 0.1
    else:
        diff = np.abs(fast.astype(np.int64) - ref.astype(np.int64))
        assert diff.max() <= (8 if name == "AltitudeChange" else 1)  # (OpenCV resizes on a 1/32 px grid)
        assert diff.mean() < 0.01


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_do_not_depend_on_the_opencv_thread_count(name):
    cv2 = opencv.cv2_module()
    if cv2 is None:
        pytest.skip("OpenCV paths disabled or OpenCV not installed")
    img, mask = agri_rgb(120, 160)
    sample = {"image": img, "mask": mask} if name == "CropStage" else {"image": img}
    t = domaug.get_transform(f"agriculture.{name}", **CASES[name])
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = t(rng=3, **sample)
        cv2.setNumThreads(4)
        four = t(rng=3, **sample)
    finally:
        cv2.setNumThreads(before)
    np.testing.assert_array_equal(one["image"], four["image"])
