"""domaug.ops.psf: Gaussian MTF, line PSF, per-channel convolution."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from domaug.ops import psf


def test_mtf_sigma_formula_and_gain_at_nyquist():
    for r, g in [(1, 0.3), (2, 0.3), (4, 0.2), (3.5, 0.45)]:
        s = psf.mtf_sigma(r, g)
        assert s == pytest.approx(r * math.sqrt(-2 * math.log(g)) / math.pi)
        assert psf.gaussian_mtf(s, 1 / (2 * r)) == pytest.approx(g)


@pytest.mark.parametrize("factor,gain", [(2, 0.3), (4, 0.3), (4, 0.15), (3, 0.45)])
def test_gaussian_blur_measured_mtf_at_output_nyquist(factor, gain):
    """Blur an impulse with σ = mtf_sigma(r, G): its DFT at the new Nyquist 1/(2r) is G."""
    sigma = psf.mtf_sigma(factor, gain)
    n = 96
    impulse = np.zeros((n, n), np.float32)
    impulse[n // 2, n // 2] = 1
    h = psf.gaussian_blur(impulse, sigma, 2)
    spectrum = np.abs(np.fft.fft2(h))
    k = n // (2 * factor)
    assert spectrum[0, k] == pytest.approx(gain, abs=0.005)   # along x
    assert spectrum[k, 0] == pytest.approx(gain, abs=0.005)   # along y
    assert spectrum[0, 0] == pytest.approx(1.0, abs=1e-5)    # DC gain 1


def test_gaussian_blur_on_white_noise_keeps_mean_and_cuts_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 0.1, (256, 256, 3)).astype(np.float32)
    s = 2.0
    y = psf.gaussian_blur(x, s, 2)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert abs(float(y.mean() - x.mean())) < 1e-4
    # white noise through a 2-D Gaussian: variance × 1/(4πσ²)
    ratio = float(y[16:-16, 16:-16].var() / x.var())
    assert ratio == pytest.approx(1 / (4 * math.pi * s * s), rel=0.1)


def test_gaussian_blur_never_mixes_channels_and_supports_volumes():
    x = np.zeros((32, 32, 3), np.float32)
    x[..., 1] = 1.0
    y = psf.gaussian_blur(x, 3.0, 2)
    np.testing.assert_allclose(y[..., 1], 1.0, atol=1e-6)
    assert np.all(y[..., 0] == 0) and np.all(y[..., 2] == 0)
    v = np.zeros((9, 9, 9), np.float64)
    v[4, 4, 4] = 1
    w = psf.gaussian_blur(v, (0.0, 1.0, 1.0), 3)
    assert w.dtype == np.float64
    assert np.all(w[3] == 0) and w[4].sum() == pytest.approx(1.0)   # σ = 0 along depth


@pytest.mark.parametrize("length,angle", [(9, 0), (9, 90), (15, 30), (4.5, 135), (20, -60)])
def test_line_kernel_sum_length_orientation(length, angle):
    k = psf.line_kernel(length, angle).astype(np.float64)
    assert k.sum() == pytest.approx(1.0, abs=1e-6)
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1
    yy, xx = np.mgrid[0:k.shape[0], 0:k.shape[1]]
    cy, cx = (k.shape[0] - 1) / 2, (k.shape[1] - 1) / 2
    x, y = xx - cx, -(yy - cy)   # screen axes, y up
    assert (k * x).sum() == pytest.approx(0, abs=1e-6) and (k * y).sum() == pytest.approx(0, abs=1e-6)
    cov = np.array([[(k * x * x).sum(), (k * x * y).sum()], [(k * x * y).sum(), (k * y * y).sum()]])
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, 1]
    measured_angle = math.degrees(math.atan2(major[1], major[0])) % 180
    assert min(abs(measured_angle - angle % 180), 180 - abs(measured_angle - angle % 180)) < 2
    # a uniform segment of length L has variance L²/12 along it (+ ≤ 1/6 px² from anti-aliasing)
    assert evals[1] == pytest.approx(length**2 / 12, abs=0.4)
    assert evals[0] < 0.3


def test_line_kernel_zero_length_is_identity():
    k = psf.line_kernel(0, 45)
    assert k.shape == (1, 1) and k[0, 0] == 1


def test_convolve_direct_and_fft_agree_and_preserve_mean():
    rng = np.random.default_rng(1)
    img = rng.random((60, 80, 3)).astype(np.float32)
    k = psf.line_kernel(45, 20)
    assert np.count_nonzero(k) > psf.FFT_MIN_TAPS
    fft = psf.convolve(img, k, 2)
    direct = ndimage.convolve(img, k[..., None], mode="reflect")
    np.testing.assert_allclose(fft, direct, atol=1e-5)
    assert abs(float(fft.mean() - img.mean())) < 5e-3
    mid = psf.line_kernel(9, 30)
    assert np.count_nonzero(mid) <= psf.FFT_MIN_TAPS   # sparse direct path
    np.testing.assert_allclose(psf.convolve(img, mid, 2), ndimage.convolve(img, mid[..., None], mode="reflect"), atol=1e-6)
    general = np.random.default_rng(2).random((4, 5))   # even size, not symmetric
    np.testing.assert_allclose(psf.convolve(img, general, 2),
                               ndimage.convolve(img, general[..., None].astype(np.float32), mode="reflect"), rtol=1e-5)
    small = psf.line_kernel(3, 0)
    np.testing.assert_allclose(psf.convolve(img, small, 2), ndimage.convolve(img, small[..., None], mode="reflect"), atol=1e-6)
    # uint8 input comes back as float32, channels separate
    u8 = np.zeros((20, 20, 3), np.uint8)
    u8[..., 2] = 200
    out = psf.convolve(u8, k, 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[..., 2], 200, atol=1e-3)
    assert np.abs(out[..., :2]).max() < 1e-3


def test_convolve_2d_kernel_on_volume_is_in_plane():
    v = np.zeros((3, 21, 21), np.float32)
    v[1, 10, 10] = 1
    out = psf.convolve(v, psf.line_kernel(7, 0), 3)
    assert np.all(out[0] == 0) and np.all(out[2] == 0)
    assert out[1].sum() == pytest.approx(1.0, abs=1e-5)


def test_threading_does_not_change_results(monkeypatch):
    rng = np.random.default_rng(3)
    img = (rng.random((700, 600, 3)) * 255).astype(np.uint8)   # large enough to use threads
    k = psf.line_kernel(11, 33)
    a, b = psf.gaussian_blur(img, 1.7, 2), psf.convolve(img, k, 2)
    monkeypatch.setenv("DOMAUG_NUM_THREADS", "1")
    np.testing.assert_array_equal(a, psf.gaussian_blur(img, 1.7, 2))
    np.testing.assert_array_equal(b, psf.convolve(img, k, 2))


def test_filters_depend_one_way_psf_convolve_separable():
    """psf → convolve → separable: the lower modules never import psf (no import cycle)."""
    import subprocess
    import sys

    code = "import sys, domaug.ops.convolve, domaug.ops.separable; print('domaug.ops.psf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["False"]
    from domaug.ops import convolve, separable

    assert psf.convolve is convolve.convolve and psf.separable_filter is separable.separable_filter
    assert psf.symmetric_filter1d is separable.symmetric_filter1d
