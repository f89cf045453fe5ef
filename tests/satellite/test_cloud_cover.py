"""satellite.CloudCover: coverage, geometric shadow, masks, spectra, windows."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import domaug

sys.path.insert(0, str(Path(__file__).parent))
from _cloud_metrics import cell_diameters_m, edge_rise_px, flank_edge_ratio  # noqa: E402


def _flat(h=192, w=192, bands=4, value=1200):
    return np.full((h, w, bands), value, np.uint16)


def cloud(**kw):
    return domaug.get_transform("satellite.CloudCover", **kw)


def legacy(**kw):
    """The deprecated noise-blob clouds (default preset "thick")."""
    with pytest.warns(DeprecationWarning, match="noise-blob"):
        return domaug.get_transform("satellite.CloudCover", **{"preset": "thick", **kw})


@pytest.mark.parametrize("preset,coverage", [("cumulus", 0.05), ("cumulus", 0.3), ("stratocumulus", 0.7),
                                             ("stratocumulus", 0.95), ("cirrus", 0.4), ("thick", 0.7)])
def test_measured_coverage_matches_requested(preset, coverage):
    t = legacy(coverage=coverage, pixel_size_m=30) if preset == "thick" else \
        cloud(coverage=coverage, pixel_size_m=30, preset=preset)
    size = 384 if preset == "cumulus" else 192  # 11.5 km: a cumulus field of some 10–100 cells
    out = t(image=_flat(size, size), rng=3)
    measured = (out["cloud_mask"] > 0).mean()
    assert abs(measured - coverage) < 0.005


def test_coverage_range_is_respected():
    for seed in range(6):
        out = cloud(coverage=(0.2, 0.4), preset=["cumulus", "stratocumulus"])(image=_flat(96, 96), rng=seed)
        assert 0.2 - 0.005 <= (out["cloud_mask"] > 0).mean() <= 0.4 + 0.005


def test_cumulus_cover_beyond_a_broken_field_is_warned():
    with pytest.warns(UserWarning, match="stratocumulus"):
        cloud(coverage=0.8)


def _compact(az, el, height, pixel=30.0):
    """A scene whose clouds (few, compact) and their whole shadows lie inside the image,
    and no cloud outside the image casts a shadow into it (first such seed)."""
    d = height * math.tan(math.radians(90 - el)) / pixel
    sr = int(round(-d * math.cos(math.radians(az + 180))))
    sc = int(round(d * math.sin(math.radians(az + 180))))
    t = legacy(coverage=0.015, cloud_size_m=9000, locality=0.0, sun_azimuth_deg=az, sun_elevation_deg=el,
               cloud_height_m=height, pixel_size_m=pixel, optical_thickness=80)
    for seed in range(100):
        out = t(image=_flat(256, 256), rng=seed)
        cm = out["cloud_mask"] > 0
        rr, cc = np.nonzero(cm)
        if rr.min() < 45 or rr.max() > 210 or cc.min() < 45 or cc.max() > 210:
            continue
        rs, cs = np.nonzero(out["shadow_mask"])
        src_r, src_c = rs - sr, cs - sc
        inside = (src_r >= 0) & (src_r < 256) & (src_c >= 0) & (src_c < 256)
        if len(rs) and inside.all() and cm[src_r, src_c].all():
            return out
    raise AssertionError("no scene with shadows from in-image clouds only")


@pytest.mark.parametrize("az,el,height", [(135.0, 45.0, 900.0), (250.0, 60.0, 1500.0), (20.0, 35.0, 600.0)])
def test_shadow_is_displaced_along_the_sun_direction(az, el, height):
    out = _compact(az, el, height)
    cm, sm = out["cloud_mask"] > 0, out["shadow_mask"] > 0
    labels, n = ndimage.label(cm)
    assert n >= 1 and sm.sum() > 20
    expected = height * math.tan(math.radians(90 - el)) / 30.0
    # ground displacement towards azimuth az+180 (north up): drow = -cos, dcol = +sin
    exp_r = -expected * math.cos(math.radians(az + 180))
    exp_c = expected * math.sin(math.radians(az + 180))
    cr, cc = ndimage.center_of_mass(cm)
    sr, sc = ndimage.center_of_mass(sm)
    dr, dc = sr - cr, sc - cc
    assert math.hypot(dr - exp_r, dc - exp_c) < 3.0, (dr, dc, exp_r, exp_c)
    got_dir = math.degrees(math.atan2(dc, -dr)) % 360  # azimuth of the displacement
    assert abs((got_dir - (az + 180)) % 360 - 0) < 5 or abs((got_dir - (az + 180)) % 360 - 360) < 5


def test_shadow_offset_matches_recorded_geometry_and_is_dark():
    out = _compact(135.0, 45.0, 900.0)
    drow, dcol = out["applied"][0]["params"]["shadow_shift_px"]
    assert drow == pytest.approx(-30 / math.sqrt(2), abs=1e-6) and dcol == pytest.approx(-30 / math.sqrt(2), abs=1e-6)
    img = out["image"].astype(float)
    clear = (out["cloud_mask"] == 0) & (out["shadow_mask"] == 0)
    shadow = img[out["shadow_mask"] > 0]
    assert shadow.mean() < 0.9 * img[clear].mean()
    assert shadow.min(axis=0).max() < 0.6 * img[clear].mean()  # the core of the shadow
    assert (shadow[:, 0] / shadow[:, 3]).max() > 1.0            # skylight is bluer: blue darkened less than NIR
    assert img[out["cloud_mask"] == 2].mean() > 2 * img[clear].mean()


@pytest.mark.parametrize("preset", ["cumulus", "stratocumulus"])
def test_shadow_hidden_under_cloud_and_masks_are_valid_labels(preset):
    out = cloud(coverage=0.4, pixel_size_m=30, cloud_height_m=300, preset=preset, optical_thickness=20)(
        image=_flat(128, 128), rng=5)
    cm, sm = out["cloud_mask"], out["shadow_mask"]
    assert cm.dtype == np.uint8 and sm.dtype == np.uint8
    assert set(np.unique(cm)) <= {0, 1, 2} and set(np.unique(sm)) <= {0, 1}
    assert not ((cm > 0) & (sm > 0)).any()
    assert (cm == 2).any() and (cm == 1).any() and sm.any()


@pytest.mark.parametrize("preset", ["cumulus", "thin"])
def test_thicker_clouds_cast_darker_shadows(preset):
    def shadow_level(tau):
        kw = dict(coverage=0.05, sun_azimuth_deg=90, sun_elevation_deg=45, cloud_height_m=1500, pixel_size_m=30,
                  optical_thickness=tau)
        t = legacy(**kw, preset=preset, cloud_size_m=9000, locality=0) if preset == "thin" else cloud(**kw)
        out = t(image=_flat(200, 200), rng=2)
        img = out["image"][..., 0].astype(float)
        return img[out["cloud_mask"] == 0].min()  # the darkest shadow core
    assert shadow_level(4.0) < shadow_level(1.0) < 1190


def test_cumulus_shadow_is_the_cloud_field_moved_along_the_sun():
    t = cloud(coverage=0.2, sun_azimuth_deg=135.0, sun_elevation_deg=45.0, cloud_height_m=900.0, pixel_size_m=30,
              optical_thickness=20)
    out = t(image=_flat(256, 256), rng=4)
    sr, sc = (int(round(v)) for v in out["applied"][0]["params"]["shadow_shift_px"])
    assert (sr, sc) == (-21, -21)  # 900 m · tan 45° = 30 px towards the north-west
    rs, cs = np.nonzero(out["shadow_mask"])
    src_r, src_c = rs - sr, cs - sc
    inside = (src_r >= 0) & (src_r < 256) & (src_c >= 0) & (src_c < 256)
    assert inside.sum() > 200
    assert (out["cloud_mask"][src_r[inside], src_c[inside]] > 0).mean() > 0.97


def test_pixel_size_and_sun_angles_from_meta():
    meta = {"transform": [300000.0, 60.0, 0.0, 4000000.0, 0.0, -60.0], "crs": "EPSG:32633",
            "sun_azimuth_deg": 90.0, "sun_elevation_deg": 45.0}
    out = cloud(coverage=0.2, cloud_height_m=1200)(image=_flat(64, 64), meta=meta, rng=1)
    p = out["applied"][0]["params"]
    assert p["sun_azimuth_deg"] == 90.0 and p["sun_elevation_deg"] == 45.0
    # sun in the east → shadow 20 px to the west
    assert p["shadow_shift_px"] == pytest.approx([0.0, -20.0], abs=1e-9)


def test_cloud_spectrum_bright_in_visible_darker_in_swir():
    s2 = np.full((64, 64, 12), 0.05, np.float32)
    out = cloud(coverage=1.0, preset="stratocumulus", optical_thickness=60)(image=s2, rng=4)
    thick = out["cloud_mask"] == 2
    spectrum = out["image"][thick].mean(axis=0)
    assert spectrum[1] > 0.45 and spectrum[7] > 0.45      # blue, nir: bright
    assert abs(spectrum[7] / spectrum[1] - 1) < 0.1       # flat across the VNIR
    assert spectrum[11] < 0.7 * spectrum[1]               # swir2 much darker
    ice = cloud(coverage=1.0, preset="cirrus", optical_thickness=30)(image=s2, rng=4)["applied"][0]["params"]
    water = out["applied"][0]["params"]
    assert ice["cloud_reflectance"][10] < 0.7 * water["cloud_reflectance"][10]  # ice absorbs more at 1.6 µm


@pytest.mark.parametrize("azimuth", [120.0, 300.0])
def test_sunlit_flanks_are_brighter_than_shaded_flanks(azimuth):
    """Measure: mean blue of cloud pixels 2–4 px inside edges facing the sun over those inside
    edges facing away (outward normal within 45°)."""
    t = cloud(coverage=0.3, sun_azimuth_deg=azimuth, sun_elevation_deg=35.0, pixel_size_m=30, optical_thickness=8)
    out = t(image=_flat(256, 256), rng=6)
    cm = out["cloud_mask"] > 0
    ratio = flank_edge_ratio(out["image"][..., 0].astype(float), cm, azimuth)
    assert ratio > 1.15
    assert flank_edge_ratio(out["image"][..., 0].astype(float), cm, azimuth + 180.0) < 1 / 1.15


@pytest.mark.parametrize("preset", ["cumulus", "stratocumulus", "cirrus"])
def test_windows_join_without_seams(preset):
    img = _flat(96, 128)
    t = cloud(coverage=0.4, pixel_size_m=30, cloud_height_m=600, preset=preset)
    whole = t(image=img, rng=9)
    params = whole["applied"][0]["params"]
    T = type(t)
    for r0, c0, h, w in [(0, 0, 48, 64), (48, 64, 48, 64), (20, 30, 50, 70)]:
        meta = {"window_offset": [r0, c0], "full_shape": [96, 128]}
        part = T().apply({"image": img[r0:r0 + h, c0:c0 + w], "meta": meta}, params)
        np.testing.assert_array_equal(part["image"], whole["image"][r0:r0 + h, c0:c0 + w])
        np.testing.assert_array_equal(part["cloud_mask"], whole["cloud_mask"][r0:r0 + h, c0:c0 + w])
        np.testing.assert_array_equal(part["shadow_mask"], whole["shadow_mask"][r0:r0 + h, c0:c0 + w])


def test_nodata_kept_and_masks_zero_there():
    img = _flat(64, 64)
    img[:, :8] = 0
    valid = np.ones((64, 64), bool)
    valid[:, :8] = False
    out = cloud(coverage=0.8, preset="stratocumulus")(image=img, valid=valid, meta={"nodata": 0}, rng=2)
    assert (out["image"][:, :8] == 0).all()
    assert (out["image"][:, 8:] != 0).any(axis=-1).all()
    assert not out["cloud_mask"][:, :8].any() and not out["shadow_mask"][:, :8].any()


def test_bad_parameters_are_named():
    with pytest.raises(domaug.ParameterError, match="coverage"):
        cloud(coverage=1.5)
    with pytest.raises(domaug.ParameterError, match="preset"):
        cloud(preset="fluffy")


def _mtl(path):
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            values[k] = v.strip('"')
    return values


def test_real_landsat8_scene_with_mtl_sun_angles(shared_data):
    folder = shared_data / "satellite" / "landsat8_l1_cloudy"
    from domaug.formats import registry

    fmt = registry.get_format("geotiff")
    bands = [fmt.read([folder / f"l8_B{b}.tif"]) for b in (2, 3, 4, 5)]
    mtl = _mtl(folder / "l8_MTL.txt")
    meta = dict(bands[0]["meta"], band_names=["blue", "green", "red", "nir"],
                sun_azimuth_deg=float(mtl["SUN_AZIMUTH"]), sun_elevation_deg=float(mtl["SUN_ELEVATION"]),
                reflectance_gain=float(mtl["REFLECTANCE_MULT_BAND_2"]),
                reflectance_offset=float(mtl["REFLECTANCE_ADD_BAND_2"]))
    image = np.stack([b["image"] for b in bands], -1)
    out = legacy(coverage=0.2, cloud_height_m=2000)(image=image, meta=meta, rng=1)
    p = out["applied"][0]["params"]
    # research note: tan(25.3°)·2 km ≈ 945 m ≈ 31.5 px at 30 m, towards azimuth 295.9°
    d = 2000 * math.tan(math.radians(90 - 64.7436)) / 30.0
    az = math.radians(115.8721 + 180)
    assert p["shadow_shift_px"] == pytest.approx([-d * math.cos(az), d * math.sin(az)], abs=0.05)
    assert abs((out["cloud_mask"] > 0).mean() - 0.2) < 0.005
    # clouds are bright in the Landsat L1 scaling (ρ = 2e-5·DN − 0.1): cores reach ρ ≈ 0.7 (DN 40000)
    thick = out["cloud_mask"] == 2
    clear = (out["cloud_mask"] == 0) & (out["shadow_mask"] == 0)
    blue = out["image"][..., 0]
    assert blue[thick].mean() > 2 * blue[clear].mean() and 35000 < blue[thick].max() < 52000


def _landsat_with_qa(shared_data):
    from domaug.formats import registry

    folder = shared_data / "satellite" / "landsat8_l1_cloudy"
    sample = registry.get_format("geotiff").read(sorted(folder.glob("l8_B[2345].tif")))
    qa = registry.get_format("geotiff").read([folder / "l8_BQA.tif"])["image"]
    return sample, (qa >> 14) & 3  # pre-collection BQA bits 14-15: cloud confidence


def test_cumulus_on_the_clear_part_of_the_real_landsat8_scene(shared_data):
    """Acceptance on the scene's clear south (rows 440–602) at the cumulus preset, 6 draws:
    cell diameters (equivalent diameter of the cloud-mask components) median 0.2–2 km; thin
    cloud (cloud_mask 1) TOA reflectance median per band within the real high-confidence cloud's
    p5–p95; edge rise over ≥ 2 px; sunlit flanks brighter (blue 2–4 px inside edges facing the
    sun / facing away > 1.05); shadows (mean over shadow_mask of out/in) 0.56–0.84 of the ground,
    blue above NIR; the shadow mask is the cloud mask moved by the lag the MTL sun azimuth gives
    (cross-correlation peak within 1.5 px of it, its azimuth 295.9° ± 1° on the grid)."""
    sample, conf = _landsat_with_qa(shared_data)
    g, o = 2e-5, -0.1
    real = sample["image"][conf == 3] * g + o
    p5, p95 = np.percentile(real, 5, axis=0), np.percentile(real, 95, axis=0)
    np.testing.assert_allclose(np.median(real, axis=0), [0.155, 0.134, 0.130, 0.273], atol=0.003)
    clear = dict(sample, image=np.ascontiguousarray(sample["image"][440:]))
    assert (conf[440:] == 3).mean() < 0.01
    for seed in range(6):
        out = cloud()(**clear, rng=seed)
        p = out["applied"][0]["params"]
        assert p["preset"] == "cumulus" and p["pixel_m"] == pytest.approx(30.0)
        rin, rout = clear["image"] * g + o, out["image"] * g + o
        cm, sm = out["cloud_mask"], out["shadow_mask"] > 0
        assert 200 < np.median(cell_diameters_m(cm > 0, 30.0)) < 2000
        thin = np.median(rout[cm == 1], axis=0)
        assert ((thin >= p5) & (thin <= p95)).all(), (thin, p5, p95)
        assert edge_rise_px(rout[..., 0] - rin[..., 0], cm > 0) >= 2.0
        assert flank_edge_ratio(rout[..., 0], cm > 0, p["sun_azimuth_deg"]) > 1.05
        ratio = (rout[sm] / rin[sm]).mean(axis=0)
        assert (ratio > 0.56).all() and (ratio < 0.84).all() and ratio[0] > ratio[3], ratio
        shift = np.array(p["shadow_shift_px"])
        assert math.degrees(math.atan2(shift[1], -shift[0])) % 360 == pytest.approx(115.87 + 180, abs=1.0)
        np.testing.assert_allclose(mask_lag(cm > 0, sm), shift, atol=1.5)  # shadow hidden under cloud: ≤ 1 px bias


def mask_lag(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(rows, cols) by which ``a`` is moved to match ``b`` best (cross-correlation peak)."""
    from scipy.signal import fftconvolve

    xc = fftconvolve(b.astype(float), a[::-1, ::-1].astype(float), mode="full")
    peak = np.unravel_index(np.argmax(xc), xc.shape)
    return np.array(peak) - (np.array(a.shape) - 1)
