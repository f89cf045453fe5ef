"""Band roles, wavelengths, DN scaling and ground geometry helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from domaug_satellite import bands


def s(image, **meta):
    return {"image": image, "meta": meta}


def test_roles_and_wavelengths_defaults_and_overrides():
    assert bands.SATELLITE.names(s(np.zeros((4, 4, 3)))) == ["red", "green", "blue"]
    assert bands.SATELLITE.names(s(np.zeros((4, 4, 4)))) == ["red", "green", "blue", "nir"]
    assert bands.SATELLITE.names(s(np.zeros((4, 4, 12))))[10:] == ["swir1", "swir2"]
    assert bands.SATELLITE.wavelengths_nm(s(np.zeros((4, 4, 4)), band_names=["blue", "green", "red", "nir"])) == \
        [490.0, 560.0, 665.0, 842.0]
    assert bands.SATELLITE.wavelengths_nm(s(np.zeros((4, 4, 2)), band_names=["swir1", "x"], wavelengths_nm=[None, 1000])) == \
        [1610.0, 1000.0]
    assert bands.SATELLITE.wavelengths_nm(s(np.zeros((4, 4, 5)))) == [550.0] * 5
    assert bands.SATELLITE.names(s(np.zeros((4, 4, 2)), band_names=["Red", None])) == ["red", "unknown"]
    assert bands.SATELLITE.names(s(np.zeros((4, 4, 3)), band_names=["nir"])) == ["red", "green", "blue"]  # ignored


def test_reflectance_scaling_heuristics_and_metadata():
    rng = np.random.default_rng(0)
    landsat_l1 = (7000 + rng.random((32, 32, 2)) * 8000).astype(np.uint16)
    assert bands.reflectance_scaling(s(landsat_l1)) == ([2e-5, 2e-5], [-0.1, -0.1])
    s2 = (200 + rng.random((32, 32, 2)) * 4000).astype(np.uint16)
    assert bands.reflectance_scaling(s(s2)) == ([1e-4, 1e-4], [0.0, 0.0])
    assert bands.reflectance_scaling(s(s2.astype(np.uint8)))[0] == [1 / 255] * 2
    assert bands.reflectance_scaling(s(rng.random((8, 8, 3)).astype(np.float32)))[0] == [1.0] * 3
    assert bands.reflectance_scaling(s(s2, bit_depth=12))[0] == [1 / 4095] * 2
    assert bands.reflectance_scaling(s(s2, scales=[1e-4, 2e-4], offsets=[0, -0.1])) == ([1e-4, 2e-4], [0.0, -0.1])
    assert bands.reflectance_scaling(s(s2, reflectance_gain=2.75e-5, reflectance_offset=-0.2)) == \
        ([2.75e-5] * 2, [-0.2] * 2)


def test_ground_geometry_north_up_south_up_and_geographic():
    north_up = {"transform": [0, 30, 0, 0, 0, -30]}
    assert bands.pixel_size_m(north_up) == pytest.approx(30.0)
    assert bands.ground_to_pixel(north_up, 0.0, 300.0, 99) == pytest.approx((-10.0, 0.0))  # north = up
    south_up = {"transform": [0, 30, 0, 0, 0, 30]}
    assert bands.ground_to_pixel(south_up, 0.0, 300.0, 99) == pytest.approx((10.0, 0.0))
    geo = {"transform": [17.0, 9e-5, 0, 60.0, 0, -9e-5], "crs": "EPSG:4326"}
    assert bands.pixel_size_m(geo) == pytest.approx(111320 * 9e-5 * math.sqrt(math.cos(math.radians(60))), rel=1e-6)
    assert bands.ground_to_pixel({}, 300.0, 0.0, 30.0) == (0.0, 10.0)  # no transform: north-up default
    assert bands.window_of(s(np.zeros((4, 6)), window=[10, 20, 4, 6], full_shape=[100, 200])) == ((10, 20), (100, 200))
