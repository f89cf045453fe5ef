"""Sensor presets: OLI / MSI / PlanetScope / drone radiometry, along-track striping, registration."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug_satellite import ground_track, sensor_presets
from domaug_satellite.striping import detector_index

UTM16 = "EPSG:32616"


def _landsat(shared_data):
    from domaug.formats import registry

    folder = shared_data / "satellite" / "landsat8_l1_cloudy"
    return registry.get_format("geotiff").read(sorted(folder.glob("l8_B[2345].tif")))


def stripe_azimuth(diff: np.ndarray, search=np.arange(-30.0, 30.01, 0.1)) -> float:
    """Azimuth (° from grid north, mod 180 in −90…90) of the lines along which ``diff`` is most
    constant: the least within-line variance over lines binned at ¼ px across."""
    h, w = diff.shape
    rr = np.arange(h)[:, None] + 0.5
    cc = np.arange(w)[None, :] + 0.5
    best = (math.inf, 0.0)
    for a in search:
        idx = np.floor(4 * (rr * math.sin(math.radians(a)) + cc * math.cos(math.radians(a)))).astype(np.int64)
        idx -= idx.min()
        n = np.bincount(idx.ravel())
        s1 = np.bincount(idx.ravel(), diff.ravel())
        s2 = np.bincount(idx.ravel(), (diff * diff).ravel())
        ok = n > 0
        var = float((s2[ok] - s1[ok] ** 2 / n[ok]).sum())
        best = min(best, (var, float(a)))
    return best[1]


def test_ground_track_heading_of_landsat8():
    assert ground_track.track_azimuth_deg(98.2, 705e3, 30.0) == pytest.approx(192.8, abs=0.3)
    assert ground_track.track_azimuth_deg(98.2, 705e3, 0.0) == pytest.approx(192.0, abs=0.3)
    assert ground_track.track_azimuth_deg(98.2, 705e3, 30.0, descending=False) == pytest.approx(347.2, abs=0.3)
    # grid north: east of the central meridian UTM grid north is turned east of true north
    meta = {"transform": [700000.0, 30.0, 0.0, 3500000.0, 0.0, -30.0], "crs": UTM16}
    centre = ground_track.raster_centre_lonlat(meta, (100, 100))
    conv = (centre[0] + 87.0) * math.sin(math.radians(centre[1]))
    assert ground_track.grid_azimuth_deg(meta, (100, 100), 190.0) == pytest.approx(190.0 - conv, abs=0.05)


def test_sensor_noise_oli_preset_on_the_real_landsat8_scene(shared_data):
    """Acceptance: the OLI preset adds noise within 2× OLI's NEΔρ per band (guessed from the MTL)."""
    s = _landsat(shared_data)
    out = domaug.get_transform("satellite.SensorNoise")(**s, rng=1)
    p = out["applied"][0]["params"]
    assert p["sensor"] == "landsat_oli" and "meta" in p["sensor_source"]
    g, o = 2e-5, -0.1
    added = (out["image"].astype(float) - s["image"]) * g
    rho = np.clip(s["image"] * g + o, 0, None)
    oli = sensor_presets.PRESETS["landsat_oli"]
    for b, role in enumerate(["blue", "green", "red", "nir"]):
        nedr = oli.nedr(role)
        assert 0.00012 < nedr < 0.0005
        std = added[..., b].std()
        assert 0.5 * nedr < std < 2.0 * nedr, (role, std, nedr)
        model = math.sqrt(float((p["a"][b] * rho[..., b] + p["b"][b]).mean()))
        assert std == pytest.approx(model, rel=0.05)


def test_sensor_noise_default_is_the_generic_sensor_with_one_snr():
    img = np.full((64, 64, 4), 0.3, np.float32)
    out = domaug.get_transform("satellite.SensorNoise")(image=img, rng=2)
    p = out["applied"][0]["params"]
    assert p["sensor"] == "generic" and p["sensor_source"].startswith("default")
    std = (out["image"] - img).std(axis=(0, 1))
    assert std.max() < 1.3 * std.min()                         # not 3× apart between bands
    assert 0.0008 < std.mean() < 0.0016                        # SNR ≈ 250 at ρ = 0.3, not cubesat-class
    meta = {"band_names": ["blue", "green", "red", "nir"]}
    msi = domaug.get_transform("satellite.SensorNoise", sensor="sentinel2_msi")(image=img, meta=meta, rng=2)
    assert msi["applied"][0]["params"]["snr"] == [154, 168, 142, 174]  # MSI requirement at L_ref


def test_explicit_snr_overrides_the_preset_and_reference_needs_snr():
    img = np.full((64, 64, 2), 0.3, np.float32)
    out = domaug.get_transform("satellite.SensorNoise", snr=30)(image=img, rng=2)
    assert (out["image"] - img).std() == pytest.approx(0.01, rel=0.05)
    with pytest.raises(domaug.ParameterError, match="snr"):
        domaug.get_transform("satellite.SensorNoise", reference_reflectance=0.2)
    with pytest.raises(domaug.ParameterError, match="sensor"):
        domaug.get_transform("satellite.SensorNoise", sensor="hubble")


@pytest.mark.parametrize("heading", [12.8, -25.0, 63.0])
def test_striping_runs_along_the_given_heading(heading):
    img = np.full((160, 200, 2), 0.3, np.float32)
    out = domaug.get_transform("satellite.Striping", heading_deg=heading, gain_std=0.01, offset_std=0.0)(
        image=img, meta={"full_scale": 1.0}, rng=4)
    diff = out["image"][..., 0] / img[..., 0] - 1.0
    search = np.arange(heading - 30.0, heading + 30.01, 0.1)
    assert abs(stripe_azimuth(diff, search) - heading) < 3.0
    assert diff.std() == pytest.approx(0.01, rel=0.3)


def test_striping_on_real_landsat8_follows_the_orbit_with_oli_calibration(shared_data):
    """Acceptance: stripes within 3° of the heading (13.1° from grid north at 30.7° N); gain spread < 0.5 %."""
    s = _landsat(shared_data)
    flat = np.full(s["image"].shape, 20000, np.uint16)
    out = domaug.get_transform("satellite.Striping")(image=flat, meta=s["meta"], rng=1)
    p = out["applied"][0]["params"]
    assert p["sensor"] == "landsat_oli" and "orbit" in p["heading_source"]
    heading = p["heading_deg"] % 180.0
    assert 12.0 < heading < 14.0
    diff = out["image"][..., 0].astype(float) - 20000.0
    assert abs(stripe_azimuth(diff) - heading) < 3.0
    rho = 20000 * 2e-5 - 0.1
    assert diff.std() * 2e-5 / rho < 0.005                      # calibrated OLI detectors


def test_along_track_striping_is_window_consistent_and_replays():
    img = np.full((80, 96, 3), 3000, np.uint16)
    t = domaug.get_transform("satellite.Striping", heading_deg=20.0, gain_std=0.02, dead_line_fraction=0.05)
    whole = t(image=img, meta={"full_scale": 10000}, rng=3)
    params = whole["applied"][0]["params"]
    part = type(t)().apply({"image": img[30:70, 17:90],
                            "meta": {"full_scale": 10000, "window_offset": [30, 17], "full_shape": [80, 96]}}, params)
    np.testing.assert_array_equal(part["image"], whole["image"][30:70, 17:90])
    d = detector_index((80, 96), (0, 0), 20.0)
    dead = whole["image"][..., 0] == 0
    assert dead.any() and all(dead[d == k].all() for k in np.unique(d[dead]))  # dead detectors: whole lines


def test_band_misregistration_follows_the_product_registration(shared_data):
    s = _landsat(shared_data)
    out = domaug.get_transform("satellite.BandMisregistration")(**s, rng=3)
    p = out["applied"][0]["params"]
    assert p["sensor"] == "landsat_oli"
    assert max(math.hypot(*v) for v in p["shifts_px"]) <= 0.15
    generic = domaug.get_transform("satellite.BandMisregistration")(image=np.zeros((16, 16, 3), np.float32), rng=3)
    assert max(math.hypot(*v) for v in generic["applied"][0]["params"]["shifts_px"]) <= 0.3
    raw = domaug.get_transform("satellite.BandMisregistration", max_shift_px=10.0)(
        image=np.zeros((16, 16, 3), np.float32), rng=3)
    assert max(max(abs(x) for x in v) for v in raw["applied"][0]["params"]["shifts_px"]) > 1.0
