import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug_agriculture.altitude_change import altitude_sigma

GEO = {"transform": [500000.0, 0.02, 0.0, 4200000.0, 0.0, -0.02], "crs": "EPSG:32633"}


def fly(ratio, **sample):
    return domaug.get_transform("agriculture.AltitudeChange", altitude_ratio=ratio)(rng=0, **sample)


def test_gsd_and_geotransform_scale_with_altitude():
    img = agri_multispectral(96, 128)
    meta = {"band_names": AGRI_BANDS, "bit_depth": 12, "gsd_m": 0.02, "altitude_m": 30.0, **GEO}
    out = fly(2.0, image=img, meta=meta)
    assert out["image"].shape == (48, 64, 5) and out["image"].dtype == np.uint16
    m = out["meta"]
    assert m["transform"] == pytest.approx([500000.0, 0.04, 0.0, 4200000.0, 0.0, -0.04])
    assert m["gsd_m"] == pytest.approx(0.04) and m["altitude_m"] == pytest.approx(60.0)
    # same ground extent: the far corner stays put
    x_end = m["transform"][0] + m["transform"][1] * 64
    assert x_end == pytest.approx(GEO["transform"][0] + 0.02 * 128)
    # radiometry kept on average
    assert out["image"].astype(float).mean() == pytest.approx(img.astype(float).mean(), rel=0.01)


def test_target_altitude_needs_and_uses_meta():
    img, _ = agri_rgb(60, 80)
    t = domaug.get_transform("agriculture.AltitudeChange", target_altitude_m=45.0)
    out = t(image=img, meta={"altitude_m": 30.0}, rng=0)
    assert out["image"].shape == (40, 53, 3)
    with pytest.raises(domaug.UnsupportedInputError, match="altitude_m"):
        t(image=img, rng=0)


def test_mtf_blur_matches_wald_protocol():
    # σ_add² = σ(r)² − σ(1)², σ(r) = r·√(−2 ln 0.3)/π
    s1 = np.sqrt(-2 * np.log(0.3)) / np.pi
    assert altitude_sigma(3.0) == pytest.approx(np.sqrt(9 - 1) * s1)
    assert altitude_sigma(0.7) == 0.0
    # a pattern at the old Nyquist must not alias into the coarse image
    yy, xx = np.mgrid[0:120, 0:120]
    checker = (((yy + xx) % 2) * 200 + 20).astype(np.uint8)
    out = fly(3.0, image=np.dstack([checker] * 3))["image"].astype(float)
    assert out.std() < 3 and out.mean() == pytest.approx(120, abs=2)


def test_masks_nearest_boxes_scaled_keypoints_moved():
    img, mask = agri_rgb(96, 128)
    boxes = np.array([[10, 20, 50, 60, 1]], float)
    kps = np.array([[64.0, 48.0]])
    out = fly(2.0, image=img, mask=mask, bboxes=boxes, keypoints=kps)
    assert out["mask"].shape == (48, 64) and set(np.unique(out["mask"])) <= set(np.unique(mask))
    np.testing.assert_allclose(out["bboxes"], [[5, 10, 25, 30, 1]])
    np.testing.assert_allclose(out["keypoints"], [[32.0, 24.0]])


def test_lower_flight_upsamples():
    img, _ = agri_rgb(40, 60)
    out = fly(0.5, image=img)
    assert out["image"].shape == (80, 120, 3)


def test_footprint_alpha_stays_binary_and_nodata_does_not_bleed(pix4d):
    image, meta = pix4d
    out = fly(2.0, image=image, meta=meta)
    a = out["image"][..., 3]
    assert set(np.unique(a)) <= set(np.unique(image[..., 3]))
    assert out["image"].shape[:2] == (379, 343)
    assert out["meta"]["transform"][1] == pytest.approx(2 * meta["transform"][1], rel=0.01)
    inside = a > 0
    # the footprint border must not darken toward the black nodata (normalised blur)
    from scipy.ndimage import binary_erosion

    rim = inside & ~binary_erosion(inside, iterations=2)
    core = binary_erosion(inside, iterations=6)
    assert out["image"][rim, :3].mean() > 0.8 * out["image"][core, :3].mean()
