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


def _found_offsets(moved, original):
    """Where each band's content moved, by phase correlation with the same band before (band-to-band
    correlation is unreliable on crops: NIR and visible contrasts are inverted between leaves and soil)."""
    from skimage.registration import phase_cross_correlation

    return [phase_cross_correlation(moved[..., b].astype(float), original[..., b].astype(float),
                                    upsample_factor=10)[0] for b in range(moved.shape[-1])]


def test_real_micasense_raw_preset_reproduces_the_measured_offsets(micasense_aligned):
    """Aligned capture + the raw preset → the bands sit where the raw frames had them (±2 px)."""
    image, meta, measured = micasense_aligned
    crop = image[100:612, 200:840]
    t = domaug.get_transform("agriculture.BandMisalignment", camera="micasense-rededge-raw")
    for seed in range(3):
        out = t(image=crop, meta=meta, rng=seed)
        assert out["applied"][0]["params"]["camera"] == "micasense-rededge-raw"
        found = _found_offsets(out["image"], crop)
        for b, name in enumerate(meta["band_names"]):
            # registering band b onto green took `measured[b]`: its content sat at −measured[b]
            np.testing.assert_allclose(found[b], -np.asarray(measured[b]), atol=2.0, err_msg=name)
        lengths = [np.hypot(*f) for b, f in enumerate(found) if b != 1]
        assert 1.0 < min(lengths) and max(lengths) < 17.0 and sorted(lengths)[-2] > 8.0


def test_registered_products_stay_below_half_a_pixel():
    img = agri_multispectral(128, 160)
    meta = {"band_names": AGRI_BANDS, "bit_depth": 12}
    for camera in ("auto", "registered", "micasense-rededge-registered"):
        p = domaug.get_transform("agriculture.BandMisalignment", camera=camera)(image=img, meta=meta, rng=1)
        params = p["applied"][0]["params"]
        assert params["camera"] == "registered"
        assert max(np.hypot(*s) for s in params["shifts_px"]) < 0.5


def test_single_sensor_rgb_is_a_recorded_no_op_unless_asked():
    from contract_samples import agri_rgb

    img, _ = agri_rgb(48, 64)
    out = domaug.get_transform("agriculture.BandMisalignment")(image=img, rng=0)
    params = out["applied"][0]["params"]
    assert params["camera"] == "single-sensor" and "no misalignment" in params["note"]
    np.testing.assert_array_equal(out["image"], img)
    forced = domaug.get_transform("agriculture.BandMisalignment", shift_px=2.0)(image=img, rng=0)
    assert forced["applied"][0]["params"]["camera"] == "custom"
    assert (forced["image"] != img).any()
    with pytest.raises(domaug.ParameterError, match="camera"):
        domaug.get_transform("agriculture.BandMisalignment", camera="hasselblad")
