"""Physics of the noise transforms: Rician statistics and CT dose scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug_medical import ct_noise


def _t(name, **kw):
    return domaug.get_transform(f"medical.{name}", **kw)


def test_rician_background_is_rayleigh():
    sigma = 10.0
    image = np.zeros((256, 256), np.float32)
    out = _t("RicianNoise", sigma=sigma)(image=image, rng=1)["image"]
    assert out.dtype == np.float32 and (out >= 0).all()
    mean_expected = sigma * math.sqrt(math.pi / 2)
    var_expected = (2 - math.pi / 2) * sigma**2
    assert out.mean() == pytest.approx(mean_expected, rel=0.02)
    assert out.var() == pytest.approx(var_expected, rel=0.03)


def test_rician_bright_region_is_nearly_gaussian_and_biased_upwards_by_sigma2_over_2a():
    sigma, a = 5.0, 200.0
    image = np.full((256, 256), a, np.float32)
    out = _t("RicianNoise", sigma=sigma)(image=image, rng=2)["image"]
    assert out.std() == pytest.approx(sigma, rel=0.03)
    # E|a + n| ≈ a + σ²/(2a)
    assert out.mean() == pytest.approx(a + sigma**2 / (2 * a), abs=0.1)


def test_rician_relative_sigma_and_integer_dtype():
    image = np.zeros((128, 128), np.uint16)
    image[32:96, 32:96] = 1000
    t = _t("RicianNoise", sigma_fraction=0.05)
    out = t(image=image, rng=3)
    assert out["image"].dtype == np.uint16
    assert out["applied"][0]["params"]["sigma"] == pytest.approx(50.0)
    bg = out["image"][:16].astype(float)
    assert bg.mean() == pytest.approx(50 * math.sqrt(math.pi / 2), rel=0.05)


def test_rician_parameter_errors_name_the_parameter():
    with pytest.raises(domaug.ParameterError, match="sigma_fraction"):
        _t("RicianNoise", sigma_fraction=-1)
    with pytest.raises(domaug.ParameterError, match="reference"):
        _t("RicianNoise", reference="median")


def _water_phantom(n=128, pixel=1.5, seed=0):
    yy, xx = np.mgrid[0:n, 0:n]
    hu = np.where((yy - n / 2) ** 2 + (xx - n / 2) ** 2 < (0.42 * n) ** 2, 0.0, -1000.0)
    # the full-dose input carries the noise of I0 (dose_fraction 0.5 → effective dose 1)
    noise = ct_noise.projection_noise_hu(hu, pixel_mm=pixel, i0=1e5, dose_fraction=0.5, electronic_noise=0.0,
                                         seed=seed, n_views=180, filter_name="shepp-logan")
    return (hu + noise).astype(np.float32)


def test_low_dose_ct_noise_scales_with_inverse_sqrt_dose_and_keeps_mean():
    d1, d2 = 0.5, 0.125
    roi = (slice(44, 84), slice(44, 84))
    stds = {d1: [], d2: []}
    for seed in range(3):
        image = _water_phantom(seed=seed)
        base_mean = image[roi].mean()
        for d in (d1, d2):
            t = _t("LowDoseCT", dose_fraction=d, electronic_noise=0.0, n_views=180, i0=1e5, filter_name="shepp-logan")
            out = t(image=image, meta={"spacing": [1.5, 1.5], "modality": "CT"}, rng=100 + seed)["image"]
            assert abs(out[roi].mean() - base_mean) < 4.0  # HU
            stds[d].append(out[roi].std())
    ratio = np.mean(stds[d2]) / np.mean(stds[d1])
    assert ratio == pytest.approx(math.sqrt(d1 / d2), rel=0.15)


def test_low_dose_ct_full_dose_is_identity_and_int16_kept():
    image = (_water_phantom() ).astype(np.int16)
    out = _t("LowDoseCT", dose_fraction=1.0)(image=image, rng=1)["image"]
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, image)


def test_low_dose_ct_image_mode_has_requested_std_and_correlated_texture():
    vol = np.zeros((8, 96, 96), np.float32)
    f = 0.25
    t = _t("LowDoseCT", dose_fraction=f, full_dose_noise_hu=10.0)
    out = t(image=vol, meta={"spacing": [2.0, 0.8, 0.8]}, rng=5)
    assert out["applied"][0]["params"]["mode"] == "image"
    noise = out["image"]
    assert noise.std() == pytest.approx(10.0 * math.sqrt(1 / f - 1), rel=0.05)
    # not white: neighbouring pixels in-plane are correlated (ramp × apodisation NPS)
    lag1 = np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1]
    assert abs(lag1) > 0.1
    # slices are independent
    lagz = np.corrcoef(noise[:-1].ravel(), noise[1:].ravel())[0, 1]
    assert abs(lagz) < 0.05
