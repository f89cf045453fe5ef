"""Property checks over band counts, dtypes and nodata for every satellite pixel transform."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domaug

PIXEL = ["satellite.CloudCover", "satellite.Haze", "satellite.SensorNoise", "satellite.Striping",
         "satellite.Illumination", "satellite.BandMisregistration"]


@pytest.mark.parametrize("name", PIXEL)
@settings(max_examples=8, deadline=None)
@given(bands=st.integers(2, 13), dtype=st.sampled_from(["uint8", "uint16", "int16", "float32"]),
       nodata=st.sampled_from([0, None]), seed=st.integers(0, 2**31))
def test_nodata_dtype_and_range(name, bands, dtype, nodata, seed):
    rng = np.random.default_rng(seed)
    scale = {"uint8": 200, "uint16": 9000, "int16": 9000, "float32": 0.6}[dtype]
    image = (rng.random((24, 28, bands)) * scale + (1 if dtype != "float32" else 0.01)).astype(dtype)
    valid = np.ones((24, 28), bool)
    meta = {"wavelengths_nm": list(np.linspace(450.0, 2200.0, bands))}  # Haze needs them declared
    if nodata is not None:
        valid[:, :4] = False
        image[~valid] = nodata
        meta["nodata"] = nodata
    out = domaug.get_transform(name)(image=image, valid=valid, meta=meta, rng=seed)
    new = out["image"]
    assert new.dtype == image.dtype and new.shape == image.shape
    np.testing.assert_array_equal(new[~valid], image[~valid])
    if nodata is not None:
        assert not (new[valid] == nodata).all(axis=-1).any()
    if dtype == "float32":
        assert np.isfinite(new).all()
