"""Every agriculture transform on the real drone data: footprint and alpha kept, dtypes kept."""
import numpy as np
import pytest

import domaug
from domaug.transform import PixelTransform

NAMES = [n for n in domaug.list_transforms() if n.startswith("agriculture.")]


def test_all_eight_are_registered():
    assert {n.split(".")[1] for n in NAMES} >= {
        "SeasonShift", "CropStage", "SoilMoisture", "SunAngle", "CloudShadow",
        "AltitudeChange", "FlightMotionBlur", "BandMisalignment",
    }


@pytest.mark.parametrize("name", NAMES)
def test_pix4d_nodata_footprint_untouched_and_alpha_never_augmented(name, pix4d):
    image, meta = pix4d
    t = domaug.get_transform(name)
    out = t(image=image, meta=meta, rng=11)
    new = out["image"]
    assert new.dtype == np.uint8 and new.shape[-1] == 4
    if new.shape == image.shape:
        inside = image[..., 3] > 0
        np.testing.assert_array_equal(new[..., 3], image[..., 3])
        np.testing.assert_array_equal(new[~inside], image[~inside])
        if name.endswith("BandMisalignment"):  # a single-sensor RGB orthomosaic: a recorded no-op
            assert out["applied"][0]["params"]["camera"] == "single-sensor"
            np.testing.assert_array_equal(new, image)
        elif isinstance(t, PixelTransform) or name.endswith("CropStage"):
            assert (new[inside] != image[inside]).any(), f"{name} had no visible effect"
    else:  # spatial: alpha resampled nearest, still only the input's alpha values
        assert set(np.unique(new[..., 3])) <= set(np.unique(image[..., 3]))


@pytest.mark.parametrize("name", NAMES)
def test_micasense_stack(name, micasense):
    image, meta = micasense
    crop = image[:240, :320]  # keep it quick
    out = domaug.get_transform(name)(image=crop, meta=meta, rng=5)
    assert out["image"].dtype == np.uint16 and out["image"].shape[-1] == 5
    assert out["image"].max() <= 65535


@pytest.mark.parametrize("name", NAMES)
def test_pix4d_through_the_geotiff_reader(name, shared_data):
    """The satellite plugin's reader splits alpha off as ``alpha_mask`` + ``valid``: both are kept."""
    pytest.importorskip("domaug_satellite")
    from domaug.formats import registry

    sample = registry.read([shared_data / "agriculture" / "pix4d_alpha_nodata.tif"])
    if sample["image"].shape[-1] != 3 or "alpha_mask" not in sample:
        pytest.skip("GeoTIFF reader without alpha splitting")
    t = domaug.get_transform(name)
    out = t(**sample, rng=4)
    if out["image"].shape == sample["image"].shape:
        outside = ~sample["valid"]
        np.testing.assert_array_equal(out["image"][outside], sample["image"][outside])
        np.testing.assert_array_equal(out["alpha_mask"], sample["alpha_mask"])
        changed = (out["image"][~outside] != sample["image"][~outside]).any()
        assert changed != name.endswith("BandMisalignment")  # RGB: one sensor, nothing to misalign
    else:
        assert out["alpha_mask"].shape == out["image"].shape[:2]
