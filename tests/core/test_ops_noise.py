"""domaug.ops.noise: the seeded white-normal generators."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from domaug.ops.noise import white_normal


@pytest.mark.parametrize("exact", [False, True])
def test_standard_normal_moments_and_whiteness(exact):
    x = white_normal(3, (400, 500), np.float32, exact=exact)
    assert x.dtype == np.float32 and x.shape == (400, 500)
    assert abs(float(x.mean())) < 0.01 and abs(float(x.std()) - 1) < 0.01
    assert abs(stats.skew(x.ravel())) < 0.02 and abs(stats.kurtosis(x.ravel())) < 0.05
    assert abs(np.corrcoef(x[:, :-1].ravel(), x[:, 1:].ravel())[0, 1]) < 0.01
    # tail probabilities of N(0, 1)
    assert np.mean(np.abs(x) > 2) == pytest.approx(0.0455, abs=0.003)


def test_seeded_and_float64():
    a = white_normal(1, (10, 10), np.float64)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, white_normal(1, (10, 10), np.float64))
    assert not np.array_equal(a, white_normal(2, (10, 10), np.float64))


def test_exact_float32_is_continuous_normal_and_fast_path_scale():
    x = white_normal(11, (300_000,), np.float32, exact=True)
    assert stats.kstest(x.astype(np.float64), "norm").pvalue > 1e-3
    assert len(np.unique(x)) > 290_000          # continuous, not a 2¹⁶-level table
    assert np.abs(x).max() < 6.0
    y = white_normal(11, (1000, 3), np.float32, exact=False, scale=2.5)
    np.testing.assert_allclose(y, 2.5 * white_normal(11, (1000, 3), np.float32), rtol=1e-6)
