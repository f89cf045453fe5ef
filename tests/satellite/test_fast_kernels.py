"""The fast kernels of the satellite plugin equal their reference formulas and keep windows exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage, stats

import domaug
from domaug.ops import fields
from domaug_satellite import band_ops, bands, cloud_ops, resolution_ops, warp_ops
from domaug_satellite.coarse_fields import coarse_step, smooth_fractal
from domaug_satellite.pixel_random import BLOCK, normal_rows, pixel_normals, pixel_uniform


# --------------------------------------------------------------------------- counter-based normals

def test_pixel_normals_are_standard_normal():
    z = pixel_normals(7, (256, 256, 4)).astype(np.float64).ravel()
    assert abs(z.mean()) < 0.005 and abs(z.var() - 1.0) < 0.01
    assert abs(stats.kurtosis(z, fisher=False) - 3.0) < 0.05 and abs(stats.skew(z)) < 0.02
    assert stats.kstest(z[::7], "norm").pvalue > 1e-3
    assert 4.0 < np.abs(z).max() < 6.8  # Box–Muller on 32-bit uniforms: tails reach ~6.8σ


def test_pixel_normals_neighbours_are_independent():
    q = pixel_normals(3, (512, 512, 4)).reshape(512, -1).astype(np.float64)

    def corr(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert abs(corr(q[:, :-1], q[:, 1:])) < 0.01        # next band of the same pixel
    assert abs(corr(q[:, :-4], q[:, 4:])) < 0.01        # same band, next pixel
    assert abs(corr(q[:-1], q[1:])) < 0.01              # next row
    # Box–Muller partners (cosine at j, sine at BLOCK + j of a block) share the radius but
    # are independent: neither they nor their squares correlate
    blocks = q[:, : (q.shape[1] // (2 * BLOCK)) * 2 * BLOCK].reshape(512, -1, 2, BLOCK)
    assert abs(corr(blocks[:, :, 0], blocks[:, :, 1])) < 0.01
    assert abs(corr(blocks[:, :, 0] ** 2, blocks[:, :, 1] ** 2)) < 0.01
    # different seeds: independent fields
    assert abs(corr(q, pixel_normals(4, (512, 512, 4)).reshape(512, -1))) < 0.01


@pytest.mark.parametrize("shape,offset", [((40, 70, 12), (13, 101, 0)), ((33, 900), (5, 517)), ((700,), (333,)),
                                          ((8, 3, 5), (99, 1, 0))])
def test_pixel_normals_windows_equal_the_whole(shape, offset):
    full_shape = tuple(s + o for s, o in zip(shape, offset))
    whole = pixel_normals(11, full_shape)
    part = pixel_normals(11, shape, offset)
    index = tuple(slice(o, o + s) for s, o in zip(shape, offset))
    np.testing.assert_array_equal(part, whole[index])
    # chunked generation (rows at a time) gives the same numbers
    rows = normal_rows(11, 0, full_shape[0] if len(full_shape) > 1 else 1, 0, int(np.prod(full_shape[1:])) or 1)
    if len(full_shape) > 1:
        np.testing.assert_array_equal(rows.reshape(full_shape), whole)


def test_pixel_random_refuses_a_band_offset_and_gives_uniforms():
    with pytest.raises(ValueError, match="band"):
        pixel_normals(1, (4, 4, 3), (0, 0, 1))
    u = pixel_uniform(5, (3000,), (17,))
    assert u.dtype == np.float64 and 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    np.testing.assert_array_equal(u[10:], pixel_uniform(5, (2990,), (27,)))


# --------------------------------------------------------------------------- SensorNoise in DN

def test_sensor_noise_variance_in_dn_follows_the_reflectance_model():
    levels = np.array([10000.0, 20000.0, 40000.0])  # Landsat L1 DN: ρ = 2e-5·DN − 0.1 = 0.1, 0.3, 0.7
    img = np.repeat(levels, 128)[:, None] * np.ones((1, 128))
    img = np.stack([img] * 3, -1).astype(np.float32)
    meta = {"reflectance_gain": 2e-5, "reflectance_offset": -0.1}
    t = domaug.get_transform("satellite.SensorNoise", snr=40, read_noise_fraction=0.3)
    out = t(image=img, meta=meta, rng=2)
    p = out["applied"][0]["params"]
    for b in range(3):
        diff = (out["image"] - img)[..., b].astype(np.float64)
        for k, dn in enumerate(levels):
            rho = 2e-5 * dn - 0.1
            expected = (p["a"][b] * rho + p["b"][b]) / (2e-5) ** 2
            assert diff[k * 128:(k + 1) * 128].var() == pytest.approx(expected, rel=0.06)
            assert abs(diff[k * 128:(k + 1) * 128].mean()) < 4 * math.sqrt(expected / 128 ** 2)


def test_sensor_noise_windows_with_unaligned_columns_are_exact():
    img = np.full((20, 300, 12), 0.25, np.float32)
    t = domaug.get_transform("satellite.SensorNoise")
    whole = t(image=img, rng=9)
    params = whole["applied"][0]["params"]
    for r0, c0 in [(3, 1), (0, 43), (7, 170)]:
        part = type(t)().apply({"image": img[r0:, c0:c0 + 77], "meta": {"window_offset": [r0, c0],
                                                                          "full_shape": [20, 300]}}, params)
        np.testing.assert_array_equal(part["image"], whole["image"][r0:, c0:c0 + 77])


# --------------------------------------------------------------------------- percentiles

def test_percentiles_equal_numpy_and_band_percentiles_use_valid_finite_pixels():
    rng = np.random.default_rng(0)
    for dt in (np.uint16, np.float32, np.float64):
        for n in (1, 2, 9, 4001):
            x = (rng.random(n) * 3000).astype(dt)
            for q in ([0.5], [99.5], [1.0, 50.0, 100.0], [0.0]):
                np.testing.assert_allclose(bands.percentiles(x, q), np.percentile(x.astype(np.float64), q), rtol=1e-12)
    for dtype, nb in ((np.float32, 3), (np.uint16, 4), (np.uint8, 2)):  # 4×uint16: a pixel read as one word
        img = (rng.random((60, 50, nb)) * 250).astype(dtype)
        if dtype == np.float32:
            img[5, 5, 1] = np.nan
        valid = rng.random((60, 50)) > 0.3
        got = bands.band_percentiles({"image": img, "valid": valid}, [1.0, 99.0])
        for b in range(nb):
            v = img[..., b][valid].astype(np.float64)
            np.testing.assert_allclose(got[b], np.percentile(v[np.isfinite(v)], [1.0, 99.0]))


# --------------------------------------------------------------------------- band misregistration warps

def _scipy_warp(band, shift, angle, offset, centre):
    return warp_ops._rotate_scipy([band], angle if angle else 1e-300, offset, centre, shift)[0]


def test_pure_shift_equals_scipy_bilinear():
    rng = np.random.default_rng(1)
    img = (rng.random((50, 61)) * 1000).astype(np.float32)
    for shift in ([0.3, -1.7], [-2.25, 0.0], [0.0, 3.5], [4.0, -6.0], [-60.2, 70.9]):
        got = warp_ops.warp_band(img, None, shift, 0.0, (0, 0), (24.5, 30.0))
        np.testing.assert_allclose(got, _scipy_warp(img, shift, 0.0, (0, 0), (24.5, 30.0)), rtol=1e-5, atol=1e-3)


def test_rotation_remap_equals_scipy_within_a_64th_of_a_pixel(both_paths):
    yy, xx = np.mgrid[0:80, 0:90]
    ramp = (1000.0 * yy + 10.0 * xx).astype(np.float32)  # bilinear is exact on a ramp
    centre = (39.5, 44.5)
    for shift, angle in (([0.3, -0.7], 0.4), ([1.0, 2.0], -2.0), ([0.0, 0.0], 5.0)):
        fast, ref = both_paths(lambda: warp_ops.warp_band(ramp, None, shift, angle, (0, 0), centre))
        exact = _scipy_warp(ramp, shift, angle, (0, 0), centre)
        np.testing.assert_allclose(ref, exact, rtol=1e-6, atol=1e-2)  # DOMAUG_OPENCV=0: scipy itself
        err = np.abs(fast.astype(np.float64) - exact)[3:-3, 3:-3]
        assert err.max() <= (1000.0 + 10.0) / 64 + 0.05


@pytest.mark.parametrize("angle", [0.0, 0.7])
def test_warp_windows_with_halo_equal_the_whole(angle, both_paths):
    rng = np.random.default_rng(2)
    h, w = 120, 131
    yy, xx = np.mgrid[0:h, 0:w]
    img = (np.sin(xx / 7.0) * np.cos(yy / 5.0) * 1000 + 2000 + rng.normal(0, 50, (h, w))).astype(np.float32)
    valid = xx > 10 + 0.1 * yy
    centre = ((h - 1) / 2, (w - 1) / 2)
    shift = [1.37, -2.61]

    def run():
        whole = warp_ops.warp_band(img, valid, shift, angle, (0, 0), centre)
        for r0, c0, hh, ww in [(0, 0, 50, 60), (37, 51, 41, 80), (60, 3, 60, 128), (11, 97, 29, 34)]:
            halo = 6
            R0, C0 = max(0, r0 - halo), max(0, c0 - halo)
            R1, C1 = min(h, r0 + hh + halo), min(w, c0 + ww + halo)
            part = warp_ops.warp_band(img[R0:R1, C0:C1], valid[R0:R1, C0:C1], shift, angle, (R0, C0), centre)
            np.testing.assert_array_equal(part[r0 - R0:r0 - R0 + hh, c0 - C0:c0 - C0 + ww],
                                          whole[r0:r0 + hh, c0:c0 + ww])
        return whole

    fast, ref = both_paths(run)
    # nodata never bleeds: pixels with every tap valid equal the unweighted warp
    plain = warp_ops.warp_band(img, None, shift, angle, (0, 0), centre)
    inner = ndimage.binary_erosion(valid, iterations=6)
    np.testing.assert_allclose(fast[inner], plain[inner], rtol=1e-5)


# --------------------------------------------------------------------------- decimation

@pytest.mark.parametrize("r", [1.0, 1.5, 2.0, 2.7, 3.0, 3.9, 7.3])
def test_block_mean_and_block_all_equal_the_area_matrices(r):
    rng = np.random.default_rng(int(r * 10))
    for shape in [(37, 41), (37, 41, 3), (23, 30, 12), (3, 7, 4)]:
        a = (rng.random(shape) * 1000).astype(np.float32)
        ref = resolution_ops.apply_separable(a, resolution_ops.area_matrix(shape[0], r),
                                             resolution_ops.area_matrix(shape[1], r))
        got = resolution_ops.block_mean(a, r)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=1e-5)
        np.testing.assert_allclose(resolution_ops.block_mean(a.astype(np.float64), r), ref, rtol=1e-12)
        v = rng.random(shape[:2]) > 0.1
        mean = resolution_ops.apply_separable(v.astype(np.float64), resolution_ops.area_matrix(shape[0], r),
                                              resolution_ops.area_matrix(shape[1], r))
        np.testing.assert_array_equal(resolution_ops.block_all(v, r), mean > 1 - 1e-9)


# --------------------------------------------------------------------------- whole-raster band math

def test_cloud_cover_band_math_equals_the_adding_method_and_is_exact_where_clear():
    rng = np.random.default_rng(3)
    h, w, n = 40, 50, 3
    dn = (5000 + rng.random((h, w, n)) * 20000).astype(np.float32)
    r = np.where(rng.random((h, w)) > 0.5, rng.random((h, w)) * 0.8, 0).astype(np.float32)
    blocked = np.where(rng.random((h, w)) > 0.6, rng.random((h, w)), 0).astype(np.float32)
    r[:8] = 0
    blocked[:8] = 0  # clear rows: untouched, bit for bit
    gain, zero, cloud, sky = [2e-5] * n, [5000.0] * n, [0.88, 0.82, 0.55], [0.3, 0.2, 0.1]
    out = cloud_ops.cover_bands(band_ops.as_rows(dn.copy()), r, blocked, gain=gain, zero=zero, cloud=cloud,
                                skylight=sky, lo=0.0, hi=65535.0).reshape(h, w, n)
    np.testing.assert_array_equal(out[:8], dn[:8])
    for b in range(n):
        rho = (dn[..., b].astype(np.float64) - zero[b]) * gain[b] * (1 - (1 - sky[b]) * blocked)
        rc = cloud[b] * r
        ref = rc + (1 - r) ** 2 * rho / (1 - rc * np.clip(rho, 0, 1))
        np.testing.assert_allclose(out[..., b], np.clip(ref / gain[b] + zero[b], 0, 65535), rtol=2e-6, atol=0.05)


def test_haze_illumination_and_row_striping_equal_their_per_band_formulas():
    rng = np.random.default_rng(4)
    img = (0.05 + rng.random((30, 40, 4)) * 0.5).astype(np.float32)
    with pytest.warns(DeprecationWarning, match="airlight"):
        haze = domaug.get_transform("satellite.Haze", airlight=0.3)  # the deprecated Koschmieder kernel
    out = haze(image=img, meta={"band_names": ["blue", "green", "red", "nir"]}, rng=1)
    p = out["applied"][0]["params"]
    tau = smooth_fractal((30, 40), (0, 0), seed=p["seed"], scale_px=p["scale_px"], octaves=3, persistence=0.5)
    tau = np.maximum(1 + p["variability"] * tau.astype(np.float64), 0) * p["tau_550"] / math.cos(
        math.radians(p["zenith_deg"]))
    for b in range(4):
        t = np.exp(-(p["wavelengths_nm"][b] / 550.0) ** -p["angstrom"] * tau)
        np.testing.assert_allclose(out["image"][..., b], img[..., b] * t + p["airlight"][b] * (1 - t), rtol=1e-5)
    ill = domaug.get_transform("satellite.Illumination")(image=img, rng=2)
    p = ill["applied"][0]["params"]
    for b in range(4):
        ref = (img[..., b] - p["dark"][b]) * p["ratio"] * p["gain"][b] + p["dark"][b] + p["offset"][b]
        np.testing.assert_allclose(ill["image"][..., b], ref, rtol=1e-5, atol=1e-6)
    rows = domaug.get_transform("satellite.Striping", direction="rows", gain_std=0.05, offset_std=0.0)(
        image=img, meta={"full_scale": 1.0}, rng=3)["image"]
    ratio = rows / img
    np.testing.assert_allclose(ratio, ratio[:, :1, :] * np.ones((1, 40, 1)), rtol=1e-5)  # constant along rows
    assert ratio[:, 0, 0].std() > 0.02


# --------------------------------------------------------------------------- 2-D fractal noise

def test_blocked_2d_fractal_equals_the_generic_octave_sum():
    shape, offset = (70, 90), (13, 250)
    got = fields.fractal_noise(shape, seed=5, scale_px=24, octaves=4, persistence=0.6, offset=offset)
    ref = np.zeros(shape, np.float64)
    norm = 0.0
    for o in range(4):
        cell = [24 / 2.0 ** o] * 2
        amp = 0.6 ** o
        ref += amp * fields._perlin_octave(shape, offset, cell, fields._seed_key(5, o + 1), (None, None),
                                           np.float64)
        norm += amp * amp
    ref /= fields._PERLIN_STD[2] * math.sqrt(norm)
    np.testing.assert_allclose(got, ref, atol=2e-5)


@pytest.mark.parametrize("scale,octaves", [(166.0, 3), (700.0, 3), (400.0, 2), (40.0, 3)])
def test_coarse_grid_fractal_is_window_exact_and_close_to_the_per_pixel_field(scale, octaves):
    full = fields.fractal_noise((400, 500), seed=3, scale_px=scale, octaves=octaves, offset=(50, 70))
    got = smooth_fractal((400, 500), (50, 70), seed=3, scale_px=scale, octaves=octaves)
    win = smooth_fractal((150, 171), (50 + 123, 70 + 301), seed=3, scale_px=scale, octaves=octaves)
    np.testing.assert_array_equal(win, got[123:273, 301:472])
    err = np.abs(got.astype(np.float64) - full)
    if coarse_step(scale, octaves) < 2:
        assert err.max() == 0.0
    else:
        assert err.max() < 0.02 and np.sqrt((err ** 2).mean()) < 0.005  # field std ≈ 1
