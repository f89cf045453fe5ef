"""Whole-raster helpers shared by the plugins: spreading a plane over bands, blocks of rows."""

import numpy as np
import pytest

from domaug.kit import block_rows, row_blocks, spread


@pytest.mark.parametrize("bands_", [1, 2, 4, 5, 12])
def test_spread_repeats_each_pixel_for_its_bands(bands_, both_paths):
    f = np.random.default_rng(bands_).random((7, 33)).astype(np.float32)
    fast, ref = both_paths(lambda: spread(f, bands_, np.empty((7, 33 * bands_), np.float32)))
    np.testing.assert_array_equal(fast, np.repeat(f, bands_, axis=1))
    np.testing.assert_array_equal(ref, np.repeat(f, bands_, axis=1))
    assert fast.shape == (7, 33 * bands_)  # the rows layout the band math works on
    np.testing.assert_array_equal(spread(f, bands_), np.repeat(f, bands_, axis=1).reshape(7, 33, bands_))


def test_row_blocks_cover_the_rows_once():
    blocks = row_blocks(3, 1000, 700)
    assert blocks[0][0] == 3 and blocks[-1][1] == 1000
    assert all(a < b and b == c for (a, b), (c, _) in zip(blocks, blocks[1:]))
    assert all(b - a == block_rows(997, 700) for a, b in blocks[:-1])
