"""domaug.ops.opencv: the OpenCV/stringzilla fast paths give the numpy paths' results."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import domaug
from domaug.dtypes import restore_dtype
from domaug.ops import convolve as convolve_ops
from domaug.ops import opencv, psf

cv2 = pytest.importorskip("cv2")
pytestmark = pytest.mark.skipif(opencv.cv2_module() is None, reason="OpenCV paths disabled (DOMAUG_OPENCV=0)")


def _both(fn):
    """``fn()`` with the accelerators, then with every accelerator disabled (numpy only)."""
    fast = fn()
    opencv.set_enabled(False)
    try:
        slow = fn()
    finally:
        opencv.set_enabled(True)
    return fast, slow


def test_import_domaug_does_not_import_cv2():
    code = "import sys, domaug; print('cv2' in sys.modules, 'stringzilla' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64, bool, np.int64])
@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4), (4, 5, 7), (4, 5, 7, 2), (3, 4, 40), (6, 9, 12)])
def test_flip_and_rot90_are_exact_reindexing(dtype, shape):
    a = (np.random.default_rng(0).random(shape) * 100).astype(dtype)
    for axis in range(a.ndim):
        out = opencv.flip(a, axis)
        assert out.flags.c_contiguous and out.dtype == a.dtype
        np.testing.assert_array_equal(out, np.flip(a, axis))
    for axes in [(0, 1)] + ([(1, 2)] if a.ndim >= 3 else []):
        for k in range(4):
            out = opencv.rot90(a, k, axes)
            assert out.flags.c_contiguous
            np.testing.assert_array_equal(out, np.rot90(a, k, axes))


def test_flip_of_non_contiguous_input():
    a = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)[:, ::2]
    np.testing.assert_array_equal(opencv.flip(a, 1), np.flip(a, 1))


@pytest.mark.parametrize("backend", ["stringzilla", "cv2"])
def test_lut8_equals_take_and_never_mutates_input(backend, monkeypatch):
    if backend == "stringzilla":
        pytest.importorskip("stringzilla")
    else:
        monkeypatch.setattr(opencv, "_sz", None)  # force cv2.LUT
    img = np.random.default_rng(1).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    before = img.copy()
    table = np.random.default_rng(2).integers(0, 256, 256, dtype=np.uint8)
    out = opencv.lut8(img, table)
    np.testing.assert_array_equal(out, np.take(table, img))
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_mean_equals_numpy(dtype):
    img = (np.random.default_rng(3).random((40, 50, 4)) * 1000).astype(dtype)
    assert opencv.mean(img) == pytest.approx(float(np.mean(img, dtype=np.float64)), rel=1e-12)


@pytest.mark.parametrize("shape,ndim", [((64, 80), 2), ((64, 80, 3), 2), ((48, 50, 12), 2), ((9, 30, 40), 3),
                                         ((6, 20, 24, 2), 3)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_gaussian_blur_matches_numpy_path(shape, ndim, dtype):
    img = (np.random.default_rng(4).random(shape) * 250).astype(dtype)
    sigma = [1.3] * ndim if ndim == 2 else [0.7, 1.6, 2.2]
    fast, slow = _both(lambda: psf.gaussian_blur(img, sigma, ndim))
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("length,angle", [(9, 0), (11, 30), (15, 90), (7.5, 133)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_convolve_line_psf_matches_numpy_path(length, angle, dtype):
    img = (np.random.default_rng(5).random((50, 60, 3)) * 250).astype(dtype)
    kernel = psf.line_kernel(length, angle)
    fast, slow = _both(lambda: psf.convolve(img, kernel, 2))
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-3)
    vol = img[..., 0].reshape(5, 10, 60)
    fast, slow = _both(lambda: psf.convolve(vol, kernel, 3))
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-3)


def test_integer_out_is_the_rounded_float_result():
    img = np.random.default_rng(6).integers(0, 256, (80, 90, 3), dtype=np.uint8)
    as_u8 = psf.gaussian_blur(img, 1.7, 2, integer_out=True)
    as_float = psf.gaussian_blur(img, 1.7, 2, truncate=psf.TRUNCATE_8BIT)
    assert as_u8.dtype == np.uint8
    diff = np.abs(as_u8.astype(int) - restore_dtype(as_float, np.uint8))
    assert diff.max() <= 1 and np.mean(diff) < 1e-3  # only float32 summation order at .5 ties
    # the 8-bit kernel's shorter tail moves no value by more than 0.12 of a step
    short_tail = psf.gaussian_blur(img, 1.7, 2, truncate=psf.TRUNCATE_8BIT)
    full_tail = psf.gaussian_blur(img, 1.7, 2, truncate=6.0)
    assert np.abs(short_tail - full_tail).max() < 0.12
    kernel = psf.line_kernel(11, 37)
    m_u8 = psf.convolve(img, kernel, 2, integer_out=True)
    diff = np.abs(m_u8.astype(int) - restore_dtype(psf.convolve(img, kernel, 2), np.uint8))
    assert diff.max() <= 1 and np.mean(diff) < 1e-3


def test_results_do_not_depend_on_opencv_thread_count():
    img = np.random.default_rng(7).integers(0, 256, (300, 280, 3), dtype=np.uint8)
    before = cv2.getNumThreads()
    runs = []
    try:
        for n in (1, 4):
            cv2.setNumThreads(n)
            runs.append([psf.gaussian_blur(img, 2.0, 2), psf.gaussian_blur(img, 2.0, 2, integer_out=True),
                         psf.convolve(img, psf.line_kernel(13, 20), 2), opencv.flip(img, 1),
                         opencv.lut8(img, np.arange(256, dtype=np.uint8)[::-1].copy())])
    finally:
        cv2.setNumThreads(before)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,params", [
    ("core.Flip", {}), ("core.Rotate90", {}), ("core.Gamma", {}), ("core.BrightnessContrast", {}),
    ("core.GaussianBlur", {}), ("core.MotionBlur", {}), ("core.GaussianNoise", {}),
])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_transforms_agree_with_and_without_opencv(name, params, dtype):
    img = (np.random.default_rng(8).random((70, 66, 3)) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    if dtype == np.uint16:
        img = (img * 60000).astype(np.uint16)
    t = domaug.get_transform(name, **params)
    fast, slow = _both(lambda: t(image=img, rng=5)["image"])
    assert fast.dtype == slow.dtype == img.dtype
    tol = 1 if dtype.__name__.startswith("uint") else 1e-5
    assert np.abs(fast.astype(np.float64) - slow.astype(np.float64)).max() <= tol
    if np.issubdtype(dtype, np.integer):
        # long 8-bit line PSFs sum int16 bands (each rounded to 1/256 of a step): near-ties may flip
        limit = 1e-2 if name == "core.MotionBlur" and dtype == np.uint8 else 1e-3
        assert np.mean(fast != slow) < limit


@pytest.mark.parametrize("quality", [20, 60, 90])
@pytest.mark.parametrize("shape", [(64, 72, 3), (64, 72)])
def test_jpeg_codec_paths_agree(quality, shape):
    from domaug.transforms.jpeg_compression import jpeg_roundtrip

    rng = np.random.default_rng(9)
    img = np.clip(rng.normal(120, 40, shape), 0, 255).astype(np.uint8)
    fast, slow = _both(lambda: jpeg_roundtrip(img, quality))
    assert fast.shape == slow.shape == img.shape
    assert np.abs(fast.astype(int) - slow).mean() < 0.5  # same libjpeg quantisation tables and 4:2:0


@pytest.mark.parametrize("shape", [(5, 7), (1, 9), (3, 3, 3), (2, 40, 2)])
@pytest.mark.parametrize("sigma", [0.8, 6.0])
def test_tiny_images_reflect_like_numpy_when_the_kernel_is_wider(shape, sigma):
    a = np.random.default_rng(10).random(shape).astype(np.float32)
    fast, slow = _both(lambda: psf.gaussian_blur(a, sigma, 2))
    np.testing.assert_allclose(fast, slow, atol=1e-6)
    kernel = psf.line_kernel(9, 33)
    fast, slow = _both(lambda: psf.convolve(a, kernel, 2))
    np.testing.assert_allclose(fast, slow, atol=1e-6)


@pytest.mark.parametrize("length,angle", [(25, 30), (40, 70)])
def test_long_line_psf_on_8_bit_avoids_dft_and_stays_the_rounded_float_result(length, angle):
    # kernels with >= 130 taps in their box go through bands of rows (OpenCV would use a DFT)
    img = np.random.default_rng(8).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    kernel = psf.line_kernel(length, angle)
    assert kernel.size >= convolve_ops._CV_DFT_TAPS
    m_u8 = psf.convolve(img, kernel, 2, integer_out=True)
    diff = np.abs(m_u8.astype(int) - restore_dtype(psf.convolve(img, kernel, 2), np.uint8))
    assert diff.max() <= 1 and np.mean(diff) < 0.01
