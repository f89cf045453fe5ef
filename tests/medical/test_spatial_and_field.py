"""Elastic deformation in mm, slice thickness, bias field, synthetic lesion."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug


def _t(name, **kw):
    return domaug.get_transform(f"medical.{name}", **kw)


# -- ElasticDeformation ------------------------------------------------------------------
def test_elastic_zero_magnitude_is_identity():
    vol = np.random.default_rng(0).normal(size=(10, 20, 24)).astype(np.float32)
    mask = (vol > 0).astype(np.uint8)
    out = _t("ElasticDeformation", max_displacement_mm=0)(image=vol, mask=mask, rng=1)
    np.testing.assert_array_equal(out["image"], vol)
    np.testing.assert_array_equal(out["mask"], mask)


def test_elastic_displacement_bounded_in_mm_with_anisotropic_spacing():
    spacing = (4.0, 1.0, 0.5)
    shape = (16, 40, 48)
    max_mm = 6.0
    ramps = np.meshgrid(*[np.arange(n, dtype=np.float64) * s for n, s in zip(shape, spacing)], indexing="ij")
    disp = []
    for ramp in ramps:  # the same seed warps each physical-coordinate ramp with the same field
        out = _t("ElasticDeformation", max_displacement_mm=max_mm, order=1)(
            image=ramp, meta={"spacing": list(spacing)}, rng=11)["image"]
        disp.append(out - ramp)
    d = np.sqrt(sum(x**2 for x in disp))
    margin = tuple(slice(int(math.ceil(max_mm / s)) + 1, n - int(math.ceil(max_mm / s)) - 1)
                   for n, s in zip(shape, spacing))
    inner = d[margin]
    assert inner.max() <= max_mm + 1e-6
    assert inner.max() > 0.3 * max_mm  # it did move


def test_elastic_labels_stay_in_input_set_and_volume_is_continuous():
    shape = (12, 32, 32)
    mask = np.zeros(shape, np.uint8)
    mask[:, 12:20, 14:18] = 3  # a straight tube across all slices
    mask[:, 2:6, 2:6] = 7
    vol = mask.astype(np.float32) * 10
    out = _t("ElasticDeformation", max_displacement_mm=4.0)(image=vol, mask=mask, meta={"spacing": [2.0, 1.0, 1.0]}, rng=4)
    assert set(np.unique(out["mask"])) <= {0, 3, 7}
    # one field for the whole volume: the tube is still present and connected through the slices
    from scipy import ndimage as ndi

    labels, n = ndi.label(out["mask"] == 3)
    assert n == 1
    assert all((out["mask"][z] == 3).any() for z in range(shape[0]))


def test_elastic_defaults_work_on_2d_slice_without_spacing_and_keep_int16():
    img = np.full((64, 64), -1000, np.int16)
    img[16:48, 16:48] = 50
    out = _t("ElasticDeformation")(image=img, rng=0)["image"]
    assert out.dtype == np.int16 and out.shape == img.shape
    assert out.min() >= -1000  # uncovered pixels get the image minimum (air), not 0 HU


# -- SliceThickness -----------------------------------------------------------------------
def test_slice_thickness_blurs_along_slices_only():
    rng = np.random.default_rng(0)
    inplane = rng.normal(size=(1, 32, 32))
    along = rng.normal(size=(24, 1, 1))
    vol = (inplane + along).astype(np.float32)
    meta = {"spacing": [1.0, 0.8, 0.8]}
    out = _t("SliceThickness", thickness_mm=5.0)(image=vol, meta=meta, rng=0)
    img = out["image"]
    # in-plane differences are untouched (the slice profile acts on z only)
    np.testing.assert_allclose(np.diff(img, axis=2), np.diff(vol, axis=2), atol=1e-4)
    # high-frequency content along z drops sharply
    assert np.sum(np.diff(img, axis=0) ** 2) < 0.25 * np.sum(np.diff(vol, axis=0) ** 2)
    assert out["meta"]["spacing"] == meta["spacing"]


def test_slice_thickness_without_resampling_back_updates_spacing_and_mask():
    vol = np.random.default_rng(1).normal(size=(30, 16, 16)).astype(np.float32)
    mask = (vol > 1).astype(np.uint8)
    out = _t("SliceThickness", thickness_mm=5.0, resample_back=False, profile="rect")(
        image=vol, mask=mask, meta={"spacing": [1.0, 0.7, 0.7]}, rng=0)
    assert out["image"].shape == (6, 16, 16) and out["mask"].shape == (6, 16, 16)
    assert out["meta"]["spacing"] == pytest.approx([5.0, 0.7, 0.7])
    assert set(np.unique(out["mask"])) <= {0, 1}


# -- BiasField ------------------------------------------------------------------------------
def test_bias_field_is_multiplicative_and_smooth():
    rng = np.random.default_rng(0)
    a = rng.uniform(50, 150, (16, 32, 32)).astype(np.float32)
    b = rng.uniform(1, 1000, (16, 32, 32)).astype(np.float32)
    t = _t("BiasField", coefficients=0.4, order=3)
    fa = t(image=a, rng=9)["image"] / a
    fb = t(image=b, rng=9)["image"] / b
    np.testing.assert_allclose(fa, fb, rtol=1e-4)  # the same field multiplies every image
    log = np.log(fa.astype(np.float64))
    # the log field is a cubic polynomial: a least-squares cubic fit is exact
    z, y, x = np.meshgrid(*[np.linspace(-1, 1, n) for n in log.shape], indexing="ij")
    cols = [z**i * y**j * x**k for i in range(4) for j in range(4) for k in range(4) if i + j + k <= 3]
    basis = np.stack([c.ravel() for c in cols], 1)
    coef, *_ = np.linalg.lstsq(basis, log.ravel(), rcond=None)
    assert np.abs(basis @ coef - log.ravel()).max() < 1e-4
    assert log.std() > 0.05  # visible


def test_bias_field_keeps_uint16():
    img = np.full((64, 64), 1000, np.uint16)
    out = _t("BiasField")(image=img, rng=0)["image"]
    assert out.dtype == np.uint16 and out.std() > 0


# -- SyntheticLesion ------------------------------------------------------------------------
def _organ(shape=(20, 48, 48), spacing=(2.0, 1.0, 1.0), radius=16.0):
    grids = np.meshgrid(*[(np.arange(n) - n / 2) * s for n, s in zip(shape, spacing)], indexing="ij")
    return np.sqrt(sum(g**2 for g in grids)) < radius


def test_lesion_in_organ_of_requested_size_and_label():
    spacing = (2.0, 1.0, 1.0)
    organ = _organ(spacing=spacing)
    mask = organ.astype(np.uint8)
    vol = np.where(organ, 60.0, -1000.0).astype(np.float32)
    t = _t("SyntheticLesion", diameter_mm=10.0, contrast=-40.0, irregularity=0.0, texture=0.0, lesion_label=5)
    out = t(image=vol, mask=mask, meta={"spacing": list(spacing), "modality": "CT"}, rng=3)
    lesion = out["mask"] == 5
    assert lesion.any() and not (lesion & ~organ).any()  # inside the organ only
    volume_mm3 = lesion.sum() * np.prod(spacing)
    d_eq = (6 * volume_mm3 / math.pi) ** (1 / 3)
    assert d_eq == pytest.approx(10.0, rel=0.2)
    diff = out["image"] - vol
    assert diff[lesion].mean() < -30 and np.abs(diff[~organ]).max() == 0
    assert set(np.unique(out["mask"])) == {0, 1, 5}


def test_lesion_clipped_to_a_thin_organ_and_without_mask_goes_to_tissue():
    spacing = (1.0, 1.0)
    img = np.full((64, 64), -1000, np.int16)
    img[20:44, 10:54] = 50  # soft tissue block
    out = _t("SyntheticLesion", diameter_mm=8.0)(image=img, meta={"spacing": list(spacing)}, rng=1)
    lesion = out["mask"] == 2
    assert lesion.any() and (img[lesion] == 50).all()
    assert out["image"].dtype == np.int16
    mask = np.zeros((64, 64), np.uint8)
    mask[30:34, 10:54] = 1  # 4 mm thin organ, lesion of 12 mm
    out = _t("SyntheticLesion", diameter_mm=12.0)(image=img, mask=mask, rng=2)
    lesion = out["mask"] == 2
    assert lesion.any() and (mask[lesion] == 1).all()
