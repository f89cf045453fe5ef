import numpy as np
import pytest

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral


def test_bands_move_by_the_drawn_offsets_reference_stays():
    from skimage.registration import phase_cross_correlation

    img = agri_multispectral(128, 160)
    meta = {"band_names": AGRI_BANDS, "bit_depth": 12}
    mask = (img[..., 3] > 2000).astype(np.uint8)
    t = domaug.get_transform("agriculture.BandMisalignment", shift_px=(2.0, 4.0), reference_band="nir")
    out = t(image=img, mask=mask, meta=meta, rng=3)
    params = out["applied"][0]["params"]
    assert params["reference_band"] == 3
    np.testing.assert_array_equal(out["image"][..., 3], img[..., 3])
    np.testing.assert_array_equal(out["mask"], mask)
    for b, (dr, dc) in enumerate(params["shifts_px"]):
        if b == 3:
            continue
        assert 2.0 <= np.hypot(dr, dc) <= 4.0
        found, _, _ = phase_cross_correlation(out["image"][8:-8, 8:-8, b].astype(float),
                                              img[8:-8, 8:-8, b].astype(float), upsample_factor=10)
        np.testing.assert_allclose(found, [dr, dc], atol=0.35)


def test_alpha_band_never_shifted(pix4d):
    image, meta = pix4d
    out = domaug.get_transform("agriculture.BandMisalignment", shift_px=3.0)(image=image, meta=meta, rng=0)
    shifts = out["applied"][0]["params"]["shifts_px"]
    assert shifts[3] == [0.0, 0.0] and shifts[1] == [0.0, 0.0]  # alpha and the green reference
    inside = image[..., 3] > 0
    np.testing.assert_array_equal(out["image"][..., 3], image[..., 3])
    np.testing.assert_array_equal(out["image"][~inside], image[~inside])


def test_bad_reference_band():
    t = domaug.get_transform("agriculture.BandMisalignment", reference_band=7)
    with pytest.raises(domaug.ParameterError, match="reference_band"):
        t(image=np.zeros((8, 8, 3), np.uint8), rng=0)


def test_rotation_and_scale_per_band():
    from domaug_agriculture.band_misalignment import band_matrix

    # pure shift through the matrix equals the slice-based shift
    m = band_matrix((40, 60), 1.5, -2.0, 0.0, 1.0)
    np.testing.assert_allclose(m[:2, 2], [-1.5, 2.0])
    img = agri_multispectral(96, 128)
    meta = {"band_names": AGRI_BANDS, "bit_depth": 12}
    t = domaug.get_transform("agriculture.BandMisalignment", shift_px=0.0, rotation_deg=1.0, scale_change=0.01)
    out = t(image=img, meta=meta, rng=0)
    p = out["applied"][0]["params"]
    assert all(abs(r) == 1.0 for i, r in enumerate(p["rotations_deg"]) if i != 1)
    assert all(abs(s - 1) == pytest.approx(0.01) for i, s in enumerate(p["scales"]) if i != 1)
    np.testing.assert_array_equal(out["image"][..., 1], img[..., 1])
    # the centre barely moves, the corners move by ~ r·(angle + scale)
    diff = np.abs(out["image"].astype(float) - img.astype(float))[..., 0]
    assert diff[44:52, 60:68].mean() < diff[:8, :8].mean() + diff[-8:, -8:].mean()
