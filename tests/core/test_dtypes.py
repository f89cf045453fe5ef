import numpy as np

from domaug.dtypes import avoid_nodata, finish, full_scale, restore_dtype, value_range


def test_ranges_and_full_scale():
    assert value_range(np.uint16, {"bit_depth": 12}) == (0, 4095)
    assert value_range(np.int16) == (-32768, 32767)
    assert full_scale(np.uint8) == 255 and full_scale(np.float32) == 1.0
    assert full_scale(np.float32, {"full_scale": 10000}) == 10000


def test_restore_rounds_half_even_and_clips():
    x = np.array([-3.0, 0.5, 1.5, 254.6, 300.0, np.nan], np.float32)
    np.testing.assert_array_equal(restore_dtype(x.copy(), np.uint8), [0, 0, 2, 255, 255, 0])
    y = np.array([5000.0, 4095.4], np.float32)
    np.testing.assert_array_equal(restore_dtype(y, np.uint16, {"bit_depth": 12}), [4095, 4095])


def test_nodata_restored_and_avoided():
    image = np.array([[0, 10], [20, 30]], np.uint8)
    valid = image != 0
    result = np.array([[99.0, 0.2], [19.6, 30.0]], np.float32)  # valid pixel darkened onto 0
    out = finish(result, {"image": image, "meta": {"nodata": 0}}, valid)
    assert out[0, 0] == 0  # nodata pixel put back
    assert out[0, 1] == 1  # valid pixel nudged off nodata
    assert out[1, 0] == 20 and out.dtype == np.uint8
    f = np.array([-9999.0, 1.0], np.float32)
    g = avoid_nodata(f.copy(), np.array([True, True]), -9999.0)
    assert g[0] != -9999.0 and abs(g[0] + 9999.0) < 1e-3


def test_out_of_range_nodata_is_ignored_for_integers():
    out = avoid_nodata(np.array([0, 5], np.uint8), None, -10000)
    np.testing.assert_array_equal(out, [0, 5])


def test_nudge_goes_inward_at_the_top_of_the_range():
    out = avoid_nodata(np.array([255, 7], np.uint8), None, 255)
    np.testing.assert_array_equal(out, [254, 7])
    out = avoid_nodata(np.array([4095, 7], np.uint16), None, 4095, {"bit_depth": 12})
    np.testing.assert_array_equal(out, [4094, 7])
    out = avoid_nodata(np.array([65535], np.uint16), None, 65535)
    assert out[0] == 65534
    f = avoid_nodata(np.array([1.0], np.float32), None, 1.0, {"valid_range": [0, 1]})
    assert f[0] < 1.0
