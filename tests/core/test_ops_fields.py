"""domaug.ops.fields: fractal noise and smooth fields are window-consistent, periodic, normalised."""

from __future__ import annotations

import numpy as np
import pytest

from domaug.ops.fields import fractal_noise, smooth_field


@pytest.mark.parametrize("offset", [(0, 0), (37, 101), (200, 5)])
def test_fractal_window_equals_full_evaluation_exactly(offset):
    full = fractal_noise((256, 320), seed=11, scale_px=40)
    r, c = offset
    win = fractal_noise((50, 70), seed=11, scale_px=40, offset=offset)
    np.testing.assert_array_equal(win, full[r:r + 50, c:c + 70])


def test_fractal_window_with_negative_offset_matches_shifted_origin():
    a = fractal_noise((60, 60), seed=3, scale_px=16, offset=(-30, -30))
    b = fractal_noise((30, 30), seed=3, scale_px=16)
    np.testing.assert_array_equal(a[30:, 30:], b)


def test_fractal_3d_window_consistency():
    full = fractal_noise((24, 40, 48), seed=5, scale_px=10, octaves=3)
    win = fractal_noise((8, 16, 20), seed=5, scale_px=10, octaves=3, offset=(9, 13, 21))
    np.testing.assert_array_equal(win, full[9:17, 13:29, 21:41])


def test_fractal_periodic_tiles_seamlessly():
    p = 128
    big = fractal_noise((2 * p, 2 * p), seed=9, scale_px=37, period=p)
    # value at r equals value at r + P, on both axes
    np.testing.assert_allclose(big[:p, :p], big[p:, p:], atol=1e-6)
    np.testing.assert_allclose(big[:p, :p], big[:p, p:], atol=1e-6)
    # and the wrap seam is as smooth as the interior (no jump between column P-1 and P of a tile)
    tile = big[:p, :p]
    seam = np.abs(tile[:, 0] - tile[:, -1]).mean()
    interior = np.abs(np.diff(tile, axis=1)).mean()
    assert seam < 2.5 * interior


def test_fractal_non_periodic_does_not_tile():
    big = fractal_noise((256, 256), seed=9, scale_px=37)
    assert np.abs(big[:128, :128] - big[128:, 128:]).mean() > 0.3


def test_fractal_statistics_and_dtype():
    x = fractal_noise((512, 512), seed=1, scale_px=16)
    assert x.dtype == np.float32 and x.shape == (512, 512)
    assert abs(float(x.mean())) < 0.05
    assert 0.9 < float(x.std()) < 1.1
    v = fractal_noise((48, 96, 96), seed=2, scale_px=8)
    assert abs(float(v.mean())) < 0.05 and 0.9 < float(v.std()) < 1.1


def test_fractal_seed_matters_and_is_reproducible():
    a = fractal_noise((64, 64), seed=1, scale_px=16)
    np.testing.assert_array_equal(a, fractal_noise((64, 64), seed=1, scale_px=16))
    assert np.abs(a - fractal_noise((64, 64), seed=2, scale_px=16)).mean() > 0.3


def test_fractal_scale_sets_feature_size():
    """Correlation at a lag of scale/8 is high; at 2·scale it is near zero."""
    x = fractal_noise((512, 512), seed=4, scale_px=64, octaves=1)
    def corr(lag):
        return float(np.corrcoef(x[:, :-lag].ravel(), x[:, lag:].ravel())[0, 1])
    assert corr(8) > 0.8
    assert abs(corr(128)) < 0.15


def test_smooth_field_unit_variance_correlation_and_windows():
    f = smooth_field((512, 512), seed=7, correlation_px=12)
    assert f.dtype == np.float32
    assert abs(float(f.mean())) < 0.1 and 0.85 < float(f.std()) < 1.15
    c = float(np.corrcoef(f[:, :-12].ravel(), f[:, 12:].ravel())[0, 1])
    assert abs(c - np.exp(-0.5)) < 0.08  # Gaussian correlation exp(-r²/2ℓ²) at r = ℓ
    win = smooth_field((40, 50), seed=7, correlation_px=12, offset=(100, 200))
    np.testing.assert_array_equal(win, f[100:140, 200:250])


def test_smooth_field_3d():
    f = smooth_field((16, 32, 32), seed=1, correlation_px=(2, 4, 4))
    assert f.shape == (16, 32, 32) and np.isfinite(f).all()


def test_bad_arguments():
    with pytest.raises(ValueError):
        fractal_noise((10, 10), seed=1, scale_px=0)
    with pytest.raises(ValueError):
        fractal_noise((10, 10, 10, 10), seed=1, scale_px=4)
    with pytest.raises(ValueError):
        smooth_field((10, 10), seed=1, correlation_px=(1, 2, 3))
