"""``domaug gallery NAMESPACE``: one contact sheet per readable item, unreadable files named."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import domaug
from domaug.cli.main import main
from domaug.sheet import CAPTION_LINES, LINE_PX, MIN_CAPTION_PX, PAD, cell_size, sheet_geometry

CELL = 96  # small cells: fast tests
BACKGROUND = (24, 24, 24)
SHARED_FRAME = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "driving" / "udacity_test6.jpg"


def gallery(capsys, namespace, data, out, *extra):
    """Run ``domaug gallery`` in-process: (exit code, stdout, stderr)."""
    try:
        main(["gallery", namespace, "--data", str(data), "--out", str(out), "--cell", str(CELL), *extra])
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_cells(namespace: str, head: int, seeds: int, views: int) -> tuple[int, int]:
    """(cells including the empty slots that end the head's row, columns)."""
    cols = max(3, seeds * views)
    head_slots = math.ceil(head / cols) * cols
    return head_slots + len(domaug.list_transforms(namespace)) * seeds * views, cols


def cell_pixels(rgb: np.ndarray, index: int, cols: int, aspect: float) -> np.ndarray:
    """The image area of cell ``index`` (the slot, caption left out)."""
    cw, ch = cell_size(CELL, aspect)
    slot = max(cw, MIN_CAPTION_PX)
    row, col = divmod(index, cols)
    x0, y0 = PAD + col * (slot + PAD), PAD + row * (ch + CAPTION_LINES * LINE_PX + PAD)
    return rgb[y0 : y0 + ch, x0 : x0 + slot]


def check_sheet(path: Path, n_cells: int, cols: int, aspect: float) -> np.ndarray:
    """The sheet has exactly ``n_cells`` cells in ``cols`` columns; returns its pixels."""
    with Image.open(path) as sheet:
        rgb = np.asarray(sheet.convert("RGB"))
    width, height, _, _ = sheet_geometry(n_cells, CELL, cols, aspect)
    assert rgb.shape[:2] == (height, width)
    return rgb


def small_frame(folder: Path) -> Path:
    """A 160×90 road frame: the shared Udacity frame downscaled when present, else a synthetic one."""
    if SHARED_FRAME.is_file():
        im = Image.open(SHARED_FRAME).convert("RGB")
    else:
        from domaug_driving.demo import road_scene

        im = Image.fromarray(road_scene(0)[0])
    folder.mkdir(exist_ok=True)
    path = folder / "road.png"
    im.resize((160, 90), Image.Resampling.LANCZOS).save(path)
    return path


def test_driving_sheet_has_the_layout_and_depth_panels(tmp_path, capsys):
    pytest.importorskip("domaug_driving")
    from domaug_driving.gallery_panels import LABELS

    frame = small_frame(tmp_path / "frames")
    code, out, err = gallery(capsys, "driving", frame.parent, tmp_path / "out", "--seeds", "0")
    assert code == 0, err
    n_cells, cols = expected_cells("driving", head=3, seeds=1, views=1)
    rgb = check_sheet(tmp_path / "out" / "road.png", n_cells, cols, 160 / 90)
    assert all((cell_pixels(rgb, i, cols, 160 / 90) != BACKGROUND).any(axis=-1).mean() > 0.3 for i in range(n_cells))
    layout = cell_pixels(rgb, 1, cols, 160 / 90).reshape(-1, 3).astype(int)
    found = [name for name, colour in LABELS.values() if (np.abs(layout - colour).max(axis=1) <= 3).mean() > 0.02]
    assert {"sky", "ground"} <= set(found), found  # the layout panel, not a copy of the frame
    assert "road.png" in (tmp_path / "out" / "gallery.md").read_text()


def small_geotiff(folder: Path) -> Path:
    """A 40×60 four-band (blue, green, red, nir) uint16 GeoTIFF with a vegetated half."""
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    folder.mkdir(exist_ok=True)
    bands = np.zeros((4, 40, 60), np.uint16)
    bands[:, :, :30] = np.array([900, 1100, 1300, 2000])[:, None, None]  # soil
    bands[:, :, 30:] = np.array([500, 900, 400, 4500])[:, None, None]  # vegetation
    bands += np.random.default_rng(0).integers(0, 200, bands.shape, dtype=np.uint16)
    path = folder / "field.tif"
    with rasterio.open(path, "w", driver="GTiff", width=60, height=40, count=4, dtype="uint16",
                       crs="EPSG:32633", transform=Affine(10, 0, 500000, 0, -10, 4100000)) as dst:
        dst.write(bands)
        for i, name in enumerate(("blue", "green", "red", "nir"), start=1):
            dst.set_band_description(i, name)
    return path


def test_satellite_sheet_shows_true_and_false_colour_for_each_seed(tmp_path, capsys):
    pytest.importorskip("domaug_satellite")
    small_geotiff(tmp_path / "data")
    code, out, err = gallery(capsys, "satellite", tmp_path / "data", tmp_path / "out", "--seeds", "0", "1")
    assert code == 0, err
    n_cells, cols = expected_cells("satellite", head=2, seeds=2, views=2)
    assert cols == 4  # --seeds took both values
    rgb = check_sheet(tmp_path / "out" / "field.png", n_cells, cols, 60 / 40)
    true, false = cell_pixels(rgb, 0, cols, 1.5), cell_pixels(rgb, 1, cols, 1.5)
    assert not np.array_equal(true, false)
    # NIR-red-green: the vegetated (right) half is red, the soil half is not
    centre = false[false.shape[0] // 2]
    veg, soil = centre[int(centre.shape[0] * 0.75)].astype(int), centre[int(centre.shape[0] * 0.3)].astype(int)
    assert veg[0] > veg[1] + 60 and soil[0] < soil[1] + 60
    assert "--seeds 0 1" in (tmp_path / "out" / "gallery.md").read_text()


def test_medical_ct_slice_sheet(tmp_path, capsys):
    pytest.importorskip("domaug_medical")
    pydicom_data = pytest.importorskip("pydicom.data")
    (tmp_path / "data").mkdir()
    shutil.copy(pydicom_data.get_testdata_file("CT_small.dcm"), tmp_path / "data" / "CT_small.dcm")
    code, out, err = gallery(capsys, "medical", tmp_path / "data", tmp_path / "out", "--seeds", "0", "--max-side", "0")
    assert code == 0, err
    # the slice, then the medical plugin's two CT panels (lesion sites / rigid bone, LowDoseCT's noise map)
    n_cells, cols = expected_cells("medical", head=3, seeds=1, views=1)
    rgb = check_sheet(tmp_path / "out" / "CT_small.png", n_cells, cols, 1.0)
    assert all((cell_pixels(rgb, i, cols, 1.0) != BACKGROUND).any(axis=-1).mean() > 0.3 for i in range(3))
    text = (tmp_path / "out" / "gallery.md").read_text()
    assert "CT_small.png" in text


def test_unreadable_files_are_named_with_the_reason(tmp_path, capsys):
    data = tmp_path / "data"
    frame = small_frame(data)
    (data / "notes.txt").write_text("not an image")
    (data / "cut.png").write_bytes(frame.read_bytes()[:200])  # a PNG cut short
    code, out, err = gallery(capsys, "core", data, tmp_path / "out", "--seeds", "0")
    assert code == 0, err
    assert "not shown: notes.txt: not a supported image format" in err
    assert "not shown: cut.png:" in err
    index = (tmp_path / "out" / "gallery.md").read_text()
    assert "`notes.txt`" in index and "`cut.png`" in index
    assert (tmp_path / "out" / "road.png").is_file() and not (tmp_path / "out" / "cut.png").exists()


def test_nothing_readable_is_one_line_and_exit_2(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text("not an image")
    code, out, err = gallery(capsys, "core", data, tmp_path / "out")
    assert code == 2
    assert err.count("\n") == 1 and str(data) in err and "notes.txt" in err
    assert not (tmp_path / "out").exists()


def test_unknown_namespace_is_one_line_and_exit_2(tmp_path, capsys):
    small_frame(tmp_path / "data")
    code, out, err = gallery(capsys, "nosuch", tmp_path / "data", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "'nosuch'" in err


class _Panels:
    """A plugin with one working panel for ``core`` and one that raises."""

    @domaug.hookimpl
    def register_gallery_panels(self, register):
        register("core", lambda sample: [(np.full((8, 8, 3), 200, np.uint8), ["a grey panel"])])
        register("core", lambda sample: 1 / 0)
        register("core", "not callable")


def test_panel_hook_follows_the_plugin_failure_policy(tmp_path, capsys):
    from domaug import plugins
    from domaug.gallery import collect_panels, item_sheet

    plugins.pm.register(_Panels(), name="test-gallery-panels")
    try:
        with pytest.warns(UserWarning, match="bad item in register_gallery_panels"):
            panels = collect_panels()["core"]
        assert len(panels) == 2  # the non-callable one refused and reported
        sample = {"image": np.zeros((24, 32, 3), np.uint8)}
        sheet, problems = item_sheet("core", sample, "x.png", seeds=[0], panels=panels, cell=CELL)
        assert any("ZeroDivisionError" in p for p in problems)
        n_cells, cols = expected_cells("core", head=2, seeds=1, views=1)
        assert sheet.size == sheet_geometry(n_cells, CELL, cols, 32 / 24)[:2]
    finally:
        plugins.pm.unregister(name="test-gallery-panels")
        plugins.plugin_errors.pop("test-gallery-panels", None)
