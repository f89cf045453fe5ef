import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug.errors import ParameterError, UnsupportedInputError
from domaug_agriculture.phenology import STAGES, stage_exg
from domaug_agriculture.vegetation import exg, ndvi, vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}


def shift(image, meta=None, **kw):
    t = domaug.get_transform("agriculture.SeasonShift", **kw)
    return t(image=image, meta=meta, rng=0)["image"]


@pytest.mark.parametrize("stage,sign", [("senescence", -1), ("dormant", -1), ("green-up", +1)])
@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_multispectral_ndvi_moves_by_the_requested_fraction(stage, sign, strength):
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    out = shift(img, META, stage=stage, strength=strength, feather_px=0)
    before, after = ndvi(img, META)[veg], ndvi(out, META)[veg]
    expected = before + strength * (STAGES[stage]["ndvi"] - before)
    assert np.sign((after - before).mean()) == sign
    assert abs(after.mean() - expected.mean()) < 0.01
    assert np.median(np.abs(after - expected)) < 0.01
    # soil (not vegetation) bit-exact with no feathering
    np.testing.assert_array_equal(out[~veg], img[~veg])


def test_multispectral_senescence_reddens_and_moves_red_edge_with_nir():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    out = shift(img, META, stage="senescence", strength=1.0, feather_px=0).astype(float)
    src = img.astype(float)
    assert out[veg, 2].mean() > 1.5 * src[veg, 2].mean()  # red reflectance up (chlorophyll loss)
    ratio_nir = out[veg, 3] / src[veg, 3]
    ratio_re = out[veg, 4] / src[veg, 4]
    np.testing.assert_allclose(ratio_re, ratio_nir, atol=0.01)


@pytest.mark.parametrize("stage,sign", [("senescence", -1), ("dormant", -1), ("green-up", +1)])
def test_rgb_exg_moves_by_the_requested_fraction(stage, sign):
    img, _ = agri_rgb(96, 128)
    veg = vegetation_mask(img)
    out = shift(img, stage=stage, strength=0.8, feather_px=0)
    before, after = exg(img)[veg], exg(out)[veg]
    expected = before + 0.8 * (stage_exg(stage) - before)
    assert np.sign((after - before).mean()) == sign
    assert abs(after.mean() - expected.mean()) < 0.01
    np.testing.assert_array_equal(out[~veg], img[~veg])


def test_senescence_turns_rgb_leaves_yellow_brown():
    img, _ = agri_rgb(96, 128)
    veg = vegetation_mask(img)
    out = shift(img, stage="senescence", strength=1.0).astype(float)
    r, g, b = out[veg].mean(0)
    assert r > g > b  # orange-yellow, no longer green


def test_feathered_edge_soil_far_from_plants_is_bit_exact():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    from scipy.ndimage import distance_transform_edt

    far = distance_transform_edt(~veg) > 3 * 1.5 + 1
    out = shift(img, META, stage="senescence", strength=1.0, feather_px=1.5)
    np.testing.assert_array_equal(out[far], img[far])
    near = (distance_transform_edt(~veg) == 1)
    assert (out[near] != img[near]).any()  # the edge is blended, not cut


def test_rgba_footprint_and_alpha_untouched():
    img, _ = agri_rgb(48, 64)
    alpha = np.full(img.shape[:2], 255, np.uint8)
    alpha[:, :25] = 0
    rgba = np.dstack([img, alpha])
    rgba[alpha == 0, :3] = img[alpha == 0]  # nodata pixels keep arbitrary colours
    out = shift(rgba, {"band_names": ["red", "green", "blue", "alpha"]}, stage="dormant", strength=1.0)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[:, :25], rgba[:, :25])
    assert (out[:, 25:] != rgba[:, 25:]).any()


def test_float_image_and_refusals():
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


def test_real_pix4d_senescence(pix4d):
    image, meta = pix4d
    veg = vegetation_mask(image, meta)
    out = shift(image, meta, stage="senescence", strength=0.7, feather_px=0)
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])
    np.testing.assert_array_equal(out[~veg], image[~veg])
    before, after = exg(image, meta)[veg], exg(out, meta)[veg]
    expected = before + 0.7 * (stage_exg("senescence") - before)
    assert after.mean() < before.mean() - 0.05
    assert abs(after.mean() - expected.mean()) < 0.015


def test_real_micasense_senescence_and_green_up(micasense):
    image, meta = micasense
    veg = vegetation_mask(image, meta)
    for stage, sign in (("senescence", -1), ("green-up", 1)):
        out = shift(image, meta, stage=stage, strength=0.6, feather_px=0)
        before, after = ndvi(image, meta)[veg], ndvi(out, meta)[veg]
        expected = before + 0.6 * (STAGES[stage]["ndvi"] - before)
        assert np.sign(after.mean() - before.mean()) == sign
        assert abs(after.mean() - expected.mean()) < 0.02
        np.testing.assert_array_equal(out[~veg], image[~veg])


def test_target_ndvi_override():
    img = agri_multispectral(64, 80)
    veg = vegetation_mask(img, META)
    out = shift(img, META, stage="senescence", strength=1.0, feather_px=0, target_ndvi=0.5)
    assert ndvi(out, META)[veg].mean() == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ParameterError, match="target_ndvi"):
        domaug.get_transform("agriculture.SeasonShift", target_ndvi=1.2)
