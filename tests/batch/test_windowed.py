"""Tile-by-tile processing (formats with open_windows) gives the same files as a whole-image run."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import domaug
from domaug.cli.main import cli
from domaug.registry import unregister_transform


class WindowRamp(domaug.PixelTransform):
    """Add a position-dependent ramp (tests window offsets); window-safe."""

    window_safe = True

    def __init__(self, p: float = 1.0) -> None:
        super().__init__(p=p)

    def make_params(self, rng, sample):
        return {"gain": float(rng.uniform(0.5, 2.0)), "full": list(sample["image"].shape[:2])}

    def apply_to_image(self, image, params, sample):
        row0, col0 = (sample.get("meta") or {}).get("window_offset") or (0, 0)
        h, w = image.shape[:2]
        rows = np.arange(h)[:, None] + row0
        cols = np.arange(w)[None, :] + col0
        ramp = params["gain"] * ((rows * 3 + cols) % 17)
        return image.astype(np.float64) + (ramp[..., None] if image.ndim == 3 else ramp)


@pytest.fixture
def ramp():
    domaug.register_transform(WindowRamp, name="user.WindowRamp")
    yield
    unregister_transform("user.WindowRamp")


def test_windowed_run_equals_whole_image_run(tmp_path, monkeypatch, ramp, helpers):
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    np.save(src / "big.npy", rng.integers(0, 200, (70, 53), dtype=np.uint16))
    np.save(src / "rgb.npy", rng.random((45, 61, 3)).astype(np.float32) * 100)
    pipe = tmp_path / "p.yaml"
    pipe.write_text("domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n"
                    "    - {name: user.WindowRamp}\n    - {name: user.WindowRamp, params: {p: 0.5}}\n")
    outs = {}
    for label, pixels in {"whole": "100000000", "tiled": "100"}.items():
        monkeypatch.setenv("DOMAUG_WINDOW_PIXELS", pixels)
        monkeypatch.setenv("DOMAUG_WINDOW_TILE", "16")
        out = tmp_path / label
        result = CliRunner().invoke(cli, ["run", str(pipe), str(src), str(out), "--seed", "3", "--variants", "2",
                                          "--executor", "serial", "-q"])
        assert result.exit_code == 0, result.output
        outs[label] = out
    whole, tiled = helpers.manifest_lines(outs["whole"]), helpers.manifest_lines(outs["tiled"])
    assert all(r.get("windowed") for r in tiled) and not any(r.get("windowed") for r in whole)
    for a, b in zip(whole, tiled):
        assert a["applied"] == b["applied"] and a["output_sha256"] == b["output_sha256"]
    assert helpers.output_files(outs["whole"]) == helpers.output_files(outs["tiled"])
    result = CliRunner().invoke(cli, ["replay", str(outs["tiled"] / "manifest.jsonl"), "-q"])
    assert result.exit_code == 0, result.output


def test_not_window_safe_pipeline_reads_whole(tmp_path, monkeypatch, helpers):
    src = tmp_path / "in"
    src.mkdir()
    np.save(src / "a.npy", np.zeros((40, 40), np.uint8))
    pipe = tmp_path / "p.yaml"
    pipe.write_text("domaug_format: 1\npipeline: {name: core.Flip}\n")
    monkeypatch.setenv("DOMAUG_WINDOW_PIXELS", "10")
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["run", str(pipe), str(src), str(out), "--executor", "serial"]).exit_code == 0
    assert not any(r.get("windowed") for r in helpers.manifest_lines(out))


def test_windowed_geotiff_keeps_emitted_label_maps(tmp_path, monkeypatch, helpers):
    """Targets a pipeline emits (cloud_mask, shadow_mask) are written tile by tile too, and
    equal the whole-image result of the recorded parameters."""
    rasterio = pytest.importorskip("rasterio")
    pytest.importorskip("domaug_satellite")
    from rasterio.transform import from_origin

    import domaug

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(1)
    data = rng.integers(200, 3000, (4, 96, 80), dtype=np.uint16)
    profile = {"driver": "GTiff", "height": 96, "width": 80, "count": 4, "dtype": "uint16", "crs": "EPSG:32633",
               "transform": from_origin(500000, 4200000, 10, 10)}
    with rasterio.open(src / "scene.tif", "w", **profile) as dst:
        dst.write(data)
    pipe = tmp_path / "p.yaml"
    pipe.write_text("domaug_format: 1\npipeline:\n  name: Compose\n  transforms:\n"
                    "    - {name: satellite.CloudCover, params: {coverage: 0.4, pixel_size_m: 10}}\n")
    monkeypatch.setenv("DOMAUG_WINDOW_PIXELS", "1000")
    monkeypatch.setenv("DOMAUG_WINDOW_TILE", "32")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(pipe), str(src), str(out), "--seed", "3", "--executor", "serial",
                                      "-q"])
    assert result.exit_code == 0, result.output
    (record,) = helpers.manifest_lines(out)
    assert record["windowed"] and record["status"] == "ok"
    names = sorted(record["files"])
    assert names == ["scene.aug0.cloud_mask.tif", "scene.aug0.shadow_mask.tif", "scene.aug0.tif"], names
    with rasterio.open(src / "scene.tif") as f:
        meta = {"transform": list(f.transform.to_gdal())}
    from domaug.formats.registry import get_format

    sample = get_format(record["format"]).read([src / "scene.tif"])
    whole = domaug.replay(record["applied"], **sample)
    for name in ("cloud_mask", "shadow_mask"):
        with rasterio.open(out / f"scene.aug0.{name}.tif") as f:
            tiled = f.read(1)
            assert f.crs is not None and f.transform == rasterio.Affine.from_gdal(*meta["transform"])
        np.testing.assert_array_equal(tiled, np.asarray(whole[name]).astype(np.uint8))
    assert (np.asarray(whole["cloud_mask"]) > 0).any()
    replayed = CliRunner().invoke(cli, ["replay", str(out / "manifest.jsonl")])
    assert replayed.exit_code == 0, replayed.output
