"""SeasonShift: a green/senescent/soil canopy mixture; spectra move the right way, fields differ, the rest stays."""
import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_field, agri_multispectral, agri_rgb
from domaug.errors import ParameterError, UnsupportedInputError
from domaug_agriculture import canopy_model
from domaug_agriculture.vegetation import exg, ndvi, vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}
NM = [475.0, 560.0, 668.0, 840.0, 717.0]
B, G, R, NIR, RE = range(5)


def shift(image, meta=None, rng=0, **kw):
    kw.setdefault("field_timing_spread", 0.0)
    return domaug.get_transform("agriculture.SeasonShift", **kw)(image=image, meta=meta, rng=rng)["image"]


def reflectance_field(h=96, w=128, seed=7, row_period=16):
    """uint16 reflectance ×10000 of a crop field built from the model's own green canopy and soil spectra."""
    plant, texture = agri_field(h, w, seed, row_period)
    gv, _, soil = canopy_model.spectra(NM)
    rho = plant[..., None] * gv + (1 - plant[..., None]) * soil * (1 + 0.05 * texture[..., None])
    return np.rint(rho * 10000).astype(np.uint16), plant


def nd(img):
    x = img.astype(float)
    return (x[..., NIR] - x[..., R]) / (x[..., NIR] + x[..., R])


@pytest.mark.parametrize("stage", ["senescence", "dormant"])
def test_senescence_and_dormancy_lower_nir_and_red_edge_and_raise_red(stage):
    img, plant = reflectance_field()
    out = shift(img, {"band_names": AGRI_BANDS}, stage=stage, strength=1.0).astype(float)
    veg = plant > 0.9
    ratio = out[veg].mean(0) / img[veg].astype(float).mean(0)
    assert ratio[NIR] < 0.85 and ratio[RE] < 0.97  # leaf structure and chlorophyll lost
    assert ratio[R] > 2.0  # chlorophyll absorption gone: red up
    ndre0 = (img[veg, NIR] - img[veg, RE].astype(float)) / (img[veg, NIR] + img[veg, RE].astype(float))
    ndre1 = (out[veg, NIR] - out[veg, RE]) / (out[veg, NIR] + out[veg, RE])
    assert ndre1.mean() < ndre0.mean() - 0.08


@pytest.mark.parametrize("stage", ["senescence", "dormant", "peak", "green-up"])
@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_full_cover_ndvi_reaches_the_stage_ndvi(stage, strength):
    img, plant = reflectance_field()
    out = shift(img, {"band_names": AGRI_BANDS}, stage=stage, strength=strength)
    full = plant == 1.0
    s, cover = canopy_model.STAGES[stage]
    expected = canopy_model.stage_ndvi(strength * s, 1 + strength * (cover - 1))
    assert nd(out)[full].mean() == pytest.approx(expected, abs=0.01)


def test_stage_ndvi_table():
    assert canopy_model.stage_ndvi(0.0) == pytest.approx(0.86, abs=0.01)  # green canopy
    assert canopy_model.stage_ndvi(*canopy_model.STAGES["senescence"]) == pytest.approx(0.44, abs=0.01)
    assert canopy_model.stage_ndvi(*canopy_model.STAGES["dormant"]) == pytest.approx(0.22, abs=0.01)
    s = canopy_model.senescent_fraction_for_ndvi(0.5)
    assert canopy_model.stage_ndvi(s) == pytest.approx(0.5, abs=1e-6)


def test_non_vegetation_is_bit_exact_and_plant_edges_fade():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    out = shift(img, META, stage="dormant", strength=1.0)
    np.testing.assert_array_equal(out[~veg], img[~veg])
    n0 = ndvi(img, META)
    weak = veg & (n0 < 0.35)  # mixed edge pixels just above the threshold change little
    strong = veg & (n0 >= np.percentile(n0[veg], 90))
    d = np.abs(out.astype(float) - img)[..., NIR] / img[..., NIR]
    assert d[weak].mean() < 0.3 * d[strong].mean()


def test_fields_draw_their_own_timing():
    img, plant = reflectance_field(128, 160)
    other, other_plant = reflectance_field(128, 160, seed=9, row_period=6)  # another crop: narrow rows
    img[:, 80:], plant[:, 80:] = other[:, 80:], other_plant[:, 80:]
    meta = {"band_names": AGRI_BANDS}
    t = domaug.get_transform("agriculture.SeasonShift", stage="senescence", strength=0.5, field_timing_spread=0.3)
    changes = []
    for seed in range(6):
        out = t(image=img, meta=meta, rng=seed)["image"]
        d = nd(out) - nd(img)
        full = plant == 1.0
        changes.append((d[:, :70][full[:, :70]].mean(), d[:, 90:][full[:, 90:]].mean()))
    gaps = [abs(a - b) for a, b in changes]
    assert max(gaps) > 0.05  # the two fields sit at different points of the season
    same = shift(img, meta, stage="senescence", strength=0.5, field_timing_spread=0.0)
    d = nd(same) - nd(img)
    assert abs(d[:, :70][plant[:, :70] == 1].mean() - d[:, 90:][plant[:, 90:] == 1].mean()) < 0.02


def test_rgb_senescence_turns_leaves_yellow_brown_and_soil_stays():
    img, _ = agri_rgb(96, 128)
    veg = vegetation_mask(img)
    out = shift(img, stage="senescence", strength=1.0)
    r, g, b = out[veg].astype(float).mean(0)
    assert r > 0.9 * g and g > b  # olive-yellow to orange, no longer green
    assert exg(out)[veg].mean() < exg(img)[veg].mean() - 0.05
    np.testing.assert_array_equal(out[~veg], img[~veg])


def test_rgba_footprint_and_alpha_untouched():
    img, _ = agri_rgb(48, 64)
    alpha = np.full(img.shape[:2], 255, np.uint8)
    alpha[:, :25] = 0
    rgba = np.dstack([img, alpha])
    out = shift(rgba, {"band_names": ["red", "green", "blue", "alpha"]}, stage="dormant", strength=1.0)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[:, :25], rgba[:, :25])
    assert (out[:, 25:] != rgba[:, 25:]).any()


def test_float_image_refusals_and_deprecations():
    img = agri_multispectral(32, 40).astype(np.float32) / 4095
    out = shift(img, {"band_names": AGRI_BANDS}, stage="senescence", strength=1.0)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    veg = vegetation_mask(img, {"band_names": AGRI_BANDS})
    assert ndvi(out, {"band_names": AGRI_BANDS})[veg].mean() < ndvi(img, {"band_names": AGRI_BANDS})[veg].mean() - 0.2
    t = domaug.get_transform("agriculture.SeasonShift")
    with pytest.raises(UnsupportedInputError, match="2-D"):
        t(image=np.zeros((4, 8, 8), np.float32), meta={"spatial_ndim": 3})
    with pytest.raises(UnsupportedInputError, match="band_names"):
        t(image=np.zeros((8, 8, 2), np.uint16))
    with pytest.raises(ParameterError, match="stage"):
        domaug.get_transform("agriculture.SeasonShift", stage="autumn")
    with pytest.raises(ParameterError, match="strength"):
        domaug.get_transform("agriculture.SeasonShift", strength=1.5)
    with pytest.warns(DeprecationWarning, match="feather_px"):
        domaug.get_transform("agriculture.SeasonShift", feather_px=1.5)


def test_target_ndvi_override():
    img, plant = reflectance_field()
    out = shift(img, {"band_names": AGRI_BANDS}, stage="senescence", strength=1.0, target_ndvi=0.6)
    assert nd(out)[plant == 1.0].mean() == pytest.approx(0.6, abs=0.01)
    with pytest.raises(ParameterError, match="target_ndvi"):
        domaug.get_transform("agriculture.SeasonShift", target_ndvi=1.2)


def test_replay_is_exact():
    img = agri_multispectral(64, 80)
    t = domaug.get_transform("agriculture.SeasonShift")
    out = t(image=img, meta=META, rng=3)
    again = domaug.replay(out["applied"], image=img, meta=META)
    np.testing.assert_array_equal(again["image"], out["image"])


# -- acceptance on the real files -----------------------------------------------------------------------------

def test_real_micasense_senescence_matches_the_stage(micasense_aligned):
    """Aligned capture: vegetation NIR falls; full-cover NDVI reaches the stage's within 0.03; the rest < 1 %.

    NDVI is taken on DN − black level with each band scaled so the densest canopy (90th percentile
    of NDVI) has the green-vegetation reflectance of the model (an empirical line on the canopy).
    """
    image, meta, _ = micasense_aligned
    x0 = image.astype(float) - meta["black_level"]
    n0 = nd(x0)
    veg = vegetation_mask(image, meta)
    full = veg & (n0 >= np.percentile(n0[veg], 90))
    gain = canopy_model.spectra(meta["wavelengths_nm"])[0] / x0[full].mean(0)
    for strength in (0.6, 1.0):
        out = shift(image, meta, stage="senescence", strength=strength)
        x1 = out.astype(float) - meta["black_level"]
        assert x1[veg, NIR].mean() < 0.9 * x0[veg, NIR].mean()
        assert x1[veg, RE].mean() < x0[veg, RE].mean()
        expected = canopy_model.stage_ndvi(strength * canopy_model.STAGES["senescence"][0])
        assert nd(x1 * gain)[full].mean() == pytest.approx(expected, abs=0.03)
        rel = np.abs(out[~veg].astype(float) - image[~veg]) / np.maximum(image[~veg], 1)
        assert rel.max() < 0.01


def test_real_micasense_fields_are_segmented_and_draw_their_own_timing(micasense_aligned):
    """The vineyard (left) and the orchard (right) are different fields; each moves as one, by its own amount."""
    from domaug_agriculture import fields

    image, meta, _ = micasense_aligned
    x0 = image.astype(float) - meta["black_level"]
    labels = fields.segment_fields(nd(x0).astype(np.float32))
    vineyard, orchard = labels[:, :350], labels[:, 760:]
    major = [np.bincount(part.ravel()).argmax() for part in (vineyard, orchard)]
    assert major[0] != major[1]
    assert (vineyard == major[0]).mean() > 0.7 and (orchard == major[1]).mean() > 0.9  # not cut into strips
    veg = vegetation_mask(image, meta)
    t = domaug.get_transform("agriculture.SeasonShift", stage="senescence", strength=0.6)
    gaps, spreads = [], []
    for seed in range(6):
        out = t(image=image, meta=meta, rng=seed)["image"]
        x1 = out.astype(float) - meta["black_level"]
        assert x1[veg, NIR].mean() < x0[veg, NIR].mean()
        ratio = x1[..., NIR] / np.maximum(x0[..., NIR], 1)  # the NIR gain of a pixel at its field's timing
        dense = veg & (nd(x0) > np.percentile(nd(x0)[veg], 80))
        per_field = [np.median(ratio[:, cols][dense[:, cols] & (labels[:, cols] == m)])
                     for cols, m in ((slice(0, 350), major[0]), (slice(760, None), major[1]))]
        gaps.append(abs(per_field[0] - per_field[1]))
        upper, lower = dense[:480, 760:] & (labels[:480, 760:] == major[1]), dense[480:, 760:] & (
            labels[480:, 760:] == major[1])
        spreads.append(abs(np.median(ratio[:480, 760:][upper]) - np.median(ratio[480:, 760:][lower])))
    assert max(gaps) > 0.05  # fields at different points of the season
    assert max(spreads) < 0.02  # one field moves as one


def test_real_pix4d_senescence(pix4d):
    image, meta = pix4d
    veg = vegetation_mask(image, meta)
    out = shift(image, meta, stage="senescence", strength=0.8)
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])
    np.testing.assert_array_equal(out[~veg], image[~veg])  # roofs, road, walls, water
    assert exg(out, meta)[veg].mean() < exg(image, meta)[veg].mean() - 0.03


def test_real_pix4d_fields_follow_the_plots(pix4d):
    """At 0.353 m GSD the 20–40 m plots are fields of their own: many fields, one green plot one field."""
    from domaug_agriculture import bands, fields

    image, meta = pix4d
    fp = image[..., 3] > 0
    labels = fields.segment_fields(exg(image, meta), fp, bands.gsd_of(meta))
    assert 20 <= labels.max() + 1 <= 200
    plot = labels[435:475, 235:295]  # the bright green plot left of the centre (rows, cols)
    assert np.bincount(plot.ravel()).max() / plot.size > 0.9
    t = domaug.get_transform("agriculture.SeasonShift", stage="senescence", strength=0.6, field_timing_spread=0.3)
    out = t(image=image, meta=meta, rng=2)
    assert out["applied"][0]["params"]["gsd_m"] == pytest.approx(0.35272)
