"""domaug.ops.intensity.pointwise: the lookup-table path equals the float path."""

from __future__ import annotations

import numpy as np
import pytest

from domaug.dtypes import restore_dtype, to_float
from domaug.ops import intensity


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_lut_equals_float_path(dtype, monkeypatch):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    img = rng.integers(info.min, info.max, size=(500, 500), dtype=dtype, endpoint=True)
    def fn(x):
        return np.sign(x) * np.abs(x) ** 0.8 * 1.3 + 7
    meta = {}
    fast = intensity.pointwise(img, fn, meta)
    assert fast.dtype == img.dtype  # came through the table
    monkeypatch.setattr(intensity, "LUT_MIN_PIXELS", {1: 10**12, 2: 10**12})
    slow = intensity.pointwise(img, fn, meta)
    assert slow.dtype == np.float32
    np.testing.assert_array_equal(fast, restore_dtype(slow, dtype, meta))


def test_float_images_are_not_mutated():
    img = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    before = img.copy()
    def fn(x):
        x *= 2
        return x
    out = intensity.pointwise(img, fn, None)
    np.testing.assert_array_equal(img, before)
    np.testing.assert_allclose(out, to_float(before) * 2)


@pytest.mark.parametrize("shape", [(3, 5), (7, 9, 3), (10, 10, 4)])
def test_uint8_pair_table_matches_plain_lookup(shape):
    img = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    out = intensity.pointwise(img, lambda x: 255 - x, {})
    np.testing.assert_array_equal(out, 255 - img)
    view = np.asfortranarray(img)  # not C-contiguous: plain lookup path
    np.testing.assert_array_equal(intensity.pointwise(view, lambda x: 255 - x, {}), 255 - img)
