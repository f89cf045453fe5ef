"""domaug.ops.color: the sRGB curves (IEC 61966-2-1) and Rec.709 luminance."""

from __future__ import annotations

import numpy as np

from domaug.ops.color import linear_to_srgb, linear_to_srgb8, luminance, srgb_to_linear


def test_known_values():
    # sRGB 0.5 is 21.4 % linear light; 18 % grey encodes to ~0.4613
    np.testing.assert_allclose(srgb_to_linear(np.array([0.0, 0.5, 1.0])), [0.0, 0.21404, 1.0], atol=1e-5)
    np.testing.assert_allclose(linear_to_srgb(np.array([0.18])), [0.46135], atol=1e-4)
    # linear toe segment
    np.testing.assert_allclose(srgb_to_linear(np.array([0.04])), [0.04 / 12.92], rtol=1e-6)


def test_round_trip_and_continuity():
    x = np.linspace(0, 1, 10001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-9)
    y = srgb_to_linear(x)
    assert np.all(np.diff(y) >= 0)
    assert np.abs(np.diff(y)).max() < 1e-3  # no jump at the piecewise knee


def test_dtype_kept_and_clipping():
    x = np.array([-0.2, 0.3, 1.4], dtype=np.float32)
    y = srgb_to_linear(x)
    assert y.dtype == np.float32 and y[0] == 0 and y[2] == 1
    assert srgb_to_linear(np.array([128], dtype=np.uint8) / 255.0).dtype == np.float64


def test_luminance_weights():
    rgb = np.eye(3)
    np.testing.assert_allclose(luminance(rgb), [0.2126, 0.7152, 0.0722])
    assert abs(float(luminance(np.ones(3))) - 1.0) < 1e-12


def _exact_codes(x: np.ndarray) -> np.ndarray:
    """sRGB code (float, before rounding) of linear x clipped to [0, 1], in float64."""
    x = np.clip(x.astype(np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055) * 255.0


def test_encode_is_within_a_fortieth_of_a_code_of_exact_srgb(both_paths):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-0.1, 1.1, 200_000), rng.uniform(0.0, 0.004, 100_000),  # steepest part
                        (np.arange(256) / 255.0) ** 2.4, [0.0, 1.0, -0.0, 7.5, -3.0]]).astype(np.float32)
    x = x[: x.size // 4 * 4].reshape(4, -1)
    fast, ref = both_paths(lambda: linear_to_srgb8(x.copy()))
    np.testing.assert_array_equal(fast, ref)  # OpenCV and numpy compute the same table index
    exact = _exact_codes(x)
    # the table's argument is off by ≤ 0.5/65535 (slope ≤ 12.92·255 codes per unit): the
    # code is the rounding of a value within 0.026 of exact
    assert np.abs(fast - exact).max() <= 0.5 + 0.026
    clear = np.abs(exact - np.floor(exact) - 0.5) > 0.026  # not within 0.026 of a rounding tie
    np.testing.assert_array_equal(fast[clear], np.rint(exact[clear]))
    assert clear.mean() > 0.9
