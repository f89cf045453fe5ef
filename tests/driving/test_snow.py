"""driving.Snow: flakes follow visibility, depth and exposure; snow lies where it settles,
never on a vehicle; the haze keeps Koschmieder's contrast; no radial or periodic texture."""

from __future__ import annotations

import json

import numpy as np
import pytest

import domaug
from domaug_driving import overcast, radiometry, snow_cover, snowfall
from domaug_driving import depth as D
from domaug_driving.layout import GROUND, VERTICAL
from domaug_driving.scene import coarse_scene
from domaug_driving.snow import coarse_samples

Snow = domaug.registry.get_transform_class("driving.Snow")
LUMA = np.array([0.2126, 0.7152, 0.0722])
F_PX, CAM_H = 1151.9, 1.3  # the Udacity camera (SOURCES.md), as in test_layout.py
# the Udacity test6 cars (boxes from test_layout.py) and their horizon row
TEST6_HORIZON = 423
TEST6_CARS = [(810, 410, 942, 497), (1012, 405, 1200, 498)]


def _flakes(**kw):
    args = dict(seed=1, visibility_m=500.0, mean_diameter_mm=4.0, exposure_s=0.01, focal_px=144.0,
                horizon_row=70.0)
    args.update(kw)
    return snowfall.flake_opacity((120, 160), **args)


def test_flake_opacity_grows_as_visibility_drops():
    totals = [float(np.minimum(_flakes(visibility_m=v), 1).sum()) for v in (3000.0, 1000.0, 300.0, 100.0)]
    assert all(np.diff(totals) > 0), totals
    # N = β / (π·D̄²): 10 × the visibility, a tenth of the flakes
    assert snowfall.flakes_per_m3(100.0, 4.0) == pytest.approx(10 * snowfall.flakes_per_m3(1000.0, 4.0))


def test_near_flakes_are_big_soft_discs_far_ones_fine():
    def flakes(near, far):
        return _flakes(near_m=near, far_m=far, exposure_s=1e-4, focal_px=300.0, visibility_m=200.0, seed=3)

    def neighbour_corr(c):  # ≈ 1 for blobs many pixels wide, low for sub-pixel specks
        return float(np.corrcoef(c[:, :-1].ravel(), c[:, 1:].ravel())[0, 1])

    near, far = flakes(0.3, 0.6), flakes(10.0, 20.0)
    # near: f·D/Z ≈ 2.7 px + circle of confusion f·A/Z ≈ 1.7 px; far: both ≪ 1 px
    assert neighbour_corr(near) > 0.8 > 0.5 > neighbour_corr(far)
    assert near.max() < 0.9  # defocused near flakes are semi-transparent (energy spread)


def test_long_exposure_streaks_flakes_along_their_fall():
    still = _flakes(exposure_s=1e-4, wind_m_s=0.0, visibility_m=150.0, near_m=1.0, far_m=4.0, focal_px=400.0)
    moving = _flakes(exposure_s=0.05, wind_m_s=0.0, visibility_m=150.0, near_m=1.0, far_m=4.0, focal_px=400.0)

    def anisotropy(c):
        gx, gy = np.diff(c, axis=1), np.diff(c, axis=0)
        return float((gx * gx).sum() / (gy * gy).sum())

    # fall 0.5–1.5 m/s × 50 ms at 1–4 m, f = 400 px: 2.5–30 px vertical streaks, so variation is across them
    assert anisotropy(moving) > 2.0 * anisotropy(still)
    assert anisotropy(moving) > 2.0


def _road(h=90, w=120):
    img = np.zeros((h, w, 3), np.uint8)
    img[:52] = (140, 175, 230)
    img[52:] = 70
    return img


def test_snow_cover_whitens_road_but_not_sky():
    img = _road()
    depth = np.where(np.arange(90)[:, None] < 52, 1e9, 20.0).astype(np.float32) * np.ones((1, 120), np.float32)
    kw = dict(visibility_m=1e6, max_flakes=0, exposure_ms=5.0)
    bare = Snow(snow_cover=0.0, **kw)(image=img, depth=depth, rng=2)["image"].astype(float)
    white = Snow(snow_cover=0.9, **kw)(image=img, depth=depth, rng=2)["image"].astype(float)
    assert white[60:].mean() > bare[60:].mean() + 40
    # the sky is the overcast sky in both, only scaled by the exposure
    assert np.corrcoef(white[:45].ravel(), bare[:45].ravel())[0, 1] > 0.99 or white[:45].std() < 2


def test_lower_visibility_lowers_contrast():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    depth = np.full((60, 80), 100.0, np.float32)
    stds = [Snow(visibility_m=v, snow_cover=0.0)(image=img, depth=depth, rng=1)["image"].std()
            for v in (2000, 500, 150)]
    assert stds[0] > stds[1] > stds[2]


def test_wheel_tracks_stay_darker_than_the_snow_between_them():
    x = np.linspace(-1.85, 1.85, 371, dtype=np.float32)[None, :]
    tracks = snow_cover.lane_tracks(x, np.zeros_like(x))[0]
    centre = np.argmin(np.abs(x[0]))
    wheel = np.argmin(np.abs(x[0] - snow_cover.TRACK_OFFSET_M))
    assert tracks[wheel] == pytest.approx(1.0, abs=1e-3) and tracks[centre] < 0.03 and tracks[0] < 0.01
    # flat-bottomed bands with defined edges (tyre width plus wander), not Gaussian rays
    assert 0.3 <= (tracks > 0.5).sum() * float(x[0, 1] - x[0, 0]) / 2 <= 0.6
    # a cell seeing metres of road averages the bands: same mean, no aliasing
    wide = snow_cover.lane_tracks(x, np.full_like(x, 2.0))[0]
    assert np.ptp(wide) < 0.2 * np.ptp(tracks)
    # only the ego lane and its neighbours are tracked: no fan of tracks across the whole road
    far = np.linspace(5.6, 12.0, 200, dtype=np.float32)[None, :]
    assert snow_cover.lane_tracks(far, np.zeros_like(far)).max() == 0.0
    assert snow_cover.lane_tracks(-far, np.zeros_like(far)).max() == 0.0


def _lateral_profile(amount, x, z, centre, z_range=(7.0, 14.0), half=1.85, n=75):
    """Mean of ``amount`` over the ground rows with Z in ``z_range`` at lane offsets
    −half…half (m) from ``centre(Z)``: the lying snow across the lane, in ground metres."""
    offsets = np.linspace(-half, half, n)
    rows = np.flatnonzero((z[:, 0] >= z_range[0]) & (z[:, 0] <= z_range[1]))
    prof = [np.interp(centre(z[r, 0]) + offsets, x[r], amount[r]) for r in rows]
    return offsets, np.mean(prof, axis=0)


def _minima(offsets, prof, prominence=0.05, reach=0.5):
    """Indices of the lowest points of ``prof`` within ±``reach``/2 m that lie ``prominence``
    below its highest within ±``reach`` m on both sides (a dip, not a ripple)."""
    out = []
    dx = float(offsets[1] - offsets[0])
    near, far = max(1, int(round(0.5 * reach / dx))), max(2, int(round(reach / dx)))
    for i in range(len(prof)):
        lo, hi = max(0, i - near), min(len(prof), i + near + 1)
        if i in (0, len(prof) - 1) or prof[i] > prof[lo:hi].min() or (out and i - out[-1] <= near):
            continue
        left, right = prof[max(0, i - far) : i], prof[i + 1 : i + far + 1]
        if min(left.max(), right.max()) - prof[i] >= prominence:
            out.append(i)
    return out


def test_wheel_tracks_follow_the_painted_ego_lane(shared_data):
    # the Udacity test6 ego lane, measured on the frame (yellow line X = −1.77 + 0.0165·Z,
    # the first dashed line 4.0 m to its right): its centre X = 0.23 + 0.0165·Z
    img, _ = _test6_snow(shared_data)
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    coarse = coarse_scene({"image": img}, cam)
    x, z, _ = snow_cover.ground_coords(coarse["labels"].shape, coarse["k"], cam, img.shape[1])
    amounts = [snow_cover.lying_snow(coarse, cam, img.shape[1], 0.6, seed=s).amount for s in range(4)]
    offsets, prof = _lateral_profile(np.mean(amounts, axis=0), x, z, lambda zz: 0.23 + 0.0165 * zz)
    mins = _minima(offsets, prof)
    assert 1 <= len(mins) <= 2, (np.round(offsets[mins], 2), np.round(prof, 2))
    two = sorted(sorted(mins, key=lambda i: prof[i])[:2], key=lambda i: offsets[i])
    assert len(two) == 2, np.round(prof, 2)
    assert abs(offsets[two[0]] + snow_cover.TRACK_OFFSET_M) < 0.3 and abs(offsets[two[1]] - 0.8) < 0.3, offsets[two]
    # the tracks are clearly darker than the slush between them
    assert prof[len(prof) // 2] - max(prof[two[0]], prof[two[1]]) > 0.15


def test_no_wheel_tracks_beyond_the_neighbour_lanes():
    # a wide plain road (no paint: the ego lane centred on the camera): tracks in 3 lanes, not across it all
    h, w = 256, 512
    img = np.zeros((h, w, 3), np.uint8)
    img[:100] = (140, 175, 230)
    img[100:] = 90
    cam = {"focal_length_px": 200.0, "horizon_row": 100.0, "camera_height_m": 1.3}
    coarse = coarse_scene({"image": img}, cam)
    x, z, _ = snow_cover.ground_coords(coarse["labels"].shape, coarse["k"], cam, w)
    amounts = [snow_cover.lying_snow(coarse, cam, w, 0.6, seed=s).amount for s in range(4)]
    offsets, prof = _lateral_profile(np.mean(amounts, axis=0), x, z, lambda zz: 0.0, z_range=(7.0, 11.0),
                                     half=9.0, n=361)
    mins = _minima(offsets, prof, 0.1)
    assert len(mins) <= 6 and np.abs(offsets[mins]).max() < 5.55, np.round(offsets[mins], 2)


def _load(shared_data, name):
    from PIL import Image

    path = shared_data / "driving" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return np.asarray(Image.open(path).convert("RGB"))


def _test6_snow(shared_data, **kw):
    img = _load(shared_data, "udacity_test6.jpg")
    args = dict(focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    args.update(kw)
    return img, Snow(**args)


def test_lying_snow_never_covers_a_vehicle(shared_data):
    img, t = _test6_snow(shared_data)
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    coarse = coarse_scene({"image": img}, cam)
    k = coarse["k"]
    planes = radiometry.decode_planes(img)
    overcast.to_overcast(planes, coarse)  # what Snow hands to lying_snow
    overcast_small = coarse_samples(planes, k, coarse["labels"].shape)
    for cover in (0.3, 0.7, 1.0):
        lying = snow_cover.lying_snow(coarse, cam, img.shape[1], cover, seed=4, small=overcast_small)
        cap = snow_cover.EDGE_CAP * min(1.0, 1.2 * cover)
        for x0, y0, x1, y1 in TEST6_CARS:
            # the body below the roof (box corners show the background): no lying snow, at most
            # thin caps on a few ledges
            mx = (x1 - x0) // 8
            body = lying.amount[(y0 + (y1 - y0) // 3) // k : (y1 - 8) // k, (x0 + mx) // k : (x1 - mx) // k]
            assert body.max() <= cap + 1e-6, (cover, (x0, y0, x1, y1), float(body.max()))
            assert (body > 0.02).mean() < 0.25, (cover, (x0, y0, x1, y1), float((body > 0.02).mean()))
        ground = coarse["labels"] == GROUND
        assert lying.amount[ground].mean() > 0.25 * cover  # while the road gets it
    # with boxes: their interiors clear too, the roof band capped
    boxes = np.array([[x0, y0, x1, y1, 1] for x0, y0, x1, y1 in TEST6_CARS], float)
    lying = snow_cover.lying_snow(coarse, cam, img.shape[1], 0.8, seed=4, boxes=boxes, small=overcast_small)
    x0, y0, x1, y1 = TEST6_CARS[0]
    assert lying.amount[(y0 + 12) // k : y1 // k, x0 // k : x1 // k].max() == 0.0
    assert lying.amount[y0 // k, x0 // k : x1 // k].min() > 0.5


def test_snow_lies_on_verges_and_object_tops_and_markings_go_progressively(shared_data):
    img, _ = _test6_snow(shared_data)
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    coarse = coarse_scene({"image": img}, cam)
    labels = coarse["labels"]
    light = snow_cover.lying_snow(coarse, cam, img.shape[1], 0.3, seed=4)
    ground = light.ground
    verge = snow_cover.verge_weight(ground, snow_cover.ground_coords(labels.shape, coarse["k"], cam, img.shape[1])[0])
    edge, inner = ground & (verge > 0.8), ground & (verge == 0)
    assert light.amount[edge].mean() > light.amount[inner].mean() + 0.2  # verges whiten first
    tops = snow_cover.object_tops(labels, coarse["small"])
    assert tops[labels == VERTICAL].max() == 1.0 and tops[labels != VERTICAL].max() == 0.0
    # lane paint (bright ground cells) is covered more and more as snow settles
    y = coarse["small"] @ LUMA.astype(np.float32)
    paint = ground & (y > 3.0 * np.median(y[ground]))
    assert paint.sum() > 20
    means = [snow_cover.lying_snow(coarse, cam, img.shape[1], c, seed=4).amount[paint].mean() for c in (0.2, 0.5, 0.9)]
    # (not all: on the curving road some paint falls in the straight wheel-track bands)
    assert means[0] < means[1] < means[2] and means[2] > 0.5, means


def _angular_shares(diff: np.ndarray, bins: int = 12) -> tuple[np.ndarray, float]:
    """(energy share per orientation bin, largest off-DC bin's share of the total power) of
    the Hann-windowed 2-D power spectrum, over spatial frequencies 1/64–1/3 cycles/px."""
    h, w = diff.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    p = np.abs(np.fft.fftshift(np.fft.fft2((diff - diff.mean()) * win))) ** 2
    fy, fx = np.meshgrid(np.fft.fftshift(np.fft.fftfreq(h)), np.fft.fftshift(np.fft.fftfreq(w)), indexing="ij")
    r = np.hypot(fx, fy)
    band = (r > 1 / 64) & (r < 1 / 3)
    ang = np.mod(np.arctan2(fy, fx), np.pi)
    hist = np.bincount(np.minimum((ang[band] / np.pi * bins).astype(int), bins - 1), weights=p[band], minlength=bins)
    return hist / hist.sum(), float(p[band].max() / p[band].sum())


@pytest.mark.parametrize("name", ["udacity_test6.jpg", "udacity_straight_lines2.jpg"])
def test_no_dominant_orientation_or_period_in_the_road(shared_data, name):
    img = _load(shared_data, name)
    horizon = 423 if "test6" in name else 420
    win = (slice(horizon + 60, horizon + 220), slice(384, 896))  # the road ahead, above the hood
    lum_in = radiometry.decode(img[win]) @ LUMA
    shares_in, _ = _angular_shares(lum_in)
    # lane-parallel orientations: the painted markings' (≥ 10 % of the input's energy), their
    # mirror images about the vertical (lanes on the other side of the vanishing point run
    # that way), ± one 15° bin (lines and wheel tracks at other lateral offsets). Covering
    # the markings and the wheel tracks along the lanes put energy there: allowed.
    bins = len(shares_in)
    painted = np.flatnonzero(shares_in >= 0.1)
    assert 1 <= len(painted) <= 3
    lanes = np.zeros(bins, bool)
    for b in painted:
        for c in (b, bins - 1 - b):
            lanes[[(c - 1) % bins, c, (c + 1) % bins]] = True
    assert lanes.sum() <= 8
    for seed in range(3):
        t = Snow(focal_length_px=F_PX, horizon_row=horizon, camera_height_m=CAM_H, max_flakes=0)
        out = t(image=img, rng=seed)["image"]
        shares, peak = _angular_shares(radiometry.decode(out[win]) @ LUMA - lum_in)
        # every other orientation holds about its isotropic share (1/12 = 0.083), none dominates
        # (the radial texture this replaced put 0.16–0.39 of the energy in one such bin)
        assert shares[~lanes].max() < 0.12, (seed, np.round(shares, 3))
        assert peak < 0.05, (seed, peak)  # no periodic texture: no spike off DC


def test_near_cars_keep_koschmieder_contrast(shared_data):
    img, _ = _test6_snow(shared_data)
    lum = lambda a: radiometry.decode(a) @ LUMA  # noqa: E731
    for vis in (150.0, 400.0, 800.0):
        kw = dict(focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H, max_flakes=0, snow_cover=0.8)
        snowy = Snow(visibility_m=vis, **kw)(image=img, rng=3)
        ref = domaug.replay(json.loads(json.dumps(snowy["applied"])), image=img)  # replays exactly
        np.testing.assert_array_equal(ref["image"], snowy["image"])
        clear = Snow(visibility_m=1e7, **{**kw, "snow_cover": 0.0})(image=img, rng=3)["image"]
        for x0, y0, x1, y1 in TEST6_CARS:
            d = F_PX * CAM_H / (y1 + 0.5 - TEST6_HORIZON)
            assert d <= 30.0
            body = (slice(y0 + 15, y1 - 8), slice(x0 + 10, x1 - 10))
            # RMS contrast (std of linear luminance) of the car against the overcast scene without snow
            c_out, c_ref = lum(snowy["image"][body]).std(), lum(clear[body]).std()
            # the auto-exposure gain scales the car and its contrast alike: compare at equal exposure
            expected = np.exp(-np.log(20.0) * d / vis)
            g_exp = _exposure_gain(img, snowy)
            assert c_out / (g_exp * c_ref) >= 0.8 * expected, (vis, (x0, y0, x1, y1), c_out / c_ref, expected)


def test_near_cars_keep_koschmieder_contrast_at_the_default_draws(shared_data):
    """The same bound at the default draws (visibility, lying snow, flakes all drawn): measured
    0.81–1.22 of the snow-free contrast against bounds of 0.65–0.77 over seeds 0–5 (falling
    flakes add a little contrast of their own; the haze takes it away)."""
    img, t = _test6_snow(shared_data)
    lum = lambda a: radiometry.decode(a) @ LUMA  # noqa: E731
    kw = dict(focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    for seed in range(3):
        snowy = t(image=img, rng=seed)
        vis = snowy["applied"][0]["params"]["visibility_m"]
        clear = Snow(visibility_m=1e7, snow_cover=0.0, max_flakes=0, **kw)(image=img, rng=seed)["image"]
        g_exp = _exposure_gain(img, snowy)
        for x0, y0, x1, y1 in TEST6_CARS:
            d = F_PX * CAM_H / (y1 + 0.5 - TEST6_HORIZON)
            body = (slice(y0 + 15, y1 - 8), slice(x0 + 10, x1 - 10))
            ratio = lum(snowy["image"][body]).std() / (g_exp * lum(clear[body]).std())
            assert ratio >= 0.8 * np.exp(-np.log(20.0) * d / vis), (seed, vis, (x0, y0, x1, y1), ratio)


def _exposure_gain(img, result) -> float:
    """The auto-exposure gain Snow applied (from the recorded params, recomputed)."""
    from domaug_driving.snow import _coarse_fields
    from domaug_driving import overcast

    p = result["applied"][0]["params"]
    planes = radiometry.decode_planes(img)
    coarse = coarse_scene({"image": img}, p["camera"])
    overcast.to_overcast(planes, coarse)
    return float(_coarse_fields(planes, coarse, p, None)["gain"])


def test_sky_in_snowfall_is_the_uniform_airlight_near_the_snow_radiance(shared_data):
    img, t = _test6_snow(shared_data, visibility_m=300.0, max_flakes=0, snow_cover=1.0)
    out = t(image=img, rng=0)["image"]
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=TEST6_HORIZON, camera_height_m=CAM_H)
    from scipy.ndimage import binary_erosion

    sky = binary_erosion(D.scene_layout(img, camera=cam).labels == D.SKY, iterations=6)
    y = radiometry.decode(out) @ LUMA
    assert sky.mean() > 0.1 and y[sky].std() < 0.02 * y[sky].mean()  # no gradient, no blue left
    # the airlight is the mean radiance around a flake: dome (⅔ L_z) and snow (0.85·7/9 L_z)
    # halved, within a few % of the snow's own radiance
    road = (slice(560, 640), slice(500, 780))
    assert np.percentile(y[road], 90) == pytest.approx(y[sky].mean(), rel=0.25)


@pytest.mark.parametrize("name", ["udacity_test6.jpg", "udacity_straight_lines2.jpg", "udacity_solidWhiteRight.jpg"])
def test_mean_luminance_is_not_a_white_wash(shared_data, name):
    img = _load(shared_data, name)
    y_in = (radiometry.decode(img) @ LUMA).mean()
    for seed in range(3):
        out = Snow()(image=img, rng=seed)["image"]
        ratio = (radiometry.decode(out) @ LUMA).mean() / y_in
        # the camera meters the snowy scene: its mean stays near the overcast frame's (which
        # is at or below the sunny input's), not 2–3× brighter
        assert 0.5 < ratio < 1.25, (seed, ratio)


def test_reproducible_replayable_and_untouched():
    img = _road()
    before = img.copy()
    boxes = np.array([[40, 40, 70, 70, 1]], float)
    a = Snow()(image=img, bboxes=boxes, rng=8)
    b = Snow()(image=img, bboxes=boxes, rng=8)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(a["bboxes"], boxes)
    assert a["image"].dtype == np.uint8 and a["image"].shape == img.shape
    again = domaug.replay(json.loads(json.dumps(a["applied"])), image=img, bboxes=boxes)
    np.testing.assert_array_equal(again["image"], a["image"])


def test_float_and_uint16_inputs_keep_dtype_and_range():
    img = _road().astype(np.float32) / 255.0
    out = Snow()(image=img, rng=1)["image"]
    assert out.dtype == np.float32 and out.shape == img.shape and np.isfinite(out).all() and out.min() >= 0
    img16 = _road().astype(np.uint16) * 257
    out16 = Snow()(image=img16, rng=1)["image"]
    assert out16.dtype == np.uint16 and out16.shape == img16.shape


def test_refuses_volume():
    with pytest.raises(domaug.UnsupportedInputError):
        Snow()(image=np.zeros((3, 8, 8), np.float32), meta={"spatial_ndim": 3})


def test_fast_grid_helpers_match_their_numpy_definitions():
    # the speed paths (issue 16) must compute exactly what the plain numpy they replace did
    from domaug_driving import snow as S

    rng = np.random.default_rng(5)
    small = rng.random((40, 50, 3), dtype=np.float32)
    for _ in range(20):
        mask = rng.random((40, 50)) < rng.uniform(0.05, 0.9)
        assert S._row_quantile(mask.sum(axis=1), 0.75) == pytest.approx(np.quantile(np.nonzero(mask)[0], 0.75))
        np.testing.assert_allclose(S._median_rgb(small, mask), np.median(small[mask], axis=0), rtol=1e-6)
        np.testing.assert_allclose(S._median_rgb(small, mask, 4), np.median(small[mask][::4], axis=0), rtol=1e-6)
    hi, lo = small.max(axis=-1), small.min(axis=-1)
    np.testing.assert_allclose(snow_cover.saturation(small), (hi - lo) / (hi + 1e-6), rtol=1e-6)
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    grass = (g > 1.1 * b) & (r < 2 * g) & ((hi - lo) / (hi + 1e-6) > 0.15) & (hi > 0.04)
    np.testing.assert_array_equal(snow_cover.grass_coloured(small), grass)
    x = rng.uniform(-30, 30, (20, 30)).astype(np.float32)
    rel = np.mod(x + 1.85, 3.7) - 1.85
    d = np.abs(np.abs(rel) - snow_cover.TRACK_OFFSET_M)
    s = snow_cover.TRACK_EDGE_M
    ref = np.clip((snow_cover.TRACK_WIDTH_M / 2 - d) / s + 0.5, 0, 1) * (np.abs(np.floor((x + 1.85) / 3.7)) <= 1)
    np.testing.assert_allclose(snow_cover.lane_tracks(x, np.zeros_like(x)), ref, atol=1e-5)
