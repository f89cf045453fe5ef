"""Rendering samples to 8-bit RGB for viewing (domaug.display)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from domaug import ParameterError
from domaug.display import (
    SOFT_TISSUE,
    checker,
    choose_bands,
    draw_boxes,
    make_view,
    percentile_limits,
    render,
    render_all,
    to_uint8,
    window_limits,
)


def test_uint8_rgb_is_shown_as_is():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 3)).astype(np.uint8)
    out = render({"image": img})
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    np.testing.assert_array_equal(out, img)


def test_gray_uint8_becomes_three_equal_channels():
    img = np.arange(200, dtype=np.uint8).reshape(10, 20)
    out = render({"image": img})
    assert out.shape == (10, 20, 3)
    np.testing.assert_array_equal(out[..., 0], img)
    np.testing.assert_array_equal(out[..., 2], img)


def test_percentile_stretch_maps_2_and_98_percent_to_black_and_white():
    values = np.arange(10000, dtype=np.uint16).reshape(100, 100) + 1000
    lo, hi = percentile_limits(values)
    assert lo == pytest.approx(np.percentile(values, 2))
    assert hi == pytest.approx(np.percentile(values, 98))
    out = render({"image": values})[..., 0]
    below = values <= lo
    above = values >= hi
    assert (out[below] == 0).all() and (out[above] == 255).all()
    assert below.mean() == pytest.approx(0.02, abs=0.002)
    assert above.mean() == pytest.approx(0.02, abs=0.002)
    middle = (values > lo + 100) & (values < hi - 100)
    assert ((out[middle] > 0) & (out[middle] < 255)).all()
    # the middle value lands mid-grey
    mid = to_uint8(np.array([(lo + hi) / 2]), lo, hi)
    assert mid[0] in (127, 128)


def test_stretch_is_per_band_and_ignores_nodata():
    rng = np.random.default_rng(1)
    img = np.stack([rng.uniform(100, 200, (50, 50)), rng.uniform(1000, 5000, (50, 50)),
                    rng.uniform(0, 10, (50, 50))], axis=-1).astype(np.float32)
    img[:5] = -9999
    view = make_view({"image": img, "meta": {"nodata": -9999}})
    assert view.lo[0] > 100 and view.hi[0] < 200
    assert view.lo[1] > 1000 and view.hi[1] < 5000
    assert view.hi[2] < 10
    out = render({"image": img, "meta": {"nodata": -9999}}, view)
    np.testing.assert_array_equal(out[:5], checker((5, 50)))


def test_same_view_for_variants_keeps_them_comparable():
    base = np.linspace(0, 4000, 64 * 64).reshape(64, 64).astype(np.uint16)
    darker = (base // 2).astype(np.uint16)
    view, (a, b) = render_all({"image": base}, [{"image": darker}])
    assert b.mean() < a.mean() * 0.7  # a stretch per image would hide the darkening
    assert view.label.startswith("stretch")


def test_ct_window_soft_tissue_and_explicit():
    hu = np.array([[-1000, -160, 40, 240, 1000]], dtype=np.int16)
    view = make_view({"image": hu, "meta": {"modality": "CT"}})
    assert (view.lo[0], view.hi[0]) == window_limits(*SOFT_TISSUE) == (-160.0, 240.0)
    out = render({"image": hu, "meta": {"modality": "CT"}}, view)[0, :, 0]
    assert list(out) == [0, 0, 128, 255, 255]
    # int16 with air values is treated as CT even without meta
    assert make_view({"image": hu}).label == "window C40 W400"
    bone = make_view({"image": hu}, window=(400, 1800))
    assert (bone.lo[0], bone.hi[0]) == (-500.0, 1300.0)
    from_meta = make_view({"image": hu, "meta": {"modality": "CT", "window_center": [50, 500],
                                                 "window_width": [350, 2000]}})
    assert (from_meta.lo[0], from_meta.hi[0]) == (-125.0, 225.0)


def test_dicom_window_in_meta_is_used_for_mr_too():
    mr = np.arange(0, 1000, 10, dtype=np.uint16).reshape(10, 10)
    view = make_view({"image": mr, "meta": {"modality": "MR", "window_center": 300, "window_width": 200}})
    assert (view.lo[0], view.hi[0]) == (200.0, 400.0) and view.label == "window C300 W200"
    assert make_view({"image": mr, "meta": {"modality": "MR"}}).label.startswith("stretch")


def test_ct_window_applies_to_hu_values_and_monochrome1_inverts():
    hu = np.array([[-160, 40, 240]], dtype=np.int16)
    meta = {"modality": "CT", "rescale_slope": 1.0, "rescale_intercept": -1024.0}  # already applied
    out = render({"image": hu, "meta": meta})[0, :, 0]
    assert list(out) == [0, 128, 255]
    inverted = render({"image": hu, "meta": {**meta, "photometric_interpretation": "MONOCHROME1"}})[0, :, 0]
    assert list(inverted) == [255, 127, 0]


def test_band_choice():
    names = {"band_names": ["blue", "green", "red", "nir"]}
    assert choose_bands(names, 4) == (2, 1, 0)
    assert choose_bands(names, 4, composite="false") == (3, 2, 1)
    assert choose_bands(names, 4, bands="nir,red,green") == (3, 2, 1)
    assert choose_bands(names, 4, bands=["3"]) == (3,)
    assert choose_bands({}, 5) == (0, 1, 2)
    assert choose_bands({"band_names": ["red", "green", "blue", "alpha"]}, 4) == (0, 1, 2)
    assert choose_bands({}, 2) == (0,)
    with pytest.raises(ParameterError, match="swir"):
        choose_bands(names, 4, bands="swir1,red,green")
    with pytest.raises(ParameterError, match="1 or 3"):
        choose_bands(names, 4, bands="red,green")


def test_multispectral_true_colour_composite():
    img = np.zeros((8, 8, 4), np.uint16)
    img[..., 2] = np.arange(64).reshape(8, 8) * 100  # red band varies
    out = render({"image": img, "meta": {"band_names": ["blue", "green", "red", "nir"]}})
    assert out[..., 0].std() > 0 and out[..., 1].std() == 0 and out[..., 2].std() == 0


def test_volume_middle_and_orthogonal_slices():
    vol = np.zeros((9, 20, 30), np.float32)
    vol[4] = 1.0  # only the middle slice is bright
    vol[0, 0, 0] = -1.0
    sample = {"image": vol, "meta": {"spatial_ndim": 3}}
    out = render(sample)
    assert out.shape == (20, 30, 3) and out.min() == 255
    ortho = render(sample, make_view(sample, slices="orthogonal"))
    assert ortho.shape == (20, 30 + 2 + 30 + 2 + 20, 3)
    thick = {"image": vol, "meta": {"spacing": [4.0, 1.0, 1.0]}}  # 9 slices of 4 mm → 36 rows
    ortho = render(thick, make_view(thick, slices="orthogonal"))
    assert ortho.shape == (36, 30 + 2 + 30 + 2 + 20, 3)
    bright_rows = np.flatnonzero(ortho[:, 40, 0] == 255)  # the bright slice in the coronal plane
    assert list(bright_rows) == [16, 17, 18, 19]


def test_overlays_mask_boxes_and_nodata():
    img = np.full((40, 40, 3), 100, np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[10:20, 10:20] = 1
    valid = np.ones((40, 40), bool)
    valid[:, 35:] = False
    boxes = np.array([[2, 2, 30, 30, 1]], float)
    out = render({"image": img, "mask": mask, "bboxes": boxes, "valid": valid})
    assert not np.array_equal(out[15, 15], img[15, 15])  # tinted
    np.testing.assert_array_equal(out[25, 25], img[25, 25])  # untouched inside the box
    assert not np.array_equal(out[2, 15], img[2, 15])  # box edge drawn
    np.testing.assert_array_equal(out[:, 35:], checker((40, 40))[:, 35:])
    plain = render({"image": img, "mask": mask, "bboxes": boxes}, overlays=False)
    np.testing.assert_array_equal(plain, img)
    outlined = render({"image": img, "mask": mask}, outline=["mask"])
    np.testing.assert_array_equal(outlined[15, 15], img[15, 15])  # inside not tinted
    assert not np.array_equal(outlined[10, 15], img[10, 15])  # edge drawn


def test_draw_boxes_clips_to_image():
    out = draw_boxes(np.zeros((10, 10, 3), np.uint8), np.array([[-5, -5, 50, 50]]))
    assert out.shape == (10, 10, 3) and out[0, 5].any() and not out[5, 5].any()


def test_named_true_colour_is_stretched_jointly_to_keep_hues():
    rng = np.random.default_rng(3)
    soil = np.array([1500.0, 1100.0, 800.0])  # red > green > blue reflectance ×10⁴
    img = (soil * (1 + 0.05 * rng.standard_normal((32, 32, 1)))).astype(np.uint16)
    meta = {"band_names": ["red", "green", "blue"]}
    view = make_view({"image": img, "meta": meta})
    assert len(set(view.lo)) == 1 and len(set(view.hi)) == 1
    assert view.label.startswith("joint stretch")
    r, g, b = render({"image": img, "meta": meta}, view).reshape(-1, 3).mean(axis=0)
    assert r > g > b  # soil stays orange-brown
    per_band = make_view({"image": img})  # unnamed bands: per-band stretch
    assert len(set(per_band.lo)) == 3


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(["uint8", "uint16", "int16", "float32", "float64"]),
    shape=st.sampled_from([(7, 9), (6, 5, 1), (8, 8, 3), (5, 7, 4), (4, 6, 12), (3, 4, 5, 2)]),
    seed=st.integers(0, 1000),
    constant=st.booleans(),
)
def test_render_any_sample_gives_rgb8(dtype, shape, seed, constant):
    rng = np.random.default_rng(seed)
    if constant:
        img = np.full(shape, 3, dtype=dtype)
    elif dtype.startswith("float"):
        img = rng.normal(0, 5, shape).astype(dtype)
        img.flat[0] = np.nan
    else:
        info = np.iinfo(dtype)
        img = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    meta = {"spatial_ndim": 3} if len(shape) == 4 else {}
    sample = {"image": img, "meta": meta}
    out = render(sample, make_view(sample, slices="orthogonal" if seed % 2 else "middle"))
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
