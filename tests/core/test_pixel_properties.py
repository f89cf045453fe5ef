"""Property tests over the core pixel transforms: any dtype, band count and small shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domaug

NAMES = ["core.GaussianBlur", "core.MotionBlur", "core.BrightnessContrast", "core.Gamma",
         "core.GaussianNoise", "core.JPEGCompression", "core.CoarseDropout"]
DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.float64]


@st.composite
def images(draw):
    dtype = draw(st.sampled_from(DTYPES))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    bands = draw(st.sampled_from([None, 1, 2, 3, 4, 7]))
    shape = (h, w) if bands is None else (h, w, bands)
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        img = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    else:
        img = rng.random(shape).astype(dtype)
    return img


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(img=images(), seed=st.integers(0, 1000))
def test_any_dtype_band_count_and_shape(name, img, seed):
    before = img.copy()
    out = domaug.get_transform(name)(image=img, rng=seed)
    np.testing.assert_array_equal(img, before)          # never mutates
    new = out["image"]
    assert new.dtype == img.dtype and new.shape == img.shape
    if np.issubdtype(new.dtype, np.floating):
        assert np.isfinite(new).all()
    again = domaug.replay(out["applied"], image=img)["image"]
    np.testing.assert_array_equal(again, new)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(dtype=st.sampled_from(DTYPES), d=st.integers(1, 6), h=st.integers(1, 12), w=st.integers(1, 12),
       bands=st.sampled_from([None, 2]), seed=st.integers(0, 1000))
def test_volumes(name, dtype, d, h, w, bands, seed):
    shape = (d, h, w) if bands is None else (d, h, w, bands)
    img = (np.random.default_rng(seed).random(shape) * 100).astype(dtype)
    t = domaug.get_transform(name)
    if name == "core.MotionBlur":
        with pytest.raises(domaug.UnsupportedInputError):
            t(image=img, meta={"spatial_ndim": 3}, rng=seed)
        return
    out = t(image=img, meta={"spatial_ndim": 3}, rng=seed)["image"]
    assert out.dtype == img.dtype and out.shape == img.shape
