"""driving.LensDroplets: defocused water lenses on the windscreen — an inverted view, soft edges, energy kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug_driving.droplet_optics import TRANSMITTANCE, circle_of_confusion_px, deflection
from domaug_driving.lens_droplets import render_droplets

LensDroplets = domaug.registry.get_transform_class("driving.LensDroplets")


def _with_drops(t, image, drops, **over):
    """Apply ``t`` with its own draw but the given drops (and optics overrides)."""
    sample = {"image": image}
    params = t.make_params(np.random.default_rng(0), sample)
    params.update(over, drops=drops)
    return t.apply(sample, params)["image"], params


def _half_sky(h=240, w=320, top=0.8, bottom=0.05):
    img = np.full((h, w, 3), bottom, np.float32)
    img[: h // 2] = top
    return img


def test_circle_of_confusion_is_the_thin_lens_one():
    # focused at infinity: c = f_px·A/d (A = F/N); 4 mm f/2 at 10 cm on a 1000 px focal length → 20 px
    assert circle_of_confusion_px(1000.0, 4.0, 2.0, 1e6, 0.1) == pytest.approx(20.0, rel=1e-3)
    assert circle_of_confusion_px(1000.0, 4.0, 4.0, 1e6, 0.1) == pytest.approx(10.0, rel=1e-3)  # stopped down
    assert circle_of_confusion_px(1000.0, 4.0, 2.0, 0.1, 0.1) == pytest.approx(0.0)  # focused on the glass


def test_refraction_bends_rays_towards_the_axis_and_reflects_totally_at_steep_rims():
    tan_d, tir = deflection(np.array([0.0, 0.5, 1.0], np.float32), math.sin(math.radians(40)))
    assert tan_d[0] == 0 and 0 < tan_d[1] < tan_d[2] and not tir.any()
    # n·sin β = 1.333·sin 70° > 1: the rim of a steep drop reflects totally
    assert deflection(np.array([1.0], np.float32), math.sin(math.radians(70)))[1].all()


def test_a_drop_shows_the_scene_upside_down():
    """Bright sky above, dark road below: a drop in the sky looks down through its top (dark) and
    up through its bottom (bright) — the inverted view of a water lens."""
    img = _half_sky()
    t = LensDroplets(focal_length_px=600.0, f_number=8.0, drop_distance_m=0.1, focus_distance_m=1e5)
    drop = {"row": 60.0, "col": 160.0, "radius_px": 30.0, "aspect": 1.0, "contact_angle_deg": 45.0}
    out, params = _with_drops(t, img, [drop])
    assert params["coc_px"] < 4.0
    lum = out.mean(-1)
    assert lum[60 - 18, 160] < 0.3 < 0.6 < lum[60 + 18, 160]  # top sees the road, bottom the sky
    assert lum[60 - 18, 160] < img[60 - 18, 160, 0]  # without the drop it would be sky


def test_drop_view_correlates_with_the_flipped_scene(shared_data):
    """On a real frame, a drop's interior correlates with the vertically flipped column of the scene
    behind it (its top shows the ground below, its bottom the sky above)."""
    from PIL import Image

    img = np.asarray(Image.open(shared_data / "driving" / "udacity_straight_lines2.jpg").convert("RGB"))
    t = LensDroplets(f_number=16.0, focus_distance_m=1e5)
    drop = {"row": 300.0, "col": 640.0, "radius_px": 60.0, "aspect": 1.0, "contact_angle_deg": 40.0}
    out, _ = _with_drops(t, img, [drop])
    col = out[250:351, 635:646].astype(float).mean(axis=(1, 2))  # the inner ±50 rows of the drop
    scene = img[:, 635:646].astype(float).mean(axis=(1, 2))
    # the drop sees ±f·tan δ(1) ≈ ±400 rows around its centre: the scene's rows 0..600, resampled
    seen = np.interp(np.linspace(0, 600, col.size), np.arange(scene.size), scene)
    flipped, upright = np.corrcoef(col, seen[::-1])[0, 1], np.corrcoef(col, seen)[0, 1]
    assert flipped > 0.7 and flipped > upright + 0.4
    assert col[:20].mean() < col[-20:].mean()  # dark (road) on top, bright (sky) below


def test_edge_is_as_soft_as_the_circle_of_confusion():
    """Along a line through the drop the transition from background to drop spans ≥ 0.85·c
    (the 1–99 % width of a step blurred by a disc of diameter c is 0.88·c); a drop in focus
    has a sharp edge."""
    img = _half_sky()
    drop = {"row": 60.0, "col": 160.0, "radius_px": 40.0, "aspect": 1.0, "contact_angle_deg": 45.0}

    def width(**kw):
        out, params = _with_drops(LensDroplets(focal_length_px=900.0, drop_distance_m=0.1, **kw), img, [drop])
        profile = out[:, 160].mean(-1)[:60]  # from the frame top down to the drop centre
        step = img[0, 0, 0] - profile.min()
        changed = np.nonzero(np.abs(profile - img[0, 0, 0]) > 0.01 * step)[0]
        done = np.nonzero(profile <= profile.min() + 0.01 * step)[0]
        return done[0] - changed[0] + 1, params["coc_px"]

    w, coc = width(f_number=2.0, focal_length_mm=4.0, focus_distance_m=20.0)
    assert coc > 15 and w >= 0.85 * coc
    sharp, coc_sharp = width(f_number=2.0, focal_length_mm=4.0, focus_distance_m=0.1)
    assert coc_sharp < 1 and sharp < 0.3 * coc


def test_energy_is_conserved_and_the_rest_of_the_frame_untouched():
    rng = np.random.default_rng(1)
    img = rng.uniform(0.1, 0.9, (120, 160, 3)).astype(np.float32)
    grey = np.full((120, 160, 3), 0.5, np.float32)
    drop = {"row": 60.0, "col": 80.0, "radius_px": 20.0, "aspect": 1.2, "contact_angle_deg": 40.0}
    t = LensDroplets(focal_length_px=300.0, f_number=2.0, drop_distance_m=0.1, focus_distance_m=20.0)
    out, params = _with_drops(t, img, [drop])
    assert out.max() <= img.max() + 1e-6 and out.min() >= 0  # a convex mix of scene radiances
    flat, _ = _with_drops(t, grey, [drop])
    assert flat.min() >= 0.5 * TRANSMITTANCE - 1e-5 and flat.max() <= 0.5 + 1e-6  # only the Fresnel loss
    yy, xx = np.mgrid[0:120, 0:160]
    far = np.hypot((yy + 0.5 - 60) / 1.2, xx + 0.5 - 80) > 20 + params["coc_px"] / 2 + 2
    np.testing.assert_array_equal(out[far], img[far])


def test_defaults_reproducible_replayable_and_keep_dtype():
    img = (np.random.default_rng(2).random((90, 120, 3)) * 255).astype(np.uint8)
    t = LensDroplets(drops_per_cm2=3.0)
    a = t(image=img, rng=4)
    assert a["image"].dtype == np.uint8 and a["image"].shape == img.shape
    np.testing.assert_array_equal(a["image"], t(image=img, rng=4)["image"])
    np.testing.assert_array_equal(domaug.replay(a["applied"], image=img)["image"], a["image"])
    assert len(a["applied"][0]["params"]["drops"]) > 0 and not np.array_equal(a["image"], img)
    img16 = img.astype(np.uint16) * 257
    out16 = t(image=img16, rng=4)["image"]
    assert out16.dtype == np.uint16
    assert np.abs(out16 / 257.0 - a["image"]).max() <= 2


def test_nodata_stays_nodata():
    img = np.full((80, 100, 3), 120, np.uint8)
    img[:, :10] = 0
    t = LensDroplets(drops_per_cm2=20.0)
    out = t(image=img, meta={"nodata": 0}, rng=1)["image"]
    assert (out[:, :10] == 0).all() and (out[:, 10:] > 0).all()


def test_drop_count_follows_density_and_glass_area():
    img = np.zeros((720, 1280, 3), np.uint8)
    t = LensDroplets(drops_per_cm2=0.5, drop_distance_m=0.1, focal_length_px=1152.0)
    counts = [len(t.make_params(np.random.default_rng(s), {"image": img})["drops"]) for s in range(20)]
    area = (1280 / 1152 * 10) * (720 / 1152 * 10)  # cm² of glass in view
    assert np.mean(counts) == pytest.approx(0.5 * area, rel=0.15)


def test_dirt_darkens_and_is_reproducible():
    img = np.full((80, 100, 3), 180, np.uint8)
    a = LensDroplets(drops_per_cm2=0, dirt=0.8)(image=img, rng=3)["image"]
    assert a.mean() < img.mean() and a.min() < 150
    np.testing.assert_array_equal(a, LensDroplets(drops_per_cm2=0, dirt=0.8)(image=img, rng=3)["image"])
    clean = LensDroplets(drops_per_cm2=0, dirt=0.0)(image=img, rng=3)["image"]
    np.testing.assert_array_equal(clean, img)


def test_rain_form_of_drops_still_renders():
    lin = _half_sky(120, 160)
    before = lin.copy()
    render_droplets(lin, [{"row": 30.0, "col": 80.0, "radius": 12.0, "aspect": 1.0, "mag": 3.0}], 2)
    assert not np.array_equal(lin, before) and lin.max() <= before.max() + 1e-6


def test_opencv_and_numpy_paths_agree(both_paths):
    img = (np.random.default_rng(3).random((90, 120, 3)) * 255).astype(np.uint8)
    t = LensDroplets(drops_per_cm2=3.0, dirt=(0.0, 0.5))
    fast, ref = both_paths(lambda: t(image=img, rng=2)["image"].astype(int))
    assert np.abs(fast - ref).max() <= 2


def test_fast_8bit_path_equals_the_float_path():
    """8-bit frames are blended in 16-bit linear codes: within one code of the float pipeline."""
    from domaug.kit import linear_to_srgb8, srgb_codes_to_linear

    rng = np.random.default_rng(3)
    img = np.repeat(np.linspace(20, 235, 240).astype(np.uint8)[:, None], 320, axis=1)[..., None].repeat(3, -1)
    img[:, ::9] = rng.integers(0, 256, (240, 1, 3))  # structure for the drops to refract
    t = LensDroplets(drops_per_cm2=3.0, focal_length_px=300.0)
    for seed in range(3):
        fast = t(image=img, rng=seed)["image"].astype(int)
        ref = linear_to_srgb8(t(image=srgb_codes_to_linear(img), rng=seed)["image"]).astype(int)
        assert (fast != img).any() and np.abs(fast - ref).max() <= 1
