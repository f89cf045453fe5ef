"""Property checks over random parameters (bounded hypothesis runs)."""
import numpy as np
from hypothesis import given, settings, strategies as st

import domaug
from contract_samples import AGRI_BANDS, agri_multispectral, agri_rgb
from domaug_agriculture.canopy_model import STAGES
from domaug_agriculture.vegetation import ndvi, vegetation_mask

META = {"band_names": AGRI_BANDS, "bit_depth": 12}
MS = agri_multispectral(48, 64, seed=3)
VEG = vegetation_mask(MS, META)
RGB, _ = agri_rgb(48, 64, seed=4)
RGB_VEG = vegetation_mask(RGB)


@settings(max_examples=25, deadline=None)
@given(stage=st.sampled_from(sorted(STAGES)), strength=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_ndvi_moves_toward_the_stage_and_soil_never_changes(stage, strength, seed):
    out = domaug.get_transform("agriculture.SeasonShift", stage=stage, strength=strength)(
        image=MS, meta=META, rng=seed)["image"]
    before, after = ndvi(MS, META)[VEG], ndvi(out, META)[VEG]
    s, cover = STAGES[stage]
    if s > 0 or cover < 1:  # senescence and dormancy never green a plant
        assert (after <= before + 1e-3).all()
    else:
        assert (after >= before - 1e-3).all()
    np.testing.assert_array_equal(out[~VEG], MS[~VEG])


@settings(max_examples=25, deadline=None)
@given(m1=st.floats(0.0, 1.0), m2=st.floats(0.0, 1.0))
def test_wetter_soil_is_never_brighter_and_plants_never_change(m1, m2):
    lo, hi = sorted((m1, m2))
    t = lambda m: domaug.get_transform("agriculture.SoilMoisture", moisture=m, patchiness=0.0)  # noqa: E731
    a = t(lo)(image=RGB, rng=0)["image"].astype(int)
    b = t(hi)(image=RGB, rng=0)["image"].astype(int)
    assert (b <= a).all()
    np.testing.assert_array_equal(b[RGB_VEG], RGB[RGB_VEG])


@settings(max_examples=20, deadline=None)
@given(change=st.floats(-0.8, 1.5))
def test_cover_change_hits_the_requested_fraction(change):
    out = domaug.get_transform("agriculture.CropStage", cover_change=change)(image=MS, meta=META, rng=1)["image"]
    f0, f1 = VEG.sum(), vegetation_mask(out, META).sum()
    free = VEG.size
    target = min(round(f0 * (1 + change)), free)
    assert abs(int(f1) - target) <= 0.03 * f0 + 2


SAME_GRID = [n for n in domaug.list_transforms()
             if n.startswith("agriculture.") and n != "agriculture.AltitudeChange"]


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(SAME_GRID), cx=st.integers(0, 63), cy=st.integers(0, 47),
       radius=st.integers(5, 40), seed=st.integers(0, 2**31))
def test_random_footprints_are_never_touched(name, cx, cy, radius, seed):
    yy, xx = np.mgrid[0:48, 0:64]
    alpha = np.where((xx - cx) ** 2 + (yy - cy) ** 2 < radius**2, 255, 0).astype(np.uint8)
    rgba = np.dstack([RGB, alpha])
    rgba[alpha == 0, :3] = 0
    out = domaug.get_transform(name)(image=rgba, meta={"band_names": ["red", "green", "blue", "alpha"]},
                                     rng=seed)["image"]
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[alpha == 0], rgba[alpha == 0])
