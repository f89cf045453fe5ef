import numpy as np
import pytest

from contract_samples import AGRI_BANDS, agri_field, agri_multispectral, agri_rgb
from domaug.errors import UnsupportedInputError
from domaug_agriculture.vegetation import exg, exgr, ndvi, vegetation_mask


def test_ndvi_and_exg_formulas():
    img = np.array([[[100, 200, 50, 400, 300]]], np.uint16)
    meta = {"band_names": AGRI_BANDS}
    assert ndvi(img, meta)[0, 0] == pytest.approx((400 - 50) / 450, abs=1e-6)
    rgb = np.array([[[50, 100, 50]]], np.uint8)  # R, G, B by default
    assert exg(rgb)[0, 0] == pytest.approx(2 * 0.5 - 0.25 - 0.25)
    assert exgr(rgb)[0, 0] == pytest.approx(0.5 - (1.4 * 0.25 - 0.5))


def test_mask_finds_the_plants_multispectral_and_rgb():
    plant, _ = agri_field(64, 80, 7)
    ms = vegetation_mask(agri_multispectral(64, 80, 7), {"band_names": AGRI_BANDS})
    truth = plant > 0.5
    assert (ms == truth).mean() > 0.95
    rgb, _ = agri_rgb(64, 80, 7)
    m = vegetation_mask(rgb)
    assert (m == truth).mean() > 0.93
    assert (vegetation_mask(rgb, method="exgr") == truth).mean() > 0.85


def test_alpha_zero_is_never_vegetation():
    rgb, _ = agri_rgb(48, 64)
    alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    alpha[:, :20] = 0
    rgba = np.concatenate([rgb, alpha], -1)
    m = vegetation_mask(rgba, {"band_names": ["red", "green", "blue", "alpha"]})
    assert not m[:, :20].any() and m[:, 20:].any()


def test_clear_errors():
    with pytest.raises(UnsupportedInputError, match="band_names"):
        vegetation_mask(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(UnsupportedInputError, match="names 3 bands"):
        vegetation_mask(np.zeros((8, 8, 4), np.uint8), {"band_names": ["red", "green", "blue"]})


def test_real_pix4d_mask_is_plausible(pix4d):
    image, meta = pix4d
    assert meta["band_names"] == ["red", "green", "blue", "alpha"]
    m = vegetation_mask(image, meta)
    inside = image[..., 3] > 0
    frac = m[inside].mean()
    assert 0.1 < frac < 0.7 and not m[~inside].any()


def test_real_micasense_ndvi(micasense):
    image, meta = micasense
    n = ndvi(image, meta)
    m = vegetation_mask(image, meta)
    assert 0.2 < m.mean() < 0.8  # an orchard/vineyard: rows of canopy over soil
    assert n[m].mean() > 0.4 and n[~m].mean() < 0.2


def test_band_roles_defaults_and_alpha_detection():
    from domaug.targets import validate_sample
    from domaug_agriculture import bands

    rgb, _ = agri_rgb(8, 8)
    assert bands.roles(validate_sample({"image": rgb})) == {"red": 0, "green": 1, "blue": 2}
    four = np.zeros((8, 8, 4), np.uint8)
    assert bands.roles(validate_sample({"image": four})) == {}  # R,G,B,NIR or RGBA: unknown
    ci = validate_sample({"image": four, "meta": {"colorinterp": ["Red", "Green", "Blue", "Alpha"]}})
    assert bands.roles(ci)["alpha"] == 3 and bands.spectral_channels(ci) == [0, 1, 2]
    nir = validate_sample({"image": four, "meta": {"band_names": ["red", "green", "blue", "nir"]}})
    assert bands.spectral_channels(nir) == [0, 1, 2, 3]
    assert bands.DRONE.wavelengths_nm(nir) == [668.0, 560.0, 475.0, 840.0]
    given = validate_sample({"image": four, "meta": {"band_names": ["red", "green", "blue", "nir"],
                                                     "wavelengths_nm": [650.0, None, 0, 842.0]}})
    assert bands.DRONE.wavelengths_nm(given) == [650.0, 560.0, 475.0, 842.0]  # unknown entries: the role's
    alpha = np.full((8, 8), 255, np.uint8)
    alpha[:2] = 0
    fp = bands.frame_footprint(validate_sample({"image": rgb, "alpha_mask": alpha}))
    assert not fp[:2].any() and fp[2:].all()


def test_helpers_exposed_on_the_package():
    import domaug_agriculture

    assert domaug_agriculture.vegetation_mask is vegetation_mask
    assert domaug_agriculture.ndvi is ndvi and domaug_agriculture.exg is exg
