"""AltitudeChange on any band count, odd shapes, with or without georeferencing, masks, boxes and nodata."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import domaug

NAMES = ["blue", "green", "red", "nir", "rededge", "swir1", "swir2", "pan", "", "", "", ""]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bands=st.integers(1, 12), h=st.integers(1, 41), w=st.integers(1, 41),
       dtype=st.sampled_from([np.uint8, np.uint16, np.float32]), ratio=st.floats(0.3, 6.0),
       named=st.booleans(), geo=st.booleans(), with_mask=st.booleans(), with_boxes=st.booleans(),
       with_valid=st.booleans(), plane=st.booleans(), seed=st.integers(0, 2**31))
def test_any_band_count_and_shape(bands, h, w, dtype, ratio, named, geo, with_mask, with_boxes, with_valid, plane,
                                  seed):
    rng = np.random.default_rng(seed)
    hi = 1.0 if dtype == np.float32 else np.iinfo(dtype).max
    image = (rng.random((h, w, bands)) * hi).astype(dtype)
    if plane and bands == 1:
        image = image[..., 0]
    meta = {}
    if named:
        meta["band_names"] = NAMES[:bands]
    if geo:
        meta.update(transform=[500000.0, 0.05, 0.0, 4200000.0, 0.0, -0.05], crs="EPSG:32633", gsd_m=0.05)
    sample = {"image": image, "meta": meta}
    if with_mask:
        sample["mask"] = (rng.random((h, w)) > 0.5).astype(np.uint8)
    if with_valid:
        valid = rng.random((h, w)) > 0.2
        valid[0, 0] = True
        sample["valid"] = valid
    if with_boxes and h > 2 and w > 2:
        sample["bboxes"] = np.array([[0.0, 0.0, w / 2, h / 2, 1]])
    out = domaug.get_transform("agriculture.AltitudeChange", altitude_ratio=ratio)(rng=seed, **sample)
    oh, ow = out["applied"][0]["params"]["out_shape"]
    assert out["image"].shape == (oh, ow) + image.shape[2:]
    assert out["image"].dtype == image.dtype
    if dtype == np.float32:
        assert np.isfinite(out["image"]).all()
    if with_mask:
        assert out["mask"].shape == (oh, ow) and set(np.unique(out["mask"])) <= {0, 1}
    if with_valid:
        assert out["valid"].shape == (oh, ow)
    if geo:
        sy = h / oh
        assert abs(out["meta"]["transform"][5] - (-0.05 * sy)) < 1e-9


def test_real_micasense_stack_without_georeferencing(micasense_aligned):
    """The 5-band stack (no transform, no GSD) flown higher and lower: works, shapes and radiometry kept."""
    image, meta, _ = micasense_aligned
    for ratio in (0.5, 1.7, 3.0):
        t = domaug.get_transform("agriculture.AltitudeChange", altitude_ratio=ratio)
        out = t(image=image, meta=meta, rng=0)
        oh, ow = out["applied"][0]["params"]["out_shape"]
        assert out["image"].shape == (oh, ow, 5) and out["image"].dtype == np.uint16
        np.testing.assert_allclose(out["image"].astype(float).mean((0, 1)), image.astype(float).mean((0, 1)),
                                   rtol=0.02)
