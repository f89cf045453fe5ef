import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug_agriculture.soil_moisture import moisture_factor
from domaug_agriculture.vegetation import vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}


def wet(image, meta=None, **kw):
    return domaug.get_transform("agriculture.SoilMoisture", **kw)(image=image, meta=meta, rng=1)["image"]


def test_only_soil_changes_and_gets_darker_more_in_nir():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    out = wet(img, META, moisture=0.8, patchiness=0.0)
    np.testing.assert_array_equal(out[veg], img[veg])
    soil = ~veg
    ratio = out[soil].astype(float).mean(0) / img[soil].astype(float).mean(0)
    assert (ratio < 0.9).all()
    b, g, r, nir, re = ratio
    assert nir < re < r < g < b  # longer wavelength → darker (water absorption)
    # away from the plants the factor is exactly exp(-k(λ)·θ)
    from scipy.ndimage import distance_transform_edt

    far = distance_transform_edt(soil) > 5
    expected = moisture_factor(np.array([475, 560, 668, 840, 717.0]), np.full((1,), 0.8, np.float32)).reshape(-1)
    got = out[far].astype(float).mean(0) / img[far].astype(float).mean(0)
    np.testing.assert_allclose(got, expected, rtol=0.01)


def test_rgb_vegetation_unchanged_and_drier_is_lighter_than_wetter():
    img, _ = agri_rgb(96, 128)
    veg = vegetation_mask(img)
    damp = wet(img, moisture=0.2, patchiness=0.0)
    soaked = wet(img, moisture=1.0, patchiness=0.0)
    np.testing.assert_array_equal(damp[veg], img[veg])
    np.testing.assert_array_equal(soaked[veg], img[veg])
    assert soaked[~veg].mean() < damp[~veg].mean() < img[~veg].mean()


def test_puddles_are_dark_in_nir_and_only_on_soil():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    out = wet(img, META, moisture=0.0, patchiness=0.0, puddle_fraction=0.1)
    np.testing.assert_array_equal(out[veg], img[veg])
    changed = (out != img).any(-1)
    assert 0.02 < changed.mean() < 0.3
    nir_ratio = out[changed, 3].astype(float) / img[changed, 3]
    blue_ratio = out[changed, 0].astype(float) / img[changed, 0]
    assert np.median(nir_ratio) < np.median(blue_ratio)


def test_real_pix4d_footprint_alpha_and_plants(pix4d):
    image, meta = pix4d
    veg = vegetation_mask(image, meta)
    out = wet(image, meta)
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])
    np.testing.assert_array_equal(out[veg], image[veg])
    soil = inside & ~veg
    assert out[soil, :3].mean() < 0.9 * image[soil, :3].mean()


def test_real_micasense(micasense):
    image, meta = micasense
    veg = vegetation_mask(image, meta)
    out = wet(image, meta, moisture=0.7)
    np.testing.assert_array_equal(out[veg], image[veg])
    assert out[~veg].mean() < image[~veg].mean()


@pytest.mark.parametrize("s", [0.05, 0.2, 0.5, 1.0])
def test_darkening_is_ordered_by_wavelength_at_every_saturation(s):
    """Lobell & Asner (2002): SWIR darkens most, then NIR, then the visible; exponential in S."""
    from domaug_agriculture.soil_moisture import moisture_factor

    nm = np.array([475.0, 560.0, 668.0, 717.0, 840.0, 1610.0, 2200.0])
    g = moisture_factor(nm, np.array([[s]]))[0, 0]
    assert (np.diff(g) <= 1e-6).all() and g[-1] < g[0]
    wetter = moisture_factor(nm, np.array([[min(s + 0.1, 1.2)]]))[0, 0]
    assert (wetter < g).all()
    # VNIR saturates sooner: half of its full darkening is reached at lower S than in the SWIR
    full = moisture_factor(nm, np.array([[5.0]]))[0, 0]
    half = [(1 - moisture_factor(nm, np.array([[0.1]]))[0, 0][i]) / (1 - full[i]) for i in (0, -1)]
    assert half[0] > half[1]


def test_real_micasense_soil_darkens_in_wavelength_order(micasense_aligned):
    image, meta, _ = micasense_aligned
    veg = vegetation_mask(image, meta)
    out = wet(image, meta, moisture=0.8, patchiness=0.0)
    bl = meta["black_level"]
    soil = ~veg
    ratio = (out[soil].astype(float) - bl).mean(0) / (image[soil].astype(float) - bl).mean(0)
    order = np.argsort(meta["wavelengths_nm"])  # blue, green, red, red edge, NIR
    assert (np.diff(ratio[order]) < 0).all(), ratio
    np.testing.assert_array_equal(out[veg], image[veg])
