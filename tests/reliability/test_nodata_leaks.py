"""Nodata never leaks into valid pixels, for every pixel-level transform (hypothesis), and
the regressions that property found (NaN nodata, nodata at the dtype or bit-depth maximum)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

import domaug
from domaug.targets import kind_of
from domaug.transform import SpatialTransform

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _property_support import (  # noqa: E402
    BAND_NAMES, EXAMPLES, NAMES, REFUSALS, _param, draw_sample, run_property,
)


# -- nodata contents never leak into valid pixels ---------------------------------------
#: name → reason: transforms whose valid output depends on what the nodata pixels hold.
_NAN = "a nodata border (valid target + meta nodata), e.g. float32 NaN: "
LEAKS: dict[str, str] = {}
PIXEL_LEVEL = [n for n in NAMES if not issubclass(domaug.registry.get_transform_class(n), SpatialTransform)]


def _no_leak(name, data):
    cls = domaug.registry.get_transform_class(name)
    how = data.draw(st.sampled_from(["nan", "-9999", "int-lo", "int-hi"]), label="nodata kind")
    case, sample = draw_sample(data, name, forced_nodata=how)
    sample = {k: v for k, v in sample.items() if kind_of(k) in cls.targets}
    valid = sample.get("valid")
    if valid is None or valid.all() or not valid.any():
        return
    seed = data.draw(st.integers(0, 2**63 - 1), label="transform seed")
    image = sample["image"]
    finite = image.copy()
    inside = image[valid]
    finite[~valid] = np.asarray(np.mean(inside, dtype=np.float64)).round(0 if image.dtype.kind in "ui" else 6)
    try:
        a = cls()(rng=seed, **sample)["image"]
        b = cls()(rng=seed, **{**sample, "image": finite})["image"]
    except REFUSALS:
        return
    assert np.isfinite(a[valid]).all(), f"{name}: nodata made valid pixels non-finite"
    # tolerance: 2 % of the valid data's spread (at least 1 unit)
    spread = max(float(np.ptp(inside)), 1.0)
    diff = np.abs(a[valid].astype(np.float64) - b[valid].astype(np.float64))
    bad = diff > 0.02 * spread
    assert not bad.any(), (
        f"{name} [{case}]: {bad.mean():.1%} of valid pixels change (up to {diff.max():.3g}) when the nodata "
        f"pixels hold the nodata value ({how}) instead of the valid mean: nodata leaks into valid data")


@pytest.mark.parametrize("name", [_param(n, LEAKS) for n in PIXEL_LEVEL])
def test_nodata_does_not_leak_into_valid_pixels(name):
    """A nodata border (NaN, -9999, 0 or the dtype maximum, as in GeoTIFFs and masked volumes)
    must not wipe or shift valid pixels: valid output is the same whatever nodata pixels hold."""
    run_property(_no_leak, name, EXAMPLES // 2 + 1, LEAKS)


FIXED_LEAKS = ["core.JPEGCompression", "satellite.BandMisregistration", "medical.Blur", "medical.Ghosting", "medical.GibbsRinging", "medical.LowDoseCT", "medical.Motion",
               "medical.Spike", "medical.SyntheticLesion", "agriculture.BandMisalignment",
               "agriculture.FlightMotionBlur"]


@pytest.mark.parametrize("name", FIXED_LEAKS)
def test_nan_nodata_regressions(name):
    """Found by the property above and fixed: NaN nodata crashed LowDoseCT (Poisson of NaN) and
    wiped whole images in the k-space transforms (NaN through the FFT, then NaN → 0)."""
    rng = np.random.default_rng(5)
    if name.startswith("medical"):
        image = rng.uniform(-100, 200, (24, 28)).astype(np.float32)
        mr_only = name in ("medical.Ghosting", "medical.Motion", "medical.Spike")  # refuse CT (issue 18)
        meta = {"modality": "MR" if mr_only else "CT", "spacing": [0.8, 0.8]}
    else:
        image = rng.uniform(0.05, 0.6, (24, 28, 5)).astype(np.float32)
        meta = {"band_names": list(BAND_NAMES[5])}
    valid = np.ones(image.shape[:2], bool)
    valid[:, :5] = False
    nan_img = image.copy()
    nan_img[~valid] = np.nan
    fill_img = image.copy()
    fill_img[~valid] = float(image[valid].mean())
    kwargs = {"gsd_m": 0.01} if name == "agriculture.FlightMotionBlur" else {}  # a few px of smear
    t = domaug.get_transform(name, **kwargs)
    a = t(image=nan_img, valid=valid, meta={**meta, "nodata": float("nan")}, rng=11)["image"]
    b = t(image=fill_img, valid=valid, meta={**meta, "nodata": float("nan")}, rng=11)["image"]
    assert np.isfinite(a[valid]).all()
    np.testing.assert_allclose(a[valid], b[valid], rtol=0, atol=1e-3 * float(np.ptp(image)))
    assert np.isnan(a[~valid]).all()  # nodata restored bit-exact


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_nodata_at_dtype_maximum(dtype):
    """GeoTIFFs often use 255 (uint8) or 65535 (uint16) as nodata; a brightened valid pixel
    that lands on it must be nudged to max-1, not crash."""
    top = np.iinfo(dtype).max
    image = np.full((4, 6, 3), top - 5, dtype)
    image[:, 0] = top
    valid = np.ones((4, 6), bool)
    valid[:, 0] = False
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.1, contrast=1.0)(
        image=image, valid=valid, meta={"nodata": int(top)}, rng=0)["image"]
    assert (out[:, 0] == top).all() and (out[:, 1:] == top - 1).all()


def test_integer_nodata_at_bit_depth_maximum():
    image = np.full((4, 6), 4000, np.uint16)
    image[:, 0] = 4095
    valid = np.ones((4, 6), bool)
    valid[:, 0] = False
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.1, contrast=1.0)(
        image=image, valid=valid, meta={"nodata": 4095, "bit_depth": 12}, rng=0)["image"]
    assert out.max() <= 4095 and (out[:, 1:] == 4094).all()
