"""domaug.ops.bands: one band lookup that every domain configures with its own table."""

import numpy as np
import pytest

from domaug.kit import BandNaming, UnsupportedInputError, footprint

THERMAL = BandNaming(role_nm={"red": 660.0, "nir": 850.0, "lwir": 10800.0}, unknown="unknown",
                     aliases={"tir": "lwir", "b10": "lwir"}, by_count={2: ("red", "lwir")})


def sample(bands, **meta):
    return {"image": np.zeros((4, 5, bands), np.float32), "meta": meta}


def test_names_come_from_meta_with_aliases_else_from_the_band_count():
    assert THERMAL.names(sample(3, band_names=["Red", " TIR ", None])) == ["red", "lwir", "unknown"]
    assert THERMAL.names(sample(2)) == ["red", "lwir"]  # the domain's default for 2 bands
    assert THERMAL.names(sample(4)) == ["unknown"] * 4
    assert THERMAL.names(sample(2, band_names=["nir"])) == ["red", "lwir"]  # wrong length: ignored
    strict = BandNaming(role_nm={}, strict=True)
    with pytest.raises(UnsupportedInputError, match="names 1 bands but the image has 2"):
        strict.names(sample(2, band_names=["nir"]))


def test_roles_and_wavelengths():
    s = sample(3, band_names=["nir", "red", "b10"], wavelengths_nm=[None, 655.0, 0])
    assert THERMAL.roles(s) == {"nir": 0, "red": 1, "lwir": 2}
    assert THERMAL.wavelengths_nm(s) == [850.0, 655.0, 10800.0]  # None/0: the role's centre


def test_footprint_is_valid_and_alpha():
    image = np.ones((4, 5, 4), np.uint8)
    image[0, :, 3] = 0  # transparent row
    valid = np.ones((4, 5), bool)
    valid[:, 0] = False
    fp = footprint({"image": image, "valid": valid}, alpha_band=3)
    expected = valid.copy()
    expected[0] = False
    np.testing.assert_array_equal(fp, expected)
    assert footprint({"image": np.ones((4, 5, 3), np.uint8)}) is None  # everything holds data
