"""The ``out=`` variants of the driving kernels (scratch buffers against page faults) give the
same values, bit for bit, as the allocating calls, and reused buffers never leak between calls."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug_driving import atmosphere
from domaug_driving.depth import camera_from, depth_of_sample, scene_depth
from domaug_driving.fields import noise_field, std32
from domaug_driving.road import upsample2, upsample2_into


def _garbage(shape, fill=np.nan):
    """A float32 array full of NaN: every pixel an ``out=`` call leaves unwritten shows."""
    return np.full(shape, fill, dtype=np.float32)


@pytest.mark.parametrize("rows, cols", [(8, 10), (7, 10), (8, 9), (7, 9), (1, 1), (2, 1), (1, 3)])
def test_upsample2_into_equals_upsample2_cropped(both_paths, rows, cols):
    half = np.random.default_rng(0).random(((rows + 1) // 2, (cols + 1) // 2), dtype=np.float32)

    def run():
        ref = upsample2(half, rows, cols).copy()
        out = upsample2_into(half, _garbage((rows, cols)))
        big = _garbage((rows, cols + 5))  # a row-strided view of a larger array
        upsample2_into(half, big[:, :cols])
        assert np.isnan(big[:, cols:]).all()
        return ref, out, big[:, :cols].copy()

    for ref, out, view in both_paths(run):
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(view, ref)


@pytest.mark.parametrize("a", [
    np.random.default_rng(2).standard_normal((123, 77)).astype(np.float32) * 3 + 1,
    np.random.default_rng(3).random((256, 256), dtype=np.float32) * 1e4,
    np.full((5, 7), 0.1, np.float32),
    np.array([[2.5]], np.float32),
])
def test_std32_is_numpys_std_bit_for_bit(a):
    work = _garbage(a.shape)
    assert std32(a, work) == float(a.std())


@pytest.mark.parametrize("shape, scale", [((70, 90), 40.0), ((130, 97), 100.0)])
def test_noise_field_into_out_equals_the_allocating_call(both_paths, shape, scale):
    def run():
        ref = noise_field(shape, seed=5, scale_px=scale)
        return ref, noise_field(shape, seed=5, scale_px=scale, out=_garbage(shape))

    for ref, out in both_paths(run):
        np.testing.assert_array_equal(out, ref)
        assert ref.shape == shape and ref.dtype == np.float32 and 0.3 < float(ref.std()) < 3.0
        if scale >= 64:  # evaluated coarse, upsampled and renormalised over the frame
            assert abs(float(ref.mean())) < 1e-3 and float(ref.std()) == pytest.approx(1.0, rel=1e-3)


def test_scene_depth_into_out_equals_the_allocating_call():
    h, w = 48, 64
    cam = camera_from((h, w))
    road = np.zeros((h, w), np.uint8)
    road[30:, 10:50] = 1
    sky = np.zeros((h, w), bool)
    sky[:12] = True
    boxes = np.array([[5.0, 20.0, 20.0, 34.5], [40.0, 25.0, 60.0, 40.0]])
    kw = {"camera": cam, "bboxes": boxes, "sky_mask": sky, "road_mask": road}
    np.testing.assert_array_equal(scene_depth((h, w), **kw, out=_garbage((h, w))), scene_depth((h, w), **kw))
    img = np.random.default_rng(4).integers(0, 256, (h, w, 3)).astype(np.uint8)
    sample = {"image": img, "bboxes": boxes}
    np.testing.assert_array_equal(depth_of_sample(sample, cam, out=_garbage((h, w))), depth_of_sample(sample, cam))


def test_fog_lookup_table_does_not_depend_on_the_previous_airlight():
    img = np.random.default_rng(5).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    t = np.linspace(0.05, 1.0, 24 * 32, dtype=np.float32).reshape(24, 32)
    first = atmosphere.koschmieder_srgb8(img, t, 0.8)
    other = atmosphere.koschmieder_srgb8(img, t, 0.3)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(atmosphere.koschmieder_srgb8(img, t, 0.8), first)


@pytest.mark.parametrize("name, kw", [("Fog", {}), ("Fog", {"airlight": "estimate", "scatter_blur_px": 1.5}),
                                      ("MotionBlur", {}), ("MotionBlur", {"mode": "lateral"}), ("SunGlare", {}),
                                      ("LensDroplets", {"dirt": 0.5})])
def test_scratch_buffers_never_leak_between_calls(name, kw):
    t = domaug.get_transform(f"driving.{name}", **kw)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (96, 128, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (96, 128, 3)).astype(np.uint8)
    first = t(image=a, rng=5)
    t(image=b, rng=6)
    t(image=a[:64, :80].copy(), rng=7)  # another shape in between
    again = t(image=a, rng=5)
    for key in ("image", "transmission"):
        if key in first:
            np.testing.assert_array_equal(again[key], first[key])
            assert not np.shares_memory(again[key], first[key])


def test_scratch_memory_only_grows_and_smaller_requests_reuse_it():
    from domaug_driving.scratch import buffer

    big = buffer("test_grow", (64, 80))
    small = buffer("test_grow", (3, 5), np.uint16, zero=True)
    assert np.shares_memory(big, small) and small.flags.c_contiguous and small.shape == (3, 5)
    assert small.dtype == np.uint16 and not small.any()
    again = buffer("test_grow", (64, 80), zero=True)
    assert np.shares_memory(big, again) and again.shape == (64, 80) and not again.any()
    bigger = buffer("test_grow", (65, 80))
    assert bigger.shape == (65, 80) and not np.shares_memory(big, bigger)


@pytest.mark.parametrize("name", ["Snow", "Fog", "MotionBlur", "SunGlare"])
def test_threads_get_their_own_scratch_buffers(name):
    from concurrent.futures import ThreadPoolExecutor

    t = domaug.get_transform(f"driving.{name}")
    img = np.random.default_rng(8).integers(0, 256, (80, 112, 3)).astype(np.uint8)
    serial = [t(image=img, rng=seed)["image"] for seed in range(6)]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(lambda seed: t(image=img, rng=seed)["image"], range(6)))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
