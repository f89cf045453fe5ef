"""core.ElasticDeformation and the control-grid kernels in domaug.ops.elastic."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError
from domaug.ops import elastic
from domaug.transforms.elastic_deformation import ElasticDeformation

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_helpers import blob, centroid_xy  # noqa: E402


def deform(**kw):
    return domaug.get_transform("core.ElasticDeformation", **kw)


def _norm(field, per_axis):
    return np.sqrt(sum((field[k] / per_axis[k]) ** 2 for k in range(len(per_axis)) if per_axis[k] > 0))


# -- kernels ---------------------------------------------------------------------
def test_bspline_basis_is_a_partition_of_unity():
    for n_out, n_ctrl in [(1, 4), (2, 6), (37, 5), (128, 8)]:
        b = elastic.bspline_basis(n_out, n_ctrl)
        assert b.shape == (n_out, n_ctrl) and b.dtype == np.float32 and (b >= 0).all()
        np.testing.assert_allclose(b.sum(1), 1, rtol=1e-6)
    const = elastic.upsample_control(np.full((5, 6), 3.0), (20, 31))
    np.testing.assert_allclose(const, 3.0, rtol=1e-6)


@pytest.mark.parametrize("shape,per_axis", [((40, 60), [5.0, 5.0]), ((12, 30, 25), [1.5, 3.0, 3.0]),
                                            ((1, 50), [2.0, 2.0]), ((16, 16, 16), [0.0, 2.0, 2.0])])
def test_field_peak_equals_and_never_exceeds_the_bound(shape, per_axis):
    for seed in range(5):
        f = elastic.control_grid_field(shape, seed=seed, n_control=5, max_disp_px_per_axis=per_axis)
        assert f.dtype == np.float32 and f.shape == (len(shape),) + shape
        peak = _norm(f, per_axis).max()
        assert 0.999 <= peak <= 1.0
        for k, m in enumerate(per_axis):
            assert np.abs(f[k]).max() <= m  # a zero bound means that axis never moves


def test_field_is_reproducible_and_smooth_in_3d():
    a = elastic.control_grid_field((32, 40, 36), seed=11, n_control=6, max_disp_px_per_axis=4.0)
    np.testing.assert_array_equal(a, elastic.control_grid_field((32, 40, 36), seed=11, n_control=6,
                                                                max_disp_px_per_axis=4.0))
    assert not np.array_equal(a, elastic.control_grid_field((32, 40, 36), seed=12, n_control=6,
                                                            max_disp_px_per_axis=4.0))
    for axis in (1, 2, 3):  # continuity: neighbouring voxels move almost alike, no tearing/folding
        assert np.abs(np.diff(a, axis=axis)).max() < 0.9
        assert np.abs(np.diff(a, n=2, axis=axis)).max() < 0.1 * 4.0  # curvature << amplitude


def test_warp_kernel_follows_the_field_and_keeps_labels():
    f = elastic.control_grid_field((30, 40), seed=3, n_control=5, max_disp_px_per_axis=3.0)
    ramp = np.tile(np.arange(40, dtype=np.float32), (30, 1))
    out = elastic.warp(ramp, f, order=1)
    # out[i] = ramp[i + d(i)] = column + d_col (exact for a linear ramp, inside the image)
    cols = np.arange(40)[None, :] + f[1]
    rows = np.arange(30)[:, None] + f[0]
    inside = (cols >= -0.5) & (cols <= 39.5) & (rows >= -0.5) & (rows <= 29.5)
    assert (out[~inside] == 0).all() and (~inside).any()  # sampled outside the input: fill
    interior = inside & (cols >= 0) & (cols <= 39)
    np.testing.assert_allclose(out[interior], cols[interior], atol=1e-4)
    labels = np.random.default_rng(0).integers(1, 4, (30, 40)).astype(np.uint16)
    warped = elastic.warp(labels, f, order=0, fill=0)
    assert warped.dtype == np.uint16 and set(np.unique(warped)) <= {0, 1, 2, 3}


def test_invert_points_undoes_the_field():
    f = elastic.control_grid_field((50, 50), seed=5, n_control=6, max_disp_px_per_axis=5.0)
    x = np.array([[10.0, 20.0], [25.3, 31.7], [40.0, 8.0]])
    y = elastic.invert_points(x, f)
    from scipy import ndimage as ndi
    d = np.stack([ndi.map_coordinates(f[k], y.T, order=1) for k in range(2)], 1)
    np.testing.assert_allclose(y + d, x, atol=1e-3)


# -- the transform ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_zero_magnitude_is_exact_identity(dtype):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 100, (19, 27, 2)).astype(dtype)
    sample = dict(image=img, mask=rng.integers(0, 3, (19, 27)).astype(np.uint8),
                  bboxes=np.array([[1.0, 1.0, 9.0, 7.0, 3]]), keypoints=np.array([[4.5, 5.5]]),
                  meta={"transform": [0, 1, 0, 0, 0, -1]})
    out = deform(max_displacement_px=0)(rng=0, **sample)
    for key in ("image", "mask", "bboxes", "keypoints"):
        np.testing.assert_array_equal(out[key], sample[key])
    assert out["meta"] == sample["meta"] and out["image"] is not img


def test_image_displacement_never_exceeds_max_px():
    ramp_x = np.tile(np.arange(64, dtype=np.float32), (48, 1))
    ramp_y = np.tile(np.arange(48, dtype=np.float32)[:, None], (1, 64))
    img = np.stack([ramp_y, ramp_x], -1)
    for seed in range(4):
        out = deform(max_displacement_px=4.0)(image=img, valid=np.ones((48, 64), bool), rng=seed)
        v = out["valid"] & (out["image"][..., 1] <= 63) & (out["image"][..., 0] <= 47)  # not edge-clamped
        disp = np.hypot(out["image"][..., 0] - ramp_y, out["image"][..., 1] - ramp_x)[v]
        assert disp.max() <= 4.0 + 1e-3
        assert disp.max() > 2.0  # and it is visible


def test_mm_bound_uses_spacing_in_3d():
    shape = (10, 24, 24)
    spacing = [3.0, 0.5, 0.5]
    t = deform(max_displacement_mm=6.0)
    vol = np.zeros(shape, np.float32)
    params = t(image=vol, meta={"spacing": spacing}, rng=1)["applied"][0]["params"]
    np.testing.assert_allclose(params["max_disp_px"], [2.0, 12.0, 12.0])
    f = ElasticDeformation.field(params, shape)
    mm = np.sqrt(sum((f[k] * spacing[k]) ** 2 for k in range(3)))
    assert 5.99 <= mm.max() <= 6.0


def test_3d_volume_warp_is_continuous_and_masks_keep_labels():
    z, y, x = np.mgrid[:20, :24, :28].astype(np.float32)
    vol = (z + y + x) / 72
    mask = ((z // 5 + y // 6 + x // 7) % 3).astype(np.uint8)
    out = deform(max_displacement_px=3.0)(image=vol, mask=mask, valid=np.ones(vol.shape, bool),
                                          meta={"spacing": [1.0, 1.0, 1.0]}, rng=2)
    w, v = out["image"], out["valid"]
    assert w.shape == vol.shape and w.dtype == np.float32 and v.mean() > 0.5
    for axis in range(3):  # a smooth ramp stays smooth: no tears between neighbouring voxels
        both = np.logical_and(np.delete(v, 0, axis), np.delete(v, -1, axis))
        assert np.abs(np.diff(w, axis=axis))[both].max() < 3.0 / 72
    assert set(np.unique(out["mask"])) <= set(np.unique(mask)) | {0}
    assert not np.array_equal(w, vol)


def test_keypoints_follow_the_content():
    h, w = 48, 56
    pts = [(14.5, 12.5), (40.5, 30.5), (25.5, 38.5)]
    img = sum(blob(h, w, x, y, 1.2) for x, y in pts)
    t = deform(max_displacement_px=5.0, n_control=5)
    for seed in range(3):
        out = t(image=img, keypoints=np.array(pts), rng=seed)
        assert len(out["keypoints"]) == 3
        for kx, ky in out["keypoints"]:
            cx, cy = centroid_xy(out["image"], (kx, ky), 4)
            assert abs(cx - kx) < 0.6 and abs(cy - ky) < 0.6


def test_boxes_follow_a_warped_square():
    mask = np.zeros((60, 60), np.uint8)
    mask[20:40, 15:45] = 1
    boxes = np.array([[15.0, 20.0, 45.0, 40.0, 1]])
    out = deform(max_displacement_px=4.0)(image=mask.astype(np.float32), mask=mask, bboxes=boxes, rng=7)
    rows, cols = np.nonzero(out["mask"])
    b = out["bboxes"][0]
    assert abs(b[0] - cols.min()) <= 1 and abs(b[2] - (cols.max() + 1)) <= 1
    assert abs(b[1] - rows.min()) <= 1 and abs(b[3] - (rows.max() + 1)) <= 1


def test_nodata_and_valid_outside_the_input():
    img = np.full((30, 30), 50, np.uint8)
    valid = np.ones((30, 30), bool)
    out = deform(max_displacement_px=6.0, n_control=4)(image=img, valid=valid, meta={"nodata": 0}, rng=3)
    v = out["valid"]
    assert (~v).any()  # something was pulled in from outside
    assert (out["image"][~v] == 0).all() and (out["image"][v] == 50).all()


def test_reproducible_replay_and_errors():
    img = np.random.default_rng(4).integers(0, 255, (32, 32, 3)).astype(np.uint8)
    t = deform()
    a = t(image=img, rng=9)
    np.testing.assert_array_equal(a["image"], t(image=img, rng=9)["image"])
    np.testing.assert_array_equal(domaug.replay(a["applied"], image=img)["image"], a["image"])
    assert not np.array_equal(a["image"], t(image=img, rng=10)["image"])
    with pytest.raises(ParameterError, match="not both"):
        deform(max_displacement_px=2, max_displacement_mm=2)
    with pytest.raises(ParameterError, match="n_control"):
        deform(n_control=2)
    with pytest.raises(UnsupportedInputError, match="keypoints"):
        t(image=np.zeros((4, 8, 8), np.float32), meta={"spacing": [1, 1, 1]}, keypoints=np.array([[1.0, 1.0]]), rng=0)
