"""The fast kernels against their slow references: motion (phase ramp, in-plane warp,
segment mixing), Rician noise (Box–Muller stream), slice profile filter, spike cosine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi
from scipy import stats

import domaug
from domaug.ops import opencv
from domaug_medical import kspace
from domaug_medical.intensity import is_magnitude, mean_abs
from domaug_medical.rician_noise import BLOCK, rician
from domaug_medical.slice_thickness import filter_axis


def _blocky(shape, seed=0):
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    img[tuple(slice(s // 4, 3 * s // 4) for s in shape)] = 100.0
    return np.abs(img + rng.normal(0, 3, shape).astype(np.float32))


# -- Motion --------------------------------------------------------------------------------
def _scipy_rigid(x, angle_deg, shift_px, spacing):
    """The direct definition: one affine resample of the whole array (linear, edges replicated)."""
    nd = x.ndim
    rot = np.eye(nd)
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    rot[-2:, -2:] = [[c, -s], [s, c]]
    sp = np.asarray(spacing, dtype=np.float64)
    matrix = np.diag(1.0 / sp) @ rot.T @ np.diag(sp)
    centre = (np.asarray(x.shape, dtype=np.float64) - 1.0) / 2.0
    offset = centre - matrix @ centre - matrix @ np.asarray(shift_px, dtype=np.float64)
    return ndi.affine_transform(x.astype(np.float64), matrix, offset=offset, order=1, mode="nearest")


def _reference_mix(copies, axis, boundaries, phase_shifts, magnitude):
    """Full complex FFT of every copy, ramp on the whole spectrum, masks in fftshift order."""
    n = copies[0].shape[axis]
    edges = [0] + [int(round(b * n)) for b in boundaries] + [n]
    holder = next(j for j in range(len(copies)) if edges[j] <= n // 2 < edges[j + 1])
    order = list(range(len(copies)))
    order[holder], order[0] = order[0], order[holder]
    shape = [1] * copies[0].ndim
    shape[axis] = n
    k = (np.fft.fftfreq(n) * n).reshape(shape)
    total = 0
    for j, idx in enumerate(order):
        sel = np.zeros(n)
        sel[edges[j]:edges[j + 1]] = 1.0
        spec = np.fft.fft(copies[idx].astype(np.float64), axis=axis)
        spec = spec * np.exp(-2j * np.pi * k * phase_shifts[idx] / n)
        total = total + spec * np.fft.ifftshift(sel).reshape(shape)
    z = np.fft.ifft(total, axis=axis)
    return np.abs(z) if magnitude else z.real


@pytest.mark.parametrize("shape,axis", [((33, 40), 0), ((32, 41), 1), ((9, 20, 22), 0), ((8, 21, 20), 1),
                                        ((8, 20, 21), 2)])
@pytest.mark.parametrize("magnitude", [True, False])
def test_mix_segments_matches_full_fft_reference(shape, axis, magnitude):
    rng = np.random.default_rng(sum(shape) + axis)
    copies = [rng.uniform(-50, 100, shape).astype(np.float32) for _ in range(3)]
    boundaries = sorted(rng.uniform(0.05, 0.95, 2).tolist())
    shifts = [0.0, 2.7, -4.25]
    out = kspace.mix_segments(copies, axis=axis, boundaries=boundaries, centre_copy=0,
                              magnitude=magnitude, phase_shifts=shifts)
    ref = _reference_mix(copies, axis, boundaries, shifts, magnitude)
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_allclose(out, ref, atol=2e-3 * np.abs(ref).max())


@pytest.mark.parametrize("n", [32, 31])
def test_phase_ramp_translation_equals_integer_image_shift(n):
    """Fourier shift theorem: a ramp exp(−2πik·s/N) on a copy's segment = that copy rolled by s."""
    x = _blocky((6, n, n))
    for axis, s in ((1, 3), (2, -5), (0, 1)):
        ramped = kspace.mix_segments([x, x], axis=axis, boundaries=[0.2], centre_copy=0, magnitude=True,
                                     phase_shifts=[0.0, float(s)])
        rolled = kspace.mix_segments([x, np.roll(x, s, axis=axis)], axis=axis, boundaries=[0.2],
                                     centre_copy=0, magnitude=True)
        np.testing.assert_allclose(ramped, rolled, atol=1e-3)
        assert not np.allclose(ramped, x, atol=0.5)  # the moved segment is visible


def test_motion_translation_only_is_the_rolled_object_in_its_segment():
    img = _blocky((10, 32, 32))
    params = {"poses": [{"angle_deg": 0.0, "translation_mm": [0.0, 4.0, 0.0]}],
              "boundaries": [0.75], "phase_axis": "vertical"}
    t = domaug.get_transform("medical.Motion")
    out = t.apply({"image": img, "meta": {"spacing": [1.0, 1.0, 1.0]}}, params)["image"]
    ref = _reference_mix([img, np.roll(img, 4, axis=1)], 1, [0.75], [0.0, 0.0], True)
    np.testing.assert_allclose(out, ref, atol=1e-2)


@pytest.mark.parametrize("cv", [True, False])
def test_rigid_copy_matches_one_affine_resample(cv):
    vol = _blocky((12, 40, 36), seed=3)
    try:
        opencv.set_enabled(cv)
        for angle, shift, spacing in ((7.0, (1.5, -2.25, 3.5), (3.0, 1.0, 0.8)), (-4.0, (0.0, 0.4, 0.0), (1, 1, 1)),
                                      (0.0, (-2.6, 0.0, 1.0), (2.0, 0.5, 0.5))):
            ref = _scipy_rigid(vol, angle, shift, spacing)
            out = kspace.rigid_copy(vol, angle_deg=angle, shift_px=shift, spacing=spacing)
            assert out.dtype == np.float32 and out.shape == vol.shape
            # OpenCV's positions are exact enough here (< 1 % of the 100-unit step at edges)
            np.testing.assert_allclose(out, ref, atol=1.0 if cv else 1e-3)
            assert np.abs(out - ref).mean() < (0.01 if cv else 1e-4)
            out2d = kspace.rigid_copy(vol[5], angle_deg=angle, shift_px=shift[1:], spacing=spacing[1:])
            np.testing.assert_allclose(out2d, _scipy_rigid(vol[5], angle, shift[1:], spacing[1:]),
                                       atol=1.0 if cv else 1e-3)
    finally:
        opencv.set_enabled(True)


def test_motion_does_not_depend_on_opencv_threads():
    cv2 = opencv.cv2_module()
    if cv2 is None:
        pytest.skip("OpenCV not installed")
    img = _blocky((16, 48, 48))
    t = domaug.get_transform("medical.Motion", degrees=8, translation_mm=6, num_transforms=3)
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = t(image=img, rng=5)["image"]
        cv2.setNumThreads(2)
        two = t(image=img, rng=5)["image"]
    finally:
        cv2.setNumThreads(before)
    np.testing.assert_array_equal(one, two)


# -- RicianNoise -----------------------------------------------------------------------------
def test_rician_kernel_is_the_documented_box_muller_stream():
    x = np.linspace(0, 50, 3 * 7 * 5, dtype=np.float32).reshape(3, 7, 5)
    rng = np.random.default_rng(123)
    u = rng.random((2, x.size), dtype=np.float32)  # one block: U1 then U2
    r = np.sqrt(-2.0 * np.log(1.0 - u[0].astype(np.float64))) * 4.0
    theta = 2 * np.pi * u[1].astype(np.float64)
    expected = np.hypot(x.ravel() + r * np.cos(theta), r * np.sin(theta)).reshape(x.shape)
    np.testing.assert_allclose(rician(x, 4.0, 123), expected, rtol=1e-5, atol=1e-4)
    assert rician(x.astype(np.float64), 4.0, 123).dtype == np.float64


def test_rician_background_is_rayleigh_across_blocks():
    sigma = 3.0
    out = rician(np.zeros(3 * BLOCK + 17, np.float32), sigma, 7)
    assert stats.kstest(out / sigma, stats.rayleigh.cdf).pvalue > 1e-3
    halves = out[:BLOCK], out[BLOCK:2 * BLOCK]
    assert abs(np.corrcoef(halves[0], halves[1])[0, 1]) < 0.02  # blocks draw fresh numbers


def test_rician_bright_region_components_are_gaussian():
    sigma, a = 2.0, 1000.0
    out = rician(np.full(200_000, a, np.float32), sigma, 11).astype(np.float64) - a
    # |a + n_re + i n_im| − a ≈ n_re for a ≫ σ: a normal N(σ²/2a, σ²)
    assert abs(stats.skew(out)) < 0.03 and abs(stats.kurtosis(out)) < 0.06
    assert out.std() == pytest.approx(sigma, rel=0.01)


def test_rician_integer_input_is_not_modified():
    img = np.full((20, 20), 300, np.uint16)
    keep = img.copy()
    out = domaug.get_transform("medical.RicianNoise", sigma=10.0)(image=img, rng=0)["image"]
    np.testing.assert_array_equal(img, keep)
    assert out.dtype == np.uint16 and abs(float(out.mean()) - 300) < 3


# -- SliceThickness, Spike, helpers -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 7), (40, 16, 9), (2, 30), (30, 2), (5, 1, 6)])
def test_filter_axis_equals_scipy_nearest(shape, dtype):
    x = np.random.default_rng(0).random(shape).astype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    for axis in range(len(shape)):
        for sigma in (0.7, 2.5, 9.0):
            radius = int(4 * sigma + 0.5)
            w = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
            w /= w.sum()
            out = filter_axis(x, w, axis)
            assert out.dtype == dtype and out.shape == x.shape
            np.testing.assert_allclose(out, ndi.gaussian_filter1d(x, sigma, axis=axis, mode="nearest"), atol=tol)
        box = np.array([0.25, 1, 1, 1, 0.25]) / 3.5
        np.testing.assert_allclose(filter_axis(x, box, axis), ndi.correlate1d(x, box, axis=axis, mode="nearest"),
                                   atol=tol)


def test_slice_thickness_leaves_float_input_untouched():
    vol = _blocky((12, 16, 16))
    keep = vol.copy()
    out = domaug.get_transform("medical.SliceThickness", thickness_mm=0.5)(image=vol, rng=0)["image"]
    np.testing.assert_array_equal(out, vol)  # thinner than the spacing: no effect
    out = domaug.get_transform("medical.SliceThickness", thickness_mm=4.0)(image=vol, rng=0)["image"]
    np.testing.assert_array_equal(vol, keep)
    assert out is not vol and not np.allclose(out, vol)


@pytest.mark.parametrize("shape,pos", [((10, 12, 14), (3, -5, 6)), ((32, 30), (7, -11)), ((4, 6, 8), (0, 0, 3))])
def test_add_cosine_is_the_spike_stripe(shape, pos):
    grids = np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij")
    arg = 2 * np.pi * sum(p * g for p, g in zip(pos, grids)) + 0.9
    out = kspace.add_cosine(np.ones(shape, np.float32), pos, 0.9, 7.0)
    np.testing.assert_allclose(out, 1.0 + 7.0 * np.cos(arg), atol=1e-4)


def test_is_magnitude_and_mean_abs_ignore_nan_and_nodata():
    img = np.array([[1.0, np.nan], [np.inf, 3.0]], np.float32)
    assert is_magnitude(img) and is_magnitude(np.array([1.0, -np.inf, 2.0]))  # only finite values count
    assert not is_magnitude(np.array([1.0, np.nan, -2.0]))
    assert is_magnitude(np.array([np.nan], np.float32)) and not is_magnitude(np.array([[-1, 2]], np.int16))
    x = np.random.default_rng(0).normal(size=(8, 9, 10)).astype(np.float32)
    assert mean_abs({"image": x}) == pytest.approx(float(np.mean(np.abs(x.astype(np.float64)))), rel=1e-9)
    x[0, 0, 0] = -9999.0
    got = mean_abs({"image": x, "meta": {"nodata": -9999.0}})
    valid = np.abs(np.delete(x.ravel(), 0).astype(np.float64))
    mean_valid = float(np.delete(x.ravel(), 0).mean())  # nodata filled with the valid mean
    assert got == pytest.approx((valid.sum() + abs(mean_valid)) / x.size, rel=1e-5)


# -- LowDoseCT: the forward projection -----------------------------------------------------------
@pytest.mark.parametrize("n", [40, 63])
def test_ct_radon_matches_scikit_image(n):
    from skimage.transform import radon as sk_radon

    from domaug_medical import ct_noise

    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot((yy - n / 2) / (0.45 * n), (xx - n / 2) / (0.38 * n))
    hu = np.where(r < 1.0, 40.0, -1000.0)
    hu[(r > 0.55) & (r < 0.62)] = 700.0
    mu, _ = ct_noise._square(ct_noise.hu_to_attenuation(hu, 0.7))
    theta = np.linspace(0.0, 180.0, 90, endpoint=False)
    ref = sk_radon(mu, theta=theta, circle=False)
    out = ct_noise.radon(mu, theta)
    assert out.shape == ref.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, ref, atol=2e-3 * ref.max())
    try:
        opencv.set_enabled(False)
        np.testing.assert_array_equal(ct_noise.radon(mu, theta), ref)
    finally:
        opencv.set_enabled(True)
