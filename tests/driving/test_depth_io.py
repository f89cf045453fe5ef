"""Depth in the conventions users have: KITTI PNG, Cityscapes disparity + camera JSON, npy/TIFF/PFM,
paired beside images by `domaug run`, validated, holes filled by the scene layout."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import domaug
from domaug.cli.main import cli
from domaug.formats.sidecar import is_sidecar, read_sidecars
from domaug_driving import depth_io
from domaug_driving.depth_sidecar import DEPTH_SIDECAR

BASELINE_M, FX = 0.209313, 2262.52  # a Cityscapes camera (aachen)
FOG = {"domaug_format": 1, "pipeline": {"name": "driving.Fog", "params": {"visibility_m": 100}}}


def _frame(shared_data, shape=(360, 640)):
    """udacity_test6.jpg, halved (a real dash-cam frame, 640×360)."""
    with Image.open(shared_data / "driving" / "udacity_test6.jpg") as im:
        return np.asarray(im.convert("RGB").resize(shape[::-1], Image.BILINEAR))


def _kitti_png(path, z):
    Image.fromarray(depth_io.metres_to_kitti(z)).save(path)


# --- formulas and round trips -------------------------------------------------------------

def test_kitti_png_formula_holes_and_round_trip(tmp_path):
    assert depth_io.kitti_to_metres(np.array([2560, 256, 65535], np.uint16)).tolist() == [10.0, 1.0, 65535 / 256]
    assert np.isnan(depth_io.kitti_to_metres(np.array([0], np.uint16)))[0]
    z = np.random.default_rng(0).uniform(1.0, 250.0, (20, 30)).astype(np.float32)
    z[3:6, 4:9] = np.nan
    depth_io.write_depth(tmp_path / "a.depth.png", z)
    with Image.open(tmp_path / "a.depth.png") as im:
        assert im.mode.startswith("I;16") or im.mode == "I"
    back = depth_io.read_depth(tmp_path / "a.depth.png")
    np.testing.assert_array_equal(np.isnan(back), np.isnan(z))
    assert np.nanmax(np.abs(back - z)) <= 0.5 / 256 + 1e-6  # quantisation: half a step of 1/256 m
    # beyond the uint16 range, infinite or tiny: never a wrong distance
    assert depth_io.metres_to_kitti(np.array([300.0, np.inf, 1e-4, -1.0])).tolist() == [0, 0, 1, 0]


def test_cityscapes_disparity_formula_and_round_trip(tmp_path):
    d = 20.0  # px: p = 1 + 256·d
    z = depth_io.cityscapes_to_metres(np.array([1 + 256 * 20, 0, 1], np.uint16), BASELINE_M, FX)
    assert z[0] == pytest.approx(BASELINE_M * FX / d, rel=1e-6)  # ≈ 23.68 m
    assert np.isnan(z[1]) and np.isposinf(z[2])  # invalid (sky, occlusion); zero disparity: infinitely far
    depths = np.random.default_rng(1).uniform(3.0, 200.0, (16, 16))
    p = depth_io.metres_to_cityscapes(depths, BASELINE_M, FX)
    back = depth_io.cityscapes_to_metres(p, BASELINE_M, FX)
    disparity = BASELINE_M * FX / depths
    np.testing.assert_allclose(BASELINE_M * FX / back, disparity, atol=0.5 / 256 + 1e-9)  # half a 1/256 px step
    camera = {"baseline_m": BASELINE_M, "fx": FX}
    (tmp_path / "c_camera.json").write_text(depth_io.camera_json_text(camera))
    want = {"baseline_m": BASELINE_M, "fx": FX, "fy": FX}
    assert depth_io.read_camera_json(tmp_path / "c_camera.json") == want
    depth_io.write_depth(tmp_path / "c_disparity.png", back, camera=camera)
    np.testing.assert_array_equal(depth_io.read_depth(tmp_path / "c_disparity.png", camera=camera), back)


@pytest.mark.parametrize("name", ["f.depth.npy", "f.depth.tif", "f.depth.tiff", "f.depth.pfm"])
def test_float_conventions_round_trip_exactly_with_holes(tmp_path, name):
    z = np.random.default_rng(2).uniform(0.5, 900.0, (7, 11)).astype(np.float32)
    z[0, 0], z[6, 10], z[2, 3] = np.nan, np.inf, 0.0  # 0 written by exporters for "no return": read as NaN
    depth_io.write_depth(tmp_path / name, z)
    back = depth_io.read_depth(tmp_path / name)
    want = z.copy()
    want[2, 3] = np.nan
    np.testing.assert_array_equal(back, want)


def test_pfm_byte_order_from_the_scale_sign_and_rows_bottom_to_top(tmp_path):
    rows = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)  # as the image shows them, top row first
    for scale, dtype in ((b"-1.0", "<f4"), (b"1.0", ">f4")):
        path = tmp_path / f"x{scale.decode()}.pfm"
        path.write_bytes(b"Pf\n3 2\n" + scale + b"\n" + rows[::-1].astype(dtype).tobytes())  # bottom row stored first
        np.testing.assert_array_equal(depth_io.read_pfm(path), rows)
    depth_io.write_pfm(tmp_path / "big.pfm", rows, little_endian=False)
    data = (tmp_path / "big.pfm").read_bytes()
    assert data.startswith(b"Pf\n3 2\n1.0\n") and data.endswith(np.array([1.0, 2.0, 3.0], ">f4").tobytes())
    (tmp_path / "rgb.pfm").write_bytes(b"PF\n1 1\n-1.0\n" + np.zeros(3, "<f4").tobytes())
    with pytest.raises(domaug.FormatError, match="one channel"):
        depth_io.read_pfm(tmp_path / "rgb.pfm")


def test_planar_depth_becomes_distance_along_the_ray():
    z = np.full((100, 200), 10.0, np.float32)
    intr = {"fx": 100.0, "fy": 100.0, "cx": 100.0, "cy": 50.0}
    ray = depth_io.planar_to_ray(z, intr)
    assert ray[50, 100] == pytest.approx(10.0, rel=1e-3)  # on the axis: Z
    assert ray[50, 0] == pytest.approx(10.0 * np.sqrt(1 + 0.995**2 + 0.005**2), rel=1e-6)  # ≈ 45° off axis
    np.testing.assert_allclose(depth_io.ray_to_planar(ray, intr), z, rtol=1e-6)


# --- pairing beside an image ------------------------------------------------------------------

def test_names_the_sidecar_codec_claims():
    for name in ("x.depth.png", "x_depth.png", "x.depth.npy", "x_depth.TIFF", "x.depth.pfm",
                 "aachen_000000_000019_disparity.png", "aachen_000000_000019_camera.json"):
        assert is_sidecar(name), name
    for name in ("x.png", "depth.png", "x.depthmap.png", "x_disparity.jpg"):
        assert not is_sidecar(name), name


def test_kitti_sidecar_read_as_distance_along_the_ray_and_written_back_bit_exact(tmp_path):
    img = np.zeros((40, 60, 3), np.uint8)
    Image.fromarray(img).save(tmp_path / "f.png")
    z = np.random.default_rng(3).uniform(2.0, 80.0, (40, 60)).astype(np.float32)
    z[:5] = np.nan
    _kitti_png(tmp_path / "f_depth.png", z)
    target = read_sidecars(tmp_path / "f.png", (40, 60))["depth"]
    assert np.isnan(target[:5]).all()
    assert (target[5:] >= z[5:] - 0.01).all()  # the ray is never shorter than Z
    written = DEPTH_SIDECAR.write(target, tmp_path / "f.aug0.png", tmp_path / "f_depth.png", tmp_path / "f.png")
    assert [p.name for p in written] == ["f.aug0_depth.png"]  # same convention, same separator
    with Image.open(tmp_path / "f_depth.png") as a, Image.open(written[0]) as b:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_cityscapes_names_and_tree_pair_disparity_camera_and_image(tmp_path):
    base = "aachen_000000_000019"
    camera = {"baseline_m": BASELINE_M, "fx": FX, "fy": FX, "cx": 30.0, "cy": 20.0}
    p = np.full((40, 60), 1 + 256 * 20, np.uint16)
    p[:10] = 0  # sky: invalid disparity
    for root in ("flat", "tree"):
        img_dir = tmp_path / root / ("leftImg8bit/train/aachen" if root == "tree" else "")
        disp_dir = tmp_path / root / ("disparity/train/aachen" if root == "tree" else "")
        cam_dir = tmp_path / root / ("camera/train/aachen" if root == "tree" else "")
        for d in (img_dir, disp_dir, cam_dir):
            d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(img_dir / f"{base}_leftImg8bit.png")
        Image.fromarray(p).save(disp_dir / f"{base}_disparity.png")
        (cam_dir / f"{base}_camera.json").write_text(depth_io.camera_json_text(camera))
        depth = read_sidecars(img_dir / f"{base}_leftImg8bit.png", (40, 60))["depth"]
        assert np.isnan(depth[:10]).all()
        assert depth[20, 30] == pytest.approx(BASELINE_M * FX / 20.0, rel=1e-3)  # the principal point: Z
    out = DEPTH_SIDECAR.write(depth, tmp_path / "o.aug0.png", disp_dir / f"{base}_disparity.png",
                              img_dir / f"{base}_leftImg8bit.png")
    assert [q.name for q in out] == ["o.aug0.disparity.png", "o.aug0.camera.json"]
    np.testing.assert_array_equal(np.asarray(Image.open(out[0])), p)


def test_two_depth_files_for_one_image_and_a_size_mismatch_are_named_errors(tmp_path):
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(tmp_path / "f.png")
    _kitti_png(tmp_path / "f.depth.png", np.full((10, 12), 5.0))
    np.save(tmp_path / "f_depth.npy", np.full((10, 12), 5.0, np.float32))
    with pytest.raises(domaug.FormatError, match=r"2 depth sidecars pair with it \(f.depth.png, f_depth.npy\)"):
        read_sidecars(tmp_path / "f.png", (10, 12))
    (tmp_path / "f_depth.npy").unlink()
    _kitti_png(tmp_path / "f.depth.png", np.full((9, 12), 5.0))
    with pytest.raises(domaug.FormatError, match=r"depth is 12×9 but the image is 12×10") as info:
        read_sidecars(tmp_path / "f.png", (10, 12))
    assert info.value.path.endswith("f.depth.png")


def test_depth_check_allows_no_data_and_infinity_refuses_negatives():
    flip = domaug.get_transform("core.Flip")
    image = np.zeros((4, 5), np.uint8)
    depth = np.full((4, 5), 10.0, np.float32)
    depth[0, 0], depth[1, 1] = np.nan, np.inf
    assert flip(image=image, depth=depth, rng=0)["depth"].shape == (4, 5)
    depth[2, 2] = -1.0
    with pytest.raises(domaug.TargetError, match="depth has 1 negative pixels"):
        flip(image=image, depth=depth, rng=0)


# --- the transforms and the batch runner on a real frame ------------------------------------------

def test_fog_fills_depth_holes_with_the_layout_prior(shared_data):
    frame = _frame(shared_data)
    fog = domaug.get_transform("driving.Fog", visibility_m=100)
    plain = fog(image=frame, rng=4)
    depth = np.full(frame.shape[:2], 12.0, np.float32)  # everything near: fog barely touches it
    depth[:, 320:] = np.nan  # the right half has no data (0 in the KITTI PNG)
    fogged = fog(image=frame, depth=depth, rng=4)
    np.testing.assert_array_equal(fogged["depth"], depth)  # a pixel transform leaves depth as given
    far = slice(320 + 5 * 20, None)  # > 5σ (σ = 3 % of the width) from any measurement: the layout alone
    assert np.abs(fogged["image"][:, far].astype(int) - plain["image"][:, far]).max() <= 1
    assert np.abs(fogged["image"][:, :320].astype(int) - plain["image"][:, :320]).mean() > 5  # 12 m measured


def test_sparse_lidar_depth_gives_smooth_fog_not_speckle(shared_data):
    """5 % of the pixels measured (a lidar projection): the holes follow the measured scale nearby."""
    from domaug_driving import depth as D
    from domaug_driving.depth_fill import fill_holes

    frame = _frame(shared_data)
    h, w = frame.shape[:2]
    prior = D.depth_of_sample({"image": frame}, D.camera_of({"image": frame}, {}))
    true = np.where(prior < D.SKY_DEPTH_M, prior * (0.5 + 0.8 * np.arange(w) / w), prior).astype(np.float32)
    sparse = np.full((h, w), np.nan, np.float32)
    pick = np.random.default_rng(0).random((h, w)) < 0.05
    pick[: h // 3] = False  # no lidar return up there
    sparse[pick] = true[pick]
    lower = (slice(h // 2, None), slice(None))
    filled = fill_holes(sparse, prior, sky_depth_m=D.SKY_DEPTH_M)
    assert np.median(np.abs(filled / true - 1)[lower]) < 0.02  # the raw prior is ~18 % off here
    fog = domaug.get_transform("driving.Fog", visibility_m=80)
    dense_out = fog(image=frame, depth=true, rng=1)["image"].astype(int)
    sparse_out = fog(image=frame, depth=sparse, rng=1)["image"].astype(int)
    assert np.abs(sparse_out - dense_out)[lower].mean() < 0.5  # the prior alone in the holes: ≈ 9 levels of speckle


def _folder(shared_data, tmp_path, depth_shape=None):
    src = tmp_path / "in"
    src.mkdir()
    frame = _frame(shared_data)
    Image.fromarray(frame).save(src / "frame_0042.png")
    z = np.full(depth_shape or frame.shape[:2], 20.0, np.float32)
    z[: z.shape[0] // 3] = np.nan  # no lidar return above: sky and trees
    _kitti_png(src / "frame_0042_depth.png", z)
    pipe = tmp_path / "fog.json"
    pipe.write_text(json.dumps(FOG))
    return src, pipe


def _run(pipe, src, out):
    return CliRunner().invoke(cli, ["run", str(pipe), str(src), str(out), "--seed", "1", "--workers", "1",
                                    "--executor", "serial"])


def test_run_pairs_a_kitti_depth_sidecar_and_writes_it_back_in_kitti(shared_data, tmp_path):
    src, pipe = _folder(shared_data, tmp_path)
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(src / "lonely_depth.png")  # pairs with no image
    out = tmp_path / "out"
    result = _run(pipe, src, out)
    assert result.exit_code == 0, result.output
    assert "skipped: lonely_depth.png: a field sidecar (depth/disparity) that pairs with no image" in result.output
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok"]
    with Image.open(src / "frame_0042_depth.png") as a, Image.open(out / "frame_0042.aug0_depth.png") as b:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # Fog passes depth through, same convention
    assert (out / "frame_0042.aug0.png").is_file() and not (out / "lonely_depth.aug0.png").exists()


def test_run_names_the_depth_file_and_the_sizes_when_they_differ(shared_data, tmp_path):
    src, pipe = _folder(shared_data, tmp_path, depth_shape=(375, 1242))
    result = _run(pipe, src, tmp_path / "out")
    assert result.exit_code != 0
    assert "frame_0042_depth.png: depth is 1242×375 but the image is 640×360" in result.output


def test_run_refuses_negative_float_depth_with_one_line(shared_data, tmp_path):
    src, pipe = _folder(shared_data, tmp_path)
    (src / "frame_0042_depth.png").unlink()
    np.save(src / "frame_0042.depth.npy", np.full((360, 640), -3.0, np.float32))
    result = _run(pipe, src, tmp_path / "out")
    assert result.exit_code != 0
    line = [ln for ln in result.output.splitlines() if "negative" in ln]
    assert line and "frame_0042.depth.npy: depth has" in line[0], result.output


def test_spatial_transforms_move_depth_by_nearest_neighbour_and_write_it_back(shared_data, tmp_path):
    src, _ = _folder(shared_data, tmp_path)
    z = np.random.default_rng(5).choice([8.0, 35.0], size=(360, 640)).astype(np.float32)
    z[np.random.default_rng(6).random(z.shape) < 0.3] = np.nan  # 30 % holes
    _kitti_png(src / "frame_0042_depth.png", z)
    flip = tmp_path / "flip.json"
    flip.write_text(json.dumps({"domaug_format": 1,
                                "pipeline": {"name": "core.Flip", "params": {"axis": "horizontal"}}}))
    assert _run(flip, src, tmp_path / "flipped").exit_code == 0
    flipped = tmp_path / "flipped/frame_0042.aug0_depth.png"
    with Image.open(src / "frame_0042_depth.png") as a, Image.open(flipped) as b:
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a)[:, ::-1])  # the ray factor is symmetric
    depth = read_sidecars(src / "frame_0042.png", (360, 640))["depth"]
    out = domaug.get_transform("core.Resize", height=180, width=320)(image=_frame(shared_data), depth=depth, rng=0)
    half = out["depth"]
    assert half.shape == (180, 320) and 0.25 < np.isnan(half).mean() < 0.35  # holes neither grow nor swallow data
    planar = depth_io.ray_to_planar(half)
    assert set(np.unique(np.round(planar[~np.isnan(planar)]))) <= {8.0, 35.0}  # no distance invented between


@pytest.mark.parametrize("name", ["f_depth.png", "f_disparity.png", "f.depth.npy", "f.depth.tif", "f.depth.pfm"])
def test_broken_depth_files_fail_as_format_errors_naming_the_file(tmp_path, name):
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "f.png")
    (tmp_path / "f_camera.json").write_text('{"extrinsic": {}}')  # no baseline
    z = np.full((6, 8), 7.0, np.float32)
    for data in (b"", None):  # empty, then truncated to half
        if data is None:
            full = tmp_path / ("full" + name[1:])
            depth_io.write_depth(full, z, camera={"baseline_m": BASELINE_M, "fx": FX})
            data = full.read_bytes()[: len(full.read_bytes()) // 2]
        (tmp_path / name).write_bytes(data)
        with pytest.raises(domaug.FormatError) as info:
            read_sidecars(tmp_path / "f.png", (6, 8))
        assert "\n" not in info.value.reason and info.value.path.endswith(("f_camera.json", name))


def test_a_sidecar_codec_is_checked_when_registered():
    from domaug.targets import register_target

    with pytest.raises(domaug.TargetError, match="lacks find, read, write"):
        register_target("bad_depth", "field", sidecar=type("Half", (), {"claims": len, "ignores": len})())
    with pytest.raises(domaug.TargetError, match="only field targets"):
        register_target("bad_mask", "mask", nearest=True)


def test_a_camera_json_beside_kitti_depth_gives_its_intrinsics(tmp_path):
    """KITTI's left colour camera (f ≈ 721.5 px at 1242×375): the corner ray is √(1 + x² + y²) longer."""
    Image.fromarray(np.zeros((375, 1242, 3), np.uint8)).save(tmp_path / "k.png")
    _kitti_png(tmp_path / "k_depth.png", np.full((375, 1242), 10.0))
    intr = {"fx": 721.5377, "fy": 721.5377, "u0": 609.5593, "v0": 172.854}
    (tmp_path / "k_camera.json").write_text(json.dumps({"intrinsic": intr}))
    depth = read_sidecars(tmp_path / "k.png", (375, 1242))["depth"]
    x, y = (0.5 - intr["u0"]) / intr["fx"], (0.5 - intr["v0"]) / intr["fy"]
    assert depth[0, 0] == pytest.approx(10.0 * np.sqrt(1 + x * x + y * y), rel=1e-5)  # ≈ 13.2 m, not 10
    out = DEPTH_SIDECAR.write(depth, tmp_path / "k.aug0.png", tmp_path / "k_depth.png", tmp_path / "k.png")
    assert [p.name for p in out] == ["k.aug0_depth.png", "k.aug0.camera.json"]
    np.testing.assert_array_equal(np.asarray(Image.open(out[0])), np.asarray(Image.open(tmp_path / "k_depth.png")))
