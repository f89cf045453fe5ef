"""``domaug preview``: contact sheets of a file and its variants."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from domaug.cli.main import cli
from domaug.cli.preview_cmd import preview_sheet, run_variants
from domaug.sheet import caption_for, contact_sheet, key_params, sheet_geometry


@pytest.fixture
def runner():
    return CliRunner()


def _pipeline(tmp_path):
    path = tmp_path / "pipe.json"
    path.write_text(json.dumps({"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": [
        {"name": "core.Flip", "params": {"axis": "horizontal", "p": 0.5}},
        {"name": "core.Rotate90", "params": {"k": [0, 2]}},
    ]}}))
    return path


def _expected(n_cells, shape, cell=256):
    return sheet_geometry(n_cells, cell, aspect=shape[1] / shape[0])[:2]


def _run(runner, args):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_uint8_rgb_png(runner, tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "photo.png")
    out = tmp_path / "sheet.png"
    _run(runner, ["preview", str(_pipeline(tmp_path)), str(tmp_path / "photo.png"), "-n", "3", "--out", str(out)])
    with Image.open(out) as sheet:
        assert sheet.mode == "RGB"
        assert sheet.size == _expected(4, img.shape)  # 2×2 grid


def test_uint16_four_band(runner, tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(200, 4000, (64, 64, 4)).astype(np.uint16)
    np.save(tmp_path / "ms.npy", img)
    out = tmp_path / "sheet.png"
    _run(runner, ["preview", str(_pipeline(tmp_path)), str(tmp_path / "ms.npy"), "-n", "8", "--seed", "3",
                  "--bands", "3,2,1", "--out", str(out)])
    with Image.open(out) as sheet:
        assert sheet.size == _expected(9, img.shape)  # 3×3 grid
        assert np.asarray(sheet).std() > 10  # something was drawn


def test_int16_ct_slice_with_window(runner, tmp_path):
    yy, xx = np.mgrid[0:64, 0:48]
    hu = np.where((yy - 32) ** 2 + (xx - 24) ** 2 < 400, 40, -1000).astype(np.int16)
    np.save(tmp_path / "ct.npy", hu)
    out = tmp_path / "sheet.png"
    _run(runner, ["preview", "core.Flip", str(tmp_path / "ct.npy"), "-n", "2", "--window", "40,400",
                  "--cell", "128", "--out", str(out)])
    with Image.open(out) as sheet:
        assert sheet.size == _expected(3, hu.shape, cell=128)


def test_bad_window_and_bands_are_usage_errors(runner, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((8, 8, 4), np.uint16))
    result = runner.invoke(cli, ["preview", "core.Flip", str(tmp_path / "x.npy"), "--window", "40"])
    assert result.exit_code == 2 and "CENTER,WIDTH" in result.output
    result = runner.invoke(cli, ["preview", "core.Flip", str(tmp_path / "x.npy"), "--bands", "nir,red,green"])
    assert result.exit_code != 0


def test_variants_are_reproducible_and_distinct():
    from domaug.serialize import as_pipeline
    from domaug.registry import get_transform

    img = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    pipe = as_pipeline(get_transform("core.Rotate90"))
    a = run_variants(pipe, {"image": img}, 6, seed=5)
    b = run_variants(pipe, {"image": img}, 6, seed=5)
    assert all(np.array_equal(x["image"], y["image"]) for x, y in zip(a, b))
    assert len({json.dumps(v["applied"]) for v in a}) > 1


def test_captions_name_transform_and_key_parameters():
    applied = [{"name": "driving.Fog", "params": {"seed": 123456789, "visibility_m": 212.4, "airlight": 0.86,
                                                  "camera": {"f": 1}}}]
    assert key_params(applied[0]["params"]) == "visibility_m=212 airlight=0.86"
    assert caption_for(applied, "#0") == ["#0", "driving.Fog visibility_m=212 airlight=0.86"]
    assert caption_for([], "#1") == ["#1", "(nothing applied)"]


def test_contact_sheet_geometry_for_wide_images():
    images = [np.zeros((50, 200, 3), np.uint8)] * 5
    sheet = contact_sheet(images, [["a"]] * 5, cell=200)
    assert sheet.size == sheet_geometry(5, 200, aspect=4.0)[:2]
    width, height, cols, rows = sheet_geometry(5, 200, aspect=4.0)
    assert (cols, rows) == (3, 2)


def test_preview_sheet_with_mask_overlay():
    from domaug.serialize import as_pipeline
    from domaug.registry import get_transform

    img = np.full((32, 32, 3), 90, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[:8] = 1
    sheet = preview_sheet(as_pipeline(get_transform("core.Flip", axis="vertical")),
                          {"image": img, "mask": mask}, n=1, cell=64)
    arr = np.asarray(sheet)
    assert sheet.size == sheet_geometry(2, 64)[:2]
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 3  # tinted mask rows in both cells


def test_preview_variants_are_the_outputs_of_domaug_run(runner, tmp_path):
    """The sheet shows exactly what `domaug run --seed S` writes for that file."""
    from domaug.cli.preview_cmd import load_pipeline, read_sample

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (24, 32, 3)).astype(np.uint8)).save(src / "x.png")
    pipe = _pipeline(tmp_path)
    result = runner.invoke(cli, ["run", str(pipe), str(src), str(tmp_path / "out"), "--variants", "3",
                                 "--seed", "11", "--executor", "serial", "--quiet"])
    assert result.exit_code == 0, result.output
    variants = run_variants(load_pipeline(str(pipe)), read_sample(src / "x.png"), 3, seed=11, rel="x.png")
    for k, variant in enumerate(variants):
        with Image.open(tmp_path / "out" / f"x.aug{k}.png") as written:
            np.testing.assert_array_equal(np.asarray(written), variant["image"])


def test_folder_argument_previews_its_first_item(runner, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(folder / "b.png")
    Image.fromarray(np.full((40, 20, 3), 200, np.uint8)).save(folder / "a.png")
    out = tmp_path / "sheet.png"
    result = _run(runner, ["preview", "core.Flip", str(folder), "-n", "1", "--out", str(out)])
    assert "sheet.png" in result.output
    with Image.open(out) as sheet:
        assert sheet.size == _expected(2, (40, 20))  # a.png (tall) comes first


def test_ct_volume_in_npz_with_orthogonal_slices(runner, tmp_path):
    d, h, w = 10, 24, 32
    zz, yy, xx = np.mgrid[0:d, 0:h, 0:w]
    hu = np.where((yy - 12) ** 2 + (xx - 16) ** 2 < 80, 60, -1000).astype(np.int16)
    meta = {"spatial_ndim": 3, "modality": "CT", "spacing": [3.0, 1.0, 1.0]}  # 10 slices → 30 rows
    np.savez(tmp_path / "vol.npz", image=hu, meta=np.asarray(json.dumps(meta)))
    out = tmp_path / "sheet.png"
    _run(runner, ["preview", "core.Flip", str(tmp_path / "vol.npz"), "-n", "2", "--slices", "orthogonal",
                  "--cell", "96", "--out", str(out)])
    rendered_shape = (3 * d, w + 2 + w + 2 + h)  # axial | coronal | sagittal, slices stretched ×3
    with Image.open(out) as sheet:
        assert sheet.size == _expected(3, rendered_shape, cell=96)


def test_large_images_are_previewed_on_a_centre_crop(runner, tmp_path):
    from domaug.cli.preview_cmd import centre_crop

    img = np.zeros((100, 60, 3), np.uint8)
    img[40:60, 20:40] = 255
    boxes = np.array([[20, 40, 40, 60, 1]], float)
    meta = {"transform": [1000.0, 10.0, 0.0, 5000.0, 0.0, -10.0]}
    cut, note = centre_crop({"image": img, "bboxes": boxes, "meta": meta}, 40)
    assert cut["image"].shape == (40, 40, 3) and "centre 40×40 crop of a 100×60" in note
    assert cut["image"][10:30, 10:30].min() == 255  # the bright square is in the middle
    np.testing.assert_allclose(cut["bboxes"][0, :4], [10, 10, 30, 30])
    assert cut["meta"]["transform"][0] == 1000.0 + 10 * 10 and cut["meta"]["transform"][3] == 5000.0 - 10 * 30
    same, note = centre_crop({"image": img}, 0)
    assert same["image"] is img and note is None
    Image.fromarray(img).save(tmp_path / "tall.png")
    result = _run(runner, ["preview", "core.Flip", str(tmp_path / "tall.png"), "-n", "1", "--crop", "40",
                           "--out", str(tmp_path / "s.png")])
    assert "crop" in result.output
    with Image.open(tmp_path / "s.png") as sheet:
        assert sheet.size == _expected(2, (40, 40))
