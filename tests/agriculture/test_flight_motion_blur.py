import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS


def blur(image, meta=None, **kw):
    return domaug.get_transform("agriculture.FlightMotionBlur", **kw)(image=image, meta=meta, rng=0)


@pytest.mark.parametrize("heading,axis", [(0.0, 0), (90.0, 1)])
def test_blur_length_is_speed_times_exposure_over_gsd(heading, axis):
    img = np.zeros((61, 61), np.float32)
    img[30, 30] = 1.0
    out = blur(img, speed_m_s=12.0, exposure_s=0.01, heading_deg=heading, gsd_m=0.01)
    length = out["applied"][0]["params"]["length_px"]
    assert length == pytest.approx(12.0)
    psf = out["image"]
    assert psf.sum() == pytest.approx(1.0, abs=1e-4)
    profile = psf.sum(axis=1 - axis)
    coords = np.arange(61) - 30
    # a uniform segment of length L has std L/√12; its extent is L (+1 px of splatting)
    assert np.sqrt((profile * coords**2).sum()) == pytest.approx(length / np.sqrt(12), rel=0.1)
    assert ((profile > 1e-4).sum()) in (12, 13, 14)
    other = psf.sum(axis=axis)
    assert (other > 1e-4).sum() <= 2  # no smear across the heading


def test_gsd_from_meta_and_means_kept():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 4096, (64, 64, 5)).astype(np.uint16)
    meta = {"band_names": AGRI_BANDS, "gsd_m": 0.005, "bit_depth": 12}
    out = blur(img, meta, speed_m_s=10.0, exposure_s=0.002, heading_deg=45)
    assert out["applied"][0]["params"]["length_px"] == pytest.approx(4.0)
    assert out["image"].astype(float).mean() == pytest.approx(img.astype(float).mean(), rel=0.01)
    assert out["image"].std() < 0.8 * img.std()


def test_pix4d_footprint_and_alpha(pix4d):
    image, meta = pix4d
    out = blur(image, meta, speed_m_s=15.0, exposure_s=0.1, gsd_m=None)["image"]
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])
    from scipy.ndimage import binary_erosion

    rim = inside & ~binary_erosion(inside, iterations=2)
    assert out[rim, :3].mean() == pytest.approx(image[rim, :3].mean(), rel=0.1)  # no black bleeding


def test_rolling_shutter_shears_image_and_labels_together():
    from contract_samples import agri_rgb

    img, mask = agri_rgb(64, 96)
    kps = np.array([[48.0, 63.5]])  # bottom row, middle
    t = domaug.get_transform("agriculture.FlightMotionBlur", speed_m_s=10.0, exposure_s=0.0, heading_deg=90.0,
                             gsd_m=0.01, readout_s=0.02)
    out = t(image=img, mask=mask, keypoints=kps, rng=0)
    skew = out["applied"][0]["params"]["skew_px"]
    assert skew == pytest.approx(20.0)
    # flying east (right): bottom rows see ground further east, which appears shifted left
    from skimage.registration import phase_cross_correlation

    top = phase_cross_correlation(out["image"][:8, 20:-20, 1].astype(float), img[:8, 20:-20, 1].astype(float))[0]
    bottom = phase_cross_correlation(out["image"][-8:, 20:-20, 1].astype(float), img[-8:, 20:-20, 1].astype(float))[0]
    assert abs(top[1]) <= 2 and bottom[1] == pytest.approx(-skew * 60 / 64, abs=2)
    assert out["keypoints"][0, 0] == pytest.approx(48.0 - skew * 63.5 / 64, abs=0.01)
    # the mask moved with the image: crop labels still sit on plant pixels
    from domaug_agriculture.vegetation import vegetation_mask

    veg = vegetation_mask(out["image"])
    assert (out["mask"][veg] > 0).mean() > 0.85
    assert set(np.unique(out["mask"])) <= set(np.unique(mask))
