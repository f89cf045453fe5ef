import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug.errors import UnsupportedInputError
from domaug_agriculture import canopy
from domaug_agriculture.vegetation import vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}


def stage(change, **sample):
    return domaug.get_transform("agriculture.CropStage", cover_change=change)(rng=5, **sample)


@pytest.mark.parametrize("change", [-0.4, -0.2, 0.2, 0.5])
def test_multispectral_canopy_fraction_changes_by_the_requested_amount(change):
    img = agri_multispectral(96, 128)
    f0 = vegetation_mask(img, META).mean()
    out = stage(change, image=img, meta=META)["image"]
    f1 = vegetation_mask(out, META).mean()
    assert np.sign(f1 - f0) == np.sign(change)
    assert f1 / f0 - 1 == pytest.approx(change, abs=0.03)


@pytest.mark.parametrize("change", [-0.3, 0.3])
def test_rgb_mask_labels_follow_and_no_new_labels(change):
    img, mask = agri_rgb(96, 128)
    from skimage.filters import threshold_otsu
    from domaug_agriculture.vegetation import exg

    t = float(np.clip(threshold_otsu(exg(img)), 0, 0.2))  # measure with one fixed threshold
    f0 = vegetation_mask(img, threshold=t).mean()
    out = stage(change, image=img, mask=mask)
    f1 = vegetation_mask(out["image"], threshold=t).mean()
    assert f1 / f0 - 1 == pytest.approx(change, abs=0.06)
    assert set(np.unique(out["mask"])) <= set(np.unique(mask))
    m0, m1 = (mask > 0).mean(), (out["mask"] > 0).mean()
    assert np.sign(m1 - m0) == np.sign(change)
    assert m1 / m0 - 1 == pytest.approx(change, abs=0.1)
    # the labels sit where the new canopy is: plant pixels of the output carry plant labels
    veg1 = vegetation_mask(out["image"], threshold=t)
    assert (out["mask"][veg1] > 0).mean() > 0.9
    # weeds (label 2) stay in their own row, crop (1) in theirs
    cols2 = np.nonzero(out["mask"] == 2)[1]
    assert cols2.min() >= 128 - 12 - 4


def test_grown_canopy_copies_nearby_plant_pixels_and_exposed_soil_looks_like_soil():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    grown = stage(0.5, image=img, meta=META)["image"]
    new = vegetation_mask(grown, META) & ~veg
    plant_values = {tuple(v) for v in img[veg]}
    assert all(tuple(v) in plant_values for v in grown[new][:200])
    shrunk = stage(-0.4, image=img, meta=META)["image"]
    exposed = veg & ~vegetation_mask(shrunk, META)
    soil_values = {tuple(v) for v in img[~veg]}
    assert np.mean([tuple(v) in soil_values for v in shrunk[exposed]]) > 0.99


def test_rows_are_detected():
    img = agri_multispectral(96, 128)
    veg = vegetation_mask(img, META)
    assert canopy.row_direction(veg) in ((-1.0, 0.0), (1.0, 0.0))
    assert abs(canopy.row_direction(veg.T)[1]) == 1.0
    rng = np.random.default_rng(0)
    assert canopy.row_direction(rng.random((96, 128)) > 0.7) is None


def test_footprint_untouched_and_alpha_kept():
    img, mask = agri_rgb(64, 80)
    alpha = np.full(img.shape[:2], 255, np.uint8)
    alpha[:30] = 0
    rgba = np.dstack([img, alpha])
    out = stage(0.6, image=rgba, mask=mask, meta={"band_names": ["red", "green", "blue", "alpha"]})
    np.testing.assert_array_equal(out["image"][:30], rgba[:30])
    np.testing.assert_array_equal(out["image"][..., 3], alpha)
    np.testing.assert_array_equal(out["mask"][:30], mask[:30])


def test_refuses_boxes_and_volumes():
    img, _ = agri_rgb(32, 32)
    t = domaug.get_transform("agriculture.CropStage")
    with pytest.raises(UnsupportedInputError):
        t(image=img, bboxes=np.array([[1, 1, 5, 5]], float))
    with pytest.raises(UnsupportedInputError, match="2-D"):
        t(image=np.zeros((4, 8, 8, 3), np.uint8))


def test_real_pix4d_cover_change(pix4d):
    image, meta = pix4d
    from skimage.filters import threshold_otsu
    from domaug_agriculture.vegetation import exg

    inside = image[..., 3] > 0
    t = float(np.clip(threshold_otsu(exg(image, meta)[inside]), 0, 0.2))
    f0 = vegetation_mask(image, meta, threshold=t).sum()
    out = stage(0.25, image=image, meta=meta)["image"]
    f1 = vegetation_mask(out, meta, threshold=t).sum()
    assert f1 / f0 - 1 == pytest.approx(0.25, abs=0.05)
    np.testing.assert_array_equal(out[~inside], image[~inside])
    np.testing.assert_array_equal(out[..., 3], image[..., 3])


def test_growth_closes_gaps_along_detected_rows_first():
    # plants every 8 px down vertical rows 24 px apart
    h, w = 96, 96
    yy, xx = np.mgrid[0:h, 0:w]
    plants = ((yy % 8 - 4) ** 2 + (xx % 24 - 12) ** 2) <= 4
    img = np.where(plants[..., None], np.array([60, 140, 40]), np.array([130, 105, 80])).astype(np.uint8)
    assert abs(canopy.row_direction(plants)[0]) == 1.0
    across = np.abs(xx % 24 - 12) > 2  # beside the row
    gaps = np.isin(yy % 8, (7, 0, 1))  # between plants of a row

    def grown(weight):
        out = domaug.get_transform("agriculture.CropStage", cover_change=0.6, along_row_weight=weight, jitter_px=0)(
            image=img, rng=0)["image"]
        return vegetation_mask(out, threshold=0.1) & ~plants

    row_wise, isotropic = grown(0.3), grown(1.0)
    assert (row_wise & gaps).sum() > (isotropic & gaps).sum()
    assert (row_wise & across).sum() < 0.5 * (isotropic & across).sum()


def test_diagonal_rows_are_detected_and_followed():
    h, w = 128, 128
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    theta = np.radians(30.0)
    along = xx * np.cos(theta) - yy * np.sin(theta)  # coordinate along the rows
    across = xx * np.sin(theta) + yy * np.cos(theta)
    off = (across % 24) - 12
    plants = (((along % 9) - 4.5) ** 2 + off**2) <= 5
    u = canopy.row_direction(plants)
    assert u is not None
    assert abs(abs(u[0] * -np.sin(theta) + u[1] * np.cos(theta)) - 1) < 0.02  # parallel to the rows
    img = np.where(plants[..., None], np.array([60, 140, 40]), np.array([130, 105, 80])).astype(np.uint8)

    def grown(weight):
        out = domaug.get_transform("agriculture.CropStage", cover_change=0.6, along_row_weight=weight, jitter_px=0)(
            image=img, rng=0)["image"]
        return vegetation_mask(out, threshold=0.1) & ~plants

    beside = np.abs(off) > 2.5
    assert (grown(0.3) & beside).sum() < 0.5 * (grown(1.0) & beside).sum()


def test_cover_delta_is_the_absolute_change_of_the_cover_fraction():
    import domaug
    from contract_samples import AGRI_BANDS, agri_multispectral
    from domaug_agriculture.vegetation import vegetation_mask

    meta = {"band_names": AGRI_BANDS, "bit_depth": 12}
    img = agri_multispectral(96, 128)
    f0 = vegetation_mask(img, meta).mean()
    for delta, grow in ((0.1, 1.0), (0.1, 0.0), (0.2, 1.0)):
        t = domaug.get_transform("agriculture.CropStage", cover_delta=delta, grow_probability=grow)
        out = t(image=img, meta=meta, rng=0)
        f1 = vegetation_mask(out["image"], meta).mean()
        sign = 1 if grow else -1
        assert f1 - f0 == pytest.approx(sign * delta, abs=0.01)
        assert out["applied"][0]["params"]["cover_delta"] == pytest.approx(sign * delta)


def test_real_pix4d_default_draws_visibly_change_the_cover(pix4d):
    """≥ 0.05 change of the canopy cover fraction in ≥ 70 % of default draws (Otsu ExG mask re-measured)."""
    import domaug
    from domaug_agriculture.vegetation import vegetation_mask

    image, meta = pix4d
    fp = image[..., 3] > 0
    f0 = vegetation_mask(image, meta)[fp].mean()
    t = domaug.get_transform("agriculture.CropStage")
    changes = [abs(vegetation_mask(t(image=image, meta=meta, rng=s)["image"], meta)[fp].mean() - f0)
               for s in range(20)]
    assert np.mean(np.array(changes) >= 0.05) >= 0.7
