"""Blur (PSF FWHM in mm, anisotropic spacing, padding) and WindowedContrast (HU window)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug


def _t(name, **kw):
    return domaug.get_transform(f"medical.{name}", **kw)


def test_blur_psf_width_in_mm_on_anisotropic_grid():
    img = np.zeros((65, 65), np.float64)
    img[32, 32] = 1.0
    spacing = (0.5, 2.0)
    fwhm = 4.0
    out = _t("Blur", fwhm_mm=fwhm)(image=img, meta={"spacing": list(spacing)}, rng=0)["image"]
    assert out.sum() == pytest.approx(1.0, rel=1e-6)
    for axis, s in enumerate(spacing):
        profile = out.sum(axis=1 - axis)
        x = (np.arange(65) - 32) * s
        sigma_mm = math.sqrt(np.sum(profile * x**2))
        assert sigma_mm * 2 * math.sqrt(2 * math.log(2)) == pytest.approx(fwhm, rel=0.05)


def test_blur_keeps_padding_out_of_the_image():
    img = np.full((32, 32), 40, np.int16)
    img[:, :4] = -3024  # padding outside the field of view
    valid = np.ones((32, 32), bool)
    valid[:, :4] = False
    out = _t("Blur", fwhm_mm=5.0)(image=img, valid=valid, rng=0)["image"]
    np.testing.assert_array_equal(out[:, :4], img[:, :4])
    assert (out[:, 4:] == 40).all()


def test_windowed_contrast_changes_only_the_window():
    hu = np.linspace(-1000, 1000, 2001).astype(np.float32)[None, :]
    out = _t("WindowedContrast", window_center=40, window_width=400, gamma=0.5)(image=hu, rng=0)["image"]
    outside = (hu < -160) | (hu > 240)
    np.testing.assert_array_equal(out[outside], hu[outside])
    inside = ~outside
    assert (np.diff(out[inside]) >= 0).all()  # monotone
    assert (out[inside] >= hu[inside] - 1e-4).all()  # γ < 1 brightens
    mid = np.argmin(np.abs(hu[0] - 40))
    assert out[0, mid] == pytest.approx(-160 + 400 * 0.5**0.5, abs=0.5)
