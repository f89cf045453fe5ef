"""SunAngle and CloudShadow."""
import math

import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral
from domaug_agriculture import light

META = {"band_names": AGRI_BANDS, "bit_depth": 12}


def sun(image, meta=None, rng=0, **kw):
    return domaug.get_transform("agriculture.SunAngle", **kw)(image=image, meta=meta, rng=rng)


def test_shadow_length_is_height_tan_zenith_over_gsd():
    img = agri_multispectral(64, 80)
    out = sun(img, {**META, "gsd_m": 0.01}, sun_zenith_deg=60, plant_height_m=0.3)
    assert out["applied"][0]["params"]["shadow_length_px"] == pytest.approx(0.3 * math.tan(math.radians(60)) / 0.01)


def test_plant_shadows_fall_away_from_the_sun():
    # one plant in the middle, sun in the east (azimuth 90°): shadow to the west (left)
    img = np.zeros((41, 41, 3), np.uint8)
    img[...] = (130, 105, 80)
    img[18:23, 18:23] = (60, 140, 40)
    kw = dict(sun_zenith_deg=45, sun_azimuth_deg=90, plant_height_m=0.08, overcast=0, gain=1, gamma=1,
              vignetting=0, gsd_m=0.01)
    out = sun(img, **kw)["image"].astype(float)
    west = out[20, 11:17].mean(-1)
    east = out[20, 24:30].mean(-1)
    assert west.mean() < 0.6 * east.mean()
    # shade is bluer: blue keeps more of its value than red (skylight ∝ λ⁻²)
    ratio = out[20, 13] / out[20, 30]
    assert ratio[2] > ratio[0]
    assert light.shadow_offset(10, 90) == pytest.approx((0.0, -10.0))
    assert light.shadow_offset(10, 180) == pytest.approx((-10.0, 0.0), abs=1e-9)


def test_overcast_has_no_shadows_and_keeps_the_colour_of_daylight():
    img = np.zeros((41, 41, 3), np.uint8)
    img[...] = (130, 105, 80)
    img[18:23, 18:23] = (60, 140, 40)
    base = dict(sun_zenith_deg=45, sun_azimuth_deg=90, plant_height_m=0.08, gain=1, gamma=1, vignetting=0, gsd_m=0.01)
    cloudy = sun(img, overcast=1.0, **base)["image"].astype(float)
    sunny = sun(img, overcast=0.0, **base)["image"].astype(float)
    soil = np.ones((41, 41), bool)
    soil[15:26, :] = False
    np.testing.assert_allclose(cloudy[20, 8:17], cloudy[20, 24:33], atol=1)
    cb = cloudy[soil].mean(0)
    sb = sunny[soil].mean(0)
    assert cb[2] / cb[0] == pytest.approx(sb[2] / sb[0], rel=0.03)  # clouds are white: no colour cast


def ndvi_dn(img, black=0):
    x = img.astype(float) - black
    return (x[..., 3] - x[..., 2]) / (x[..., 3] + x[..., 2])


@pytest.mark.parametrize("zenith,overcast", [(25, 0.0), (70, 0.0), (45, 0.8), (70, 1.0)])
def test_illumination_barely_moves_ndvi(zenith, overcast):
    """A change of illumination multiplies all bands nearly equally: |ΔNDVI| < 0.02 on sunlit plants."""
    img = agri_multispectral(64, 80)
    veg = ndvi_dn(img) > 0.6
    out = sun(img, META, sun_zenith_deg=zenith, overcast=overcast, gain=1.1, gamma=1.1, vignetting=0.2,
              plant_height_m=0.0)["image"]
    assert np.abs(ndvi_dn(out) - ndvi_dn(img))[veg].max() < 0.02
    direct, diffuse = light.clear_sky(np.array([475.0, 668.0, 840.0]), zenith)
    share = diffuse / (direct + diffuse)
    assert share[0] > share[1] > share[2]  # the sky is blue: shade keeps more blue than NIR


def test_real_micasense_sun_angle_keeps_ndvi(micasense_aligned):
    image, meta, _ = micasense_aligned
    veg = ndvi_dn(image, meta["black_level"]) > 0.5
    t = domaug.get_transform("agriculture.SunAngle")
    for seed in range(5):
        out = t(image=image, meta=meta, rng=seed)["image"]
        d = ndvi_dn(out, meta["black_level"]) - ndvi_dn(image, meta["black_level"])
        lit = veg & (out[..., 3] > 0.7 * image[..., 3])  # sunlit plants (not in another plant's new shadow)
        assert np.abs(np.median(d[lit])) < 0.02 and np.percentile(np.abs(d[lit]), 95) < 0.02


def test_real_micasense_new_plant_shadows_match_the_frames_own(micasense_aligned):
    """New plant shadows keep per band what the capture's own shadows keep (skylight + light from the
    sunlit canopy around: NIR not black), within 0.1; none under overcast; no second set on the old ones."""
    from domaug_agriculture import frame_shadows

    image, meta, _ = micasense_aligned
    bl = meta["black_level"]
    x0 = image.astype(float) - bl
    veg = ndvi_dn(image, bl) > 0.3
    soil = ndvi_dn(image, bl) < 0.2
    old = frame_shadows.ground_shadows(x0[..., :3].sum(-1).astype(np.float32), veg)
    real = np.median(x0[soil & old], axis=0) / np.median(x0[soil & ~old], axis=0)  # the frame's own shade
    kw = dict(sun_zenith_deg=45, sun_azimuth_deg=135, overcast=0.0, plant_height_m=0.5, gain=1.0, gamma=1.0,
              vignetting=0.0, gsd_m=0.05)
    x1 = sun(image, meta, **kw)["image"].astype(float) - bl
    ratio = x1 / np.maximum(x0, 1)
    g = np.median(ratio[soil & ~old], axis=0)  # the exposure change of sunlit soil
    shade = soil & ~old & (ratio[..., 2] < 0.6 * g[2])
    assert 0.02 < shade[soil].mean() < 0.6  # new shadows on the soil ...
    kept = np.median(ratio[shade], axis=0) / g
    np.testing.assert_allclose(kept, real, atol=0.1)  # ... as deep, band by band, as the real ones
    assert kept[0] > kept[2] and kept[3] > kept[2]  # blue sky, NIR from the canopy around
    assert np.median(ratio[soil & old, 2]) > 0.9 * g[2]  # the old shadows are not darkened again
    overcast = sun(image, meta, **{**kw, "overcast": 1.0})["image"].astype(float) - bl
    r2 = overcast / np.maximum(x0, 1)
    assert (soil & (r2[..., 3] < 0.6 * np.median(r2[soil, 3])))[soil].mean() < 0.01  # no shadows under cloud


def test_auto_azimuth_is_the_frames_own_sun():
    """Plants with shadows cast from azimuth 120°: 'auto' keeps 120° (no second set of shadows); none: a draw."""
    from domaug_agriculture import frame_shadows

    rng = np.random.default_rng(0)
    veg = np.zeros((200, 240), bool)
    for _ in range(40):
        r, c = rng.integers(10, 190), rng.integers(10, 230)
        veg[r - 4:r + 4, c - 4:c + 4] = True
    for az in (30, 120, 250):
        dark = light.cast_shadow(veg, *light.shadow_offset(10, az)) & ~veg
        assert frame_shadows.sun_azimuth_from_shadows(veg, dark) == pytest.approx(az, abs=10)
        img = np.zeros(veg.shape + (3,), np.uint8)
        img[...] = (150, 110, 90)
        img[dark] = (50, 45, 45)
        img[veg] = (50, 140, 40)
        p = sun(img, rng=3)["applied"][0]["params"]
        assert p["sun_azimuth_deg"] == pytest.approx(az, abs=10)
    assert frame_shadows.sun_azimuth_from_shadows(veg, rng.random(veg.shape) < 0.05) is None
    flat = np.zeros(veg.shape + (3,), np.uint8)
    flat[...] = (150, 110, 90)
    flat[veg] = (50, 140, 40)
    draws = {round(sun(flat, rng=s)["applied"][0]["params"]["sun_azimuth_deg"]) for s in range(4)}
    assert len(draws) == 4  # no shadows to follow: drawn


def test_real_micasense_auto_azimuth_follows_the_orchard_shadows(micasense_aligned):
    """The capture's tree shadows fall down-left of the crowns (sun ≈ 30–45° from image up)."""
    image, meta, _ = micasense_aligned
    p = domaug.get_transform("agriculture.SunAngle")(image=image, meta=meta, rng=0)["applied"][0]["params"]
    assert 20 <= p["sun_azimuth_deg"] <= 50


def test_vignetting_darkens_corners_and_gain_gamma():
    img = np.full((40, 60, 5), 2000, np.uint16)
    out = sun(img, META, overcast=1.0, plant_height_m=0, gain=1, gamma=1, vignetting=0.3)["image"].astype(float)
    assert out[0, 0].mean() < 0.75 * out[20, 30].mean()
    flat = sun(img, META, overcast=1.0, plant_height_m=0, gain=1.2, gamma=1, vignetting=0)["image"].astype(float)
    ref = sun(img, META, overcast=1.0, plant_height_m=0, gain=1.0, gamma=1, vignetting=0)["image"].astype(float)
    np.testing.assert_allclose(flat / ref, 1.2, rtol=0.01)


def test_sun_angle_keeps_pix4d_footprint(pix4d):
    image, meta = pix4d
    out = sun(image, meta, rng=3)["image"]
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])
    assert (out[inside] != image[inside]).any()


def cloud(image, meta=None, rng=0, **kw):
    return domaug.get_transform("agriculture.CloudShadow", **kw)(image=image, meta=meta, rng=rng)


def test_cloud_shadow_coverage_tint_and_mask():
    img = np.full((200, 240, 5), 3000, np.uint16)
    out = cloud(img, META, coverage=0.4, density=0.8, cloud_size_m=3.0, cloud_base_m=50, gsd_m=0.05, emit_mask=True)
    m = out["shadow_mask"]
    assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1}
    assert 0.2 < m.mean() < 0.6
    dark = out["image"][m == 1].astype(float).mean(0) / 3000
    lit = out["image"][m == 0].astype(float).mean(0) / 3000
    assert lit.min() > 0.8 and dark.max() < 0.7
    b, g, r, nir, re = dark
    assert b > g > r > re > nir  # diffuse skylight: blue survives the shade best


def test_cloud_shadow_windows_agree_for_moving_clouds():
    img = np.full((120, 160, 3), 150, np.uint8)
    t = domaug.get_transform("agriculture.CloudShadow", cloud_size_m=4.0, gsd_m=0.05)
    full = t(image=img, rng=4)
    params = dict(full["applied"][0]["params"])
    s_full = t.shadow((120, 160), params)
    moved = dict(params, offset_px=[params["offset_px"][0] + 30, params["offset_px"][1] + 40])
    s_win = t.shadow((90, 120), moved)
    np.testing.assert_array_equal(s_win, s_full[30:, 40:])


def test_cloud_shadow_keeps_pix4d_footprint(pix4d):
    image, meta = pix4d
    out = cloud(image, meta, rng=2, coverage=0.5, cloud_size_m=60, emit_mask=True)
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out["image"][~inside], image[~inside])
    np.testing.assert_array_equal(out["image"][..., 3], image[..., 3])
    assert not out["shadow_mask"][~inside].any()


@pytest.mark.parametrize("coverage", [0.0, 0.25, 0.6, 1.0])
def test_cloud_shadow_coverage_is_the_frame_fraction(coverage):
    img = np.full((150, 200, 3), 160, np.uint8)
    for seed in range(3):
        out = cloud(img, rng=seed, coverage=coverage, density=0.8, cloud_size_m=(5, 40), gsd_m=0.05, emit_mask=True)
        frac = (out["shadow_mask"] == 1).mean()
        assert frac == pytest.approx(coverage, abs=0.08)


def test_penumbra_is_the_cloud_height_times_the_sun_diameter():
    from domaug_agriculture.cloud_shadow import disc_hidden

    img = np.full((64, 64, 3), 150, np.uint8)
    out = cloud(img, {"gsd_m": 0.1}, cloud_base_m=1500.0)
    assert out["applied"][0]["params"]["penumbra_px"] == pytest.approx(1500 * math.tan(math.radians(0.53)) / 0.1)
    u = np.array([-1.5, -1.0, 0.0, 1.0, 1.5], np.float32)
    np.testing.assert_allclose(disc_hidden(u), [1, 1, 0.5, 0, 0], atol=1e-6)
    # 10–90 % of the disc hidden over 0.687 of its diameter (circular segment areas)
    np.testing.assert_allclose(disc_hidden(np.array([0.687, -0.687], np.float32)), [0.1, 0.9], atol=0.01)


def test_real_pix4d_a_shadow_edge_crosses_the_frame(pix4d):
    """Cumulus shadows (0.2–2 km) over a 240 m frame: the frame sees an edge, with the penumbra of the cloud height."""
    from scipy import ndimage as ndi

    image, meta = pix4d
    fp = image[..., 3] > 0
    t = domaug.get_transform("agriculture.CloudShadow")
    edges, widths = 0, []
    for seed in range(50):
        p = t.make_params(np.random.default_rng(seed), {"image": image, "meta": meta})
        s = t.shadow(image.shape[:2], p) / p["density"]
        edges += (s < 0.1)[fp].mean() > 0.05 and (s > 0.9)[fp].mean() > 0.05
        core = s > 0.5
        perimeter = ((core ^ ndi.binary_erosion(core)) & fp).sum()
        if perimeter > 50:  # transition area / edge length = the 10–90 % penumbra width
            widths.append(((s > 0.1) & (s < 0.9) & fp).sum() / perimeter / (0.687 * p["penumbra_px"]))
    assert edges >= 35
    assert 0.7 < np.median(widths) < 1.4


def test_gsd_from_a_projected_wkt_that_names_its_geographic_base():
    """A UTM WKT contains AUTHORITY["EPSG","4326"] (its datum): it is still metres (the GeoTIFF reader's meta)."""
    from domaug_agriculture.bands import gsd_of

    wkt = ('PROJCS["WGS 84 / UTM zone 50S",GEOGCS["WGS 84",AUTHORITY["EPSG","4326"]],'
           'UNIT["metre",1],AUTHORITY["EPSG","32750"]]')
    tr = [297463.3, 0.35272, 0.0, 9050677.1, 0.0, -0.35272]
    assert gsd_of({"transform": tr, "crs": wkt}) == pytest.approx(0.35272)
    assert gsd_of({"transform": tr, "crs": "EPSG:32750"}) == pytest.approx(0.35272)
    deg = [10.0, 1e-5, 0.0, 60.0, 0.0, -1e-5]  # 1e-5° at 60° N: 0.557 m east, 1.113 m north
    assert gsd_of({"transform": deg, "crs": "EPSG:4326"}) == pytest.approx(np.sqrt(0.5566 * 1.1132), rel=1e-3)
    assert gsd_of({"gsd_m": 0.05, "transform": tr}) == 0.05
    assert gsd_of({}) == 0.02


def test_real_pix4d_through_the_geotiff_reader_sizes_the_cloud_for_its_gsd(shared_data):
    """Read as users read it (WKT CRS): clouds of 0.2–2 km are 570–5700 px at 0.353 m, penumbra 13–53 px."""
    pytest.importorskip("domaug_satellite")
    from domaug.formats import registry

    sample = registry.read([shared_data / "agriculture" / "pix4d_alpha_nodata.tif"])
    t = domaug.get_transform("agriculture.CloudShadow")
    edges = 0
    for seed in range(20):
        p = t.make_params(np.random.default_rng(seed), sample)
        assert 200 / 0.3528 <= p["scale_px"] <= 2000 / 0.3527
        assert 500 * math.tan(math.radians(0.53)) / 0.3528 <= p["penumbra_px"] <= 2000 * 0.00925 / 0.3527
        s = t.shadow(sample["image"].shape[:2], p) / p["density"]
        fp = sample["valid"]
        edges += (s < 0.1)[fp].mean() > 0.05 and (s > 0.9)[fp].mean() > 0.05
    assert edges >= 14
