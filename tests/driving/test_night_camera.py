"""driving.Night's camera: Poisson–Gaussian noise on the RGGB mosaic, demosaicking and the ISP, and the
fused pass that relights the mosaic; on real frames: noise variance linear in the local mean."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from domaug_driving import plane_ops, radiometry, raw_noise
from domaug_driving.night_scene import RAW_WB_GAINS, night_light

sys.path.insert(0, str(Path(__file__).parent))
from _night_common import DARK, FRAMES, Night, _coarse, _load, _replay  # noqa: E402


# --- the camera: noise where the sensor makes it ------------------------------------------


@pytest.mark.parametrize("shot, read", [(0.002, 1e-5), (0.01, 4e-5)])
def test_mosaic_noise_variance_grows_linearly_with_the_mean(shot, read):
    """EMVA 1288 / Brooks et al.: var = shot·x + read per photosite (one sample each), in linear light."""
    levels = np.array([0.1, 0.2, 0.4, 0.6, 0.8], np.float32)
    means, vars_ = [], []
    for i, lv in enumerate(levels):
        raw = np.full((512, 512), lv, np.float32)
        raw_noise.expose(raw, shot, read, seed=i)
        means.append(raw.mean()), vars_.append(raw.var())
    slope, intercept = np.polyfit(means, vars_, 1)
    assert slope == pytest.approx(shot, rel=0.05)
    assert intercept == pytest.approx(read, abs=0.05 * shot * float(levels[0]))


def test_night_noise_slope_matches_the_configured_gain_in_linear_light():
    """End to end, ISP denoise off: the demosaicked output keeps its native green photosites, whose
    variance against the mean has the slope of the gain set by ISO and full well (±25 %)."""
    iso, full_well = 1600.0, 6000.0
    shot, _ = raw_noise.noise_of_iso(iso, full_well, 2.0)
    levels = np.linspace(0.1, 1.0, 6, dtype=np.float32)
    img = np.repeat(np.repeat(levels, 64)[None, :], 256, axis=0)[..., None].repeat(3, axis=2)
    t = Night(iso=iso, full_well_e=full_well, read_noise_e=2.0, isp_denoise=0.0, demosaic="bilinear",
              ambient_lux=30.0, **DARK)
    out = t(image=img, sky_mask=np.zeros(img.shape[:2], bool), rng=3)["image"]
    green = out[:, :, 1]
    means, vars_ = [], []
    for i in range(len(levels)):
        a, b = i * 64 + 8, (i + 1) * 64 - 8  # native green sites: (even row, odd col), (odd row, even col)
        patch = np.concatenate([green[0::2, a + 1 : b : 2], green[1::2, a:b:2]])
        means.append(patch.mean()), vars_.append(patch.var())
    assert max(means) / min(means) > 4 and 0.01 < min(means) and max(means) < 0.9
    slope = np.polyfit(means, vars_, 1)[0]
    # a native green site after bilinear demosaicking and the colour correction M: its own raw
    # sample plus the means of 2 red and 2 blue ones, whose raw variances are wb_c·shot·x
    m, wb = raw_noise.CCM, RAW_WB_GAINS
    pipeline = m[1, 1] ** 2 * wb[1] + m[1, 0] ** 2 * wb[0] / 2 + m[1, 2] ** 2 * wb[2] / 2
    assert slope / pipeline == pytest.approx(shot, rel=0.25)


def test_demosaicked_noise_is_spatially_and_chroma_correlated():
    """Noise on the mosaic, then demosaicking: neighbouring pixels and the three channels share
    samples (white per-pixel noise would have neither correlation)."""
    img = np.full((128, 128, 3), 0.5, np.float32)
    t = Night(iso=3200.0, isp_denoise=0.0, ambient_lux=30.0, **DARK)
    out = t(image=img, sky_mask=np.zeros((128, 128), bool), rng=1)["image"]
    r = out[8:-8, 8:-8] - out[8:-8, 8:-8].mean(axis=(0, 1))
    neighbours = np.corrcoef(r[:, :-1, 1].ravel(), r[:, 1:, 1].ravel())[0, 1]
    channels = np.corrcoef(r[..., 0].ravel(), r[..., 1].ravel())[0, 1]
    assert neighbours > 0.2 and abs(channels) > 0.1


def test_isp_chroma_denoise_reduces_chroma_noise_and_keeps_luma():
    rng = np.random.default_rng(0)
    rgb = np.clip(rng.normal(20000, 3000, (96, 96, 3)), 0, 65535).astype(np.uint16)
    out = raw_noise.colour_process(rgb.copy(), 1.0, ccm=np.eye(3, dtype=np.float32)).astype(np.float64)
    luma = lambda a: a @ raw_noise.LUMA.astype(np.float64)  # noqa: E731
    chroma = lambda a: a[..., 0] - a[..., 1]  # noqa: E731
    assert chroma(out).std() < 0.5 * chroma(rgb.astype(np.float64)).std()
    np.testing.assert_allclose(luma(out), luma(rgb.astype(np.float64)), atol=2.0)


def test_bilinear_demosaic_fallback_keeps_native_samples_and_any_size():
    raw = np.arange(35, dtype=np.uint16).reshape(5, 7) * 1000
    rgb = raw_noise._demosaic_bilinear(raw)
    assert rgb.shape == (5, 7, 3)
    np.testing.assert_array_equal(rgb[0::2, 0::2, 0], raw[0::2, 0::2])  # R sites
    np.testing.assert_array_equal(rgb[0::2, 1::2, 1], raw[0::2, 1::2])  # G sites
    np.testing.assert_array_equal(rgb[1::2, 1::2, 2], raw[1::2, 1::2])  # B sites
    assert raw_noise._demosaic_bilinear(np.array([[500]], np.uint16)).tolist() == [[[500, 500, 500]]]


def _relit_planes_then_mosaic(planes, light, sky, sun):
    """Reference: each plane relit (× M with the sun factors, the sky band, the poles, the halos
    and glows), then mosaicked: what :func:`night_mosaic.relit_mosaic` fuses."""
    from domaug_driving.night_scene import line_coverage
    from domaug_driving.sensor import add_gaussians

    h, w = planes[0].shape
    out = []
    for c, p in enumerate(planes):
        m = plane_ops.upsample(plane_ops.upsample(light.mult[c], sun[c].shape) * sun[c], (h, w))
        q = p * m
        share, keep = sky
        rows = share.shape[0]
        q[:rows] = q[:rows] * keep + share * (light.sky_colour[c] * light.sky_rows[c])[:, None]
        out.append(q)
    for (col, r0, r1, width, vis, (arm_row, a0, a1, arm_vis)), colour in zip(light.poles, light.pole_colour):
        for j, cover in line_coverage(col, width, w):
            for q, v in zip(out, colour):
                seg = q[r0:r1, j]
                seg[vis] += cover * (v - seg[vis])
        for i, cover in line_coverage(arm_row, width, h) if arm_vis.any() else ():
            for q, v in zip(out, colour):
                seg = q[i, a0:a1]
                seg[arm_vis] += cover * (v - seg[arm_vis])
    for c, q in enumerate(out):
        if light.added is not None:
            q += plane_ops.upsample(light.added[c], (h, w))
        add_gaussians(q, light.centres[:, 0], light.centres[:, 1], light.sigmas, light.sigmas, light.colours[:, c])
    return raw_noise.mosaic(out, 1.0 / light.raw_gains).copy()


def test_fused_mosaic_pass_equals_relighting_the_planes_then_mosaicking():
    """The light is applied straight onto the RGGB mosaic (one fused pass per channel): the same
    as relighting the three linear planes and mosaicking them, up to the wide halos' half-pixel
    phase (they are drawn per site from half resolution)."""
    from domaug_driving.night import _sun_factors
    from domaug_driving.night_mosaic import relit_mosaic
    from domaug_driving.night_scene import sky_share

    h, w = 512, 768
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = np.linspace(60, 140, w).astype(np.uint8)[None, :, None]
    img[:220] = (150, 190, 240)  # a sky
    img[190:220:2, ::3] = (40, 60, 30)  # twigs at the sky line
    t = Night(street_lights=1.0, lamp_spacing_m=15.0, lamp_arrangement="opposite", horizon_row=240.0)
    p = t.make_params(np.random.default_rng(1), {"image": img})
    coarse = _coarse(img, p)
    planes = [q.copy() for q in radiometry.decode_planes(img)]
    sun, share = _sun_factors(planes, coarse)
    sun = sun if sun is not None else [np.ones(((h + 1) // 2, (w + 1) // 2), np.float32)] * 3
    light = night_light(p, coarse, {"image": img}, (h, w), share)
    sky = tuple(a.copy() for a in sky_share(planes, light))
    assert len(light.poles) and len(light.centres) and light.added is not None
    want = _relit_planes_then_mosaic([q.copy() for q in planes], light, sky, sun)
    got = relit_mosaic(planes, light, sky, sun)
    scale = float(np.percentile(np.abs(want), 99))
    assert np.abs(got - want).mean() < 1e-3 * scale
    assert np.abs(got - want).max() < 0.05 * max(scale, float(np.abs(want).max()))


# --- on real frames ----------------------------------------------------------------------


@pytest.mark.parametrize("name", FRAMES)
def test_noise_variance_grows_linearly_with_the_local_mean_on_real_frames(shared_data, name):
    """EMVA 1288 end to end, at the defaults (auto ISO, edge-aware demosaicking, chroma denoise):
    in linear light the noise of the output's luma (which the chroma denoise keeps) at the
    native green photosites has variance ≈ (LᵀM)_g² · shot · x, x the site's white-balanced
    camera signal: the fitted slope is within ±25 % of the gain the ISO sets (1.00–1.10×
    measured; the interpolated red and blue add ≈ 4 %). Noise added per pixel after
    demosaicking, in sRGB codes, or not scaled by the ISO would fail."""
    from domaug_driving.night import _sun_factors

    img = _load(shared_data, name)
    out = Night()(image=img, rng=FRAMES.index(name))
    a = out["applied"]
    p = a[0]["params"]
    noisy = radiometry.decode(out["image"])
    clean = radiometry.decode(_replay(a, img, shot_noise=0.0, read_noise=0.0))
    coarse = _coarse(img, p)
    _, sun_share = _sun_factors(radiometry.decode_planes(img), coarse)
    shot = night_light(p, coarse, {"image": img}, img.shape[:2], sun_share).shot
    green = np.zeros(img.shape[:2], bool)
    green[0::2, 1::2] = green[1::2, 0::2] = True  # RGGB
    ok = green & (clean.max(-1) < 0.9) & (noisy.min(-1) > 0) & (noisy.max(-1) < 0.99)
    residual = ((noisy - clean) @ raw_noise.LUMA)[ok]
    x = (clean @ raw_noise.CCM_INV.T)[..., 1][ok]
    edges = np.quantile(x[x > 0.02], np.linspace(0, 1, 9))
    means, variances = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (x >= lo) & (x < hi)
        means.append(x[sel].mean()), variances.append(residual[sel].var())
    slope = np.polyfit(means, variances, 1)[0]
    gain = float(raw_noise.LUMA @ raw_noise.CCM[:, 1]) ** 2 * shot
    assert max(means) > 3 * min(means)
    assert slope == pytest.approx(gain, rel=0.25)
