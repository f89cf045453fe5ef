"""core.Gamma: y = FS·(x/FS)^γ, mid-grey maps to 0.5^γ, LUT path exact, log-uniform draw."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.2])
def test_mid_grey_maps_to_half_power_gamma(gamma):
    img = np.full((4, 4, 3), 0.5, np.float32)
    out = domaug.get_transform("core.Gamma", gamma=gamma)(image=img)["image"]
    np.testing.assert_allclose(out, 0.5**gamma, rtol=1e-6)


def test_endpoints_fixed_and_uint8_lut():
    img = np.tile(np.arange(256, dtype=np.uint8), (800, 1))
    out = domaug.get_transform("core.Gamma", gamma=2.2)(image=img)["image"]
    assert out.dtype == np.uint8
    assert out[0, 0] == 0 and out[0, 255] == 255
    expected = np.clip(np.rint(255 * (np.arange(256) / 255.0) ** 2.2), 0, 255)
    np.testing.assert_allclose(out[0].astype(float), expected, atol=1)
    assert out[0, 128] == round(255 * (128 / 255) ** 2.2)


def test_uint16_with_bit_depth_uses_bit_depth_full_scale():
    img = np.full((8, 8), 2048, np.uint16)
    out = domaug.get_transform("core.Gamma", gamma=2.0)(image=img, meta={"bit_depth": 12})["image"]
    assert int(out[0, 0]) == round(4095 * (2048 / 4095) ** 2)


def test_negative_values_monotonic_odd_extension():
    img = np.linspace(-1, 1, 101, dtype=np.float32)[None, :]
    out = domaug.get_transform("core.Gamma", gamma=2.0)(image=img)["image"]
    assert np.all(np.diff(out[0]) >= 0)
    np.testing.assert_allclose(out[0, 0], -1.0)


@pytest.mark.parametrize("low", [0.0, -1.0])
def test_float_black_stays_black_and_the_rest_is_the_power_law(low):
    """Exact zeros skip the power (powf's slow case): they stay 0, every other value is x^γ."""
    rng = np.random.default_rng(4)
    img = rng.uniform(low, 1.0, (40, 50)).astype(np.float32)
    img[::3] = 0.0
    out = domaug.get_transform("core.Gamma", gamma=0.7)(image=img)["image"]
    assert np.all(out[::3] == 0.0)
    expected = np.sign(img) * np.power(np.abs(img), np.float32(0.7))
    np.testing.assert_array_equal(out, expected.astype(np.float32))


def test_log_uniform_draw_is_symmetric_in_log():
    t = domaug.get_transform("core.Gamma", gamma=(0.5, 2.0))
    rng = np.random.default_rng(0)
    img = np.full((2, 2), 0.5, np.float32)
    g = [t.make_params(rng, {"image": img})["gamma"] for _ in range(4000)]
    assert abs(np.mean(np.log(g))) < 0.03
    assert min(g) >= 0.5 and max(g) <= 2.0


def test_gamma_must_be_positive():
    with pytest.raises(ParameterError, match="gamma"):
        domaug.get_transform("core.Gamma", gamma=0)
