"""GeoTIFF format: sniffing, metadata, alpha/nodata handling, round trips through `domaug run`."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
from click.testing import CliRunner  # noqa: E402
from rasterio.enums import ColorInterp  # noqa: E402
from rasterio.transform import Affine  # noqa: E402

import domaug  # noqa: E402
from domaug.cli.main import cli  # noqa: E402
from domaug.formats import registry  # noqa: E402

PROV = {"pipeline_hash": "h123", "seed_key": "s1", "domaug_version": "0.1.0", "applied": []}
SAT = "satellite"


def geotiff():
    return registry.get_format("geotiff")


def _open(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        return rasterio.open(path)


def _run(tmp_path: Path, files: list[Path], pipeline: str, seed: int = 5) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for f in files:
        shutil.copy(f, src / f.name)  # a temporary copy, outside the repository
    pipe = tmp_path / "pipe.yaml"
    pipe.write_text(pipeline)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(pipe), str(src), str(out), "--seed", str(seed), "-q",
                                      "--executor", "serial"])
    assert result.exit_code == 0, result.output
    return out


CLOUDS = """\
domaug_format: 1
pipeline:
  name: Compose
  transforms:
    - {name: satellite.CloudCover, params: {coverage: 0.3, preset: stratocumulus}}
    - {name: satellite.Haze}
    - {name: satellite.SensorNoise}
"""
#: band centres (nm) of the files that do not name their bands (Haze refuses to guess)
WAVELENGTHS = {"scg_s2_12band_clean.tif": [443, 490, 560, 665, 705, 740, 783, 842, 865, 945, 1610, 2190],
               "sentinel2_l1c/s2_B8A.tif": [865], "landsat8_l1_cloudy/l8_B5.tif": [865]}


def test_sniff_prefers_geotiff_and_leaves_plain_tiffs_to_the_core(shared_data, tmp_path):
    import tifffile

    assert registry.sniff(shared_data / SAT / "RGB.byte.tif").name == "geotiff"
    assert registry.sniff(shared_data / SAT / "sentinel2_l1c" / "s2_B05.tif").name == "geotiff"
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((8, 8, 3), np.uint8))
    assert registry.sniff(plain).name == "tiff"


def test_read_metadata_rgba_band_order_and_alpha(shared_data):
    s = geotiff().read([shared_data / SAT / "RGBA.uint16.tif"])
    m = s["meta"]
    assert s["image"].shape == (411, 634, 3) and s["image"].dtype == np.uint16
    assert m["band_names"] == ["blue", "green", "red"]
    assert m["geotiff_colorinterp"] == ["blue", "green", "red", "alpha"]
    assert s["valid"].dtype == bool and (s["valid"] == (s["alpha_mask"] > 0)).all()
    assert "EPSG" in m["crs"] or "PROJCS" in m["crs"] or "PROJCRS" in m["crs"]


def test_read_nodata_valid_and_12_band_reflectance(shared_data):
    s = geotiff().read([shared_data / SAT / "RGB.byte.tif"])
    assert s["meta"]["nodata"] == 0 and not s["valid"].all()
    assert (s["image"][~s["valid"]] == 0).all()
    s2 = geotiff().read([shared_data / SAT / "scg_s2_12band_clean.tif"])
    assert s2["image"].shape == (256, 256, 12) and s2["image"].dtype == np.float32


@pytest.mark.parametrize("name", ["RGB.byte.tif", "RGBA.uint16.tif", "scg_s2_12band_clean.tif",
                                  "sentinel2_l1c/s2_B8A.tif", "landsat8_l1_cloudy/l8_B5.tif"])
def test_round_trip_through_domaug_run(shared_data, tmp_path, name):
    source = shared_data / SAT / name
    wl = WAVELENGTHS.get(name)
    pipeline = CLOUDS.replace("{name: satellite.Haze}", f"{{name: satellite.Haze, params: {{wavelengths_nm: {wl}}}}}") \
        if wl else CLOUDS
    out = _run(tmp_path, [source], pipeline)
    written = out / (source.stem + ".aug0.tif")
    assert (out / (source.stem + ".aug0.cloud_mask.tif")).exists()
    with _open(source) as a, _open(written) as b:
        assert b.crs == a.crs and b.bounds == a.bounds and b.transform == a.transform
        assert b.nodata == a.nodata and b.dtypes == a.dtypes and b.count == a.count
        assert b.colorinterp == a.colorinterp and b.descriptions == a.descriptions
        assert b.tags()["DOMAUG_SEED"] and b.tags()["DOMAUG_PIPELINE"]
        assert not any(k.startswith("STATISTICS_") for i in range(1, b.count + 1) for k in b.tags(i))
        before, after = a.read(), b.read()
        assert not np.array_equal(before, after)
        valid = a.dataset_mask() > 0
        np.testing.assert_array_equal(after[:, ~valid], before[:, ~valid])  # invalid pixels bit-exact
        if a.nodata is not None:
            pix = after[:, valid]
            assert not (pix == a.nodata).all(axis=0).any(), "a valid pixel became nodata"
        alpha = [i for i, c in enumerate(a.colorinterp) if c == ColorInterp.alpha]
        for i in alpha:
            np.testing.assert_array_equal(after[i], before[i])  # alpha never augmented
    with _open(out / (source.stem + ".aug0.cloud_mask.tif")) as m, _open(source) as a:
        assert m.crs == a.crs and m.transform == a.transform
        valid = a.dataset_mask() > 0
        labels = m.read(1)
        assert set(np.unique(labels)) <= {0, 1, 2} and not labels[~valid].any()  # masks are 0 on nodata
        assert 0.05 < (labels[valid] > 0).mean() < 0.7  # coverage 0.3 is of the whole raster


def test_resolution_change_written_with_new_grid(shared_data, tmp_path):
    source = shared_data / SAT / "RGB.byte.tif"
    out = _run(tmp_path, [source], "domaug_format: 1\npipeline: {name: satellite.ResolutionChange, "
                                   "params: {factor: 2}}\n")
    with _open(source) as a, _open(out / "RGB.byte.aug0.tif") as b:
        assert b.crs == a.crs and b.width == a.width // 2 and b.height == a.height // 2
        assert b.res[0] == pytest.approx(2 * a.res[0]) and b.res[1] == pytest.approx(2 * a.res[1])
        for x, y in zip(a.bounds, b.bounds):
            assert abs(x - y) <= b.res[0]
        assert b.colorinterp == a.colorinterp and b.nodata == a.nodata


def test_rgbn_uint8_does_not_come_back_as_rgba(tmp_path):
    path = tmp_path / "rgbn.tif"
    profile = dict(driver="GTiff", height=32, width=40, count=4, dtype="uint8", crs="EPSG:32633",
                   transform=Affine(5, 0, 500000, 0, -5, 4200000), photometric="RGB", alpha="UNSPECIFIED")
    with rasterio.open(path, "w", **profile) as dst:
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined]
        dst.write(np.random.default_rng(0).integers(1, 255, (4, 32, 40), dtype=np.uint8))
        dst.set_band_description(4, "NIR")
        dst.update_tags(1, STATISTICS_MEAN="12.5", KEEP="yes")
    s = geotiff().read([path])
    assert s["meta"]["band_names"] == ["red", "green", "blue", "nir"] and "valid" not in s
    out = tmp_path / "rgbn.aug0.tif"
    geotiff().write(s, [out], sources=[path], provenance=PROV)
    with rasterio.open(out) as b:
        assert b.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined)
        assert b.descriptions[3] == "NIR" and b.tags(1) == {"KEEP": "yes"}
        assert b.tags()["DOMAUG_PIPELINE"] == "h123"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rgbn.aug0.tif", "rgbn.tif"]  # no .aux.xml


def test_plain_multiband_tiff_reads_without_warnings_and_round_trips(tmp_path, shared_data):
    path = shared_data / "agriculture" / "micasense_rededge" / "IMG_0001_3.tif"
    if not path.exists():
        pytest.skip("MicaSense sample absent")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = geotiff().read([path])
        assert s["meta"]["transform"] is None and s["meta"]["crs"] is None
        out = tmp_path / "x.aug0.tif"
        geotiff().write(s, [out], sources=[path], provenance=PROV)
        again = geotiff().read([out])
    np.testing.assert_array_equal(again["image"], s["image"])


def test_internal_mask_becomes_valid_and_is_written_back(tmp_path):
    path = tmp_path / "masked.tif"
    with rasterio.open(path, "w", driver="GTiff", height=16, width=16, count=2, dtype="uint16",
                       crs="EPSG:32633", transform=Affine(10, 0, 0, 0, -10, 0)) as dst:
        dst.write(np.full((2, 16, 16), 700, np.uint16))
        m = np.full((16, 16), 255, np.uint8)
        m[:, :4] = 0
        dst.write_mask(m)
    s = geotiff().read([path])
    assert s["valid"][:, 4:].all() and not s["valid"][:, :4].any()
    out = tmp_path / "masked.aug0.tif"
    geotiff().write(s, [out], sources=[path], provenance=PROV)
    with rasterio.open(out) as b:
        np.testing.assert_array_equal(b.dataset_mask() > 0, s["valid"])


def test_gdalinfo_reads_the_output(shared_data, tmp_path):
    gdalinfo = shutil.which("gdalinfo")
    if gdalinfo is None:
        pytest.skip("gdalinfo (Debian gdal-bin) not installed")
    s = geotiff().read([shared_data / SAT / "RGBA.uint16.tif"])
    out = tmp_path / "o.aug0.tif"
    geotiff().write(s, [out], sources=[shared_data / SAT / "RGBA.uint16.tif"], provenance=PROV)
    result = subprocess.run([gdalinfo, str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "ColorInterp=Alpha" in result.stdout and "DOMAUG_PIPELINE=h123" in result.stdout


def test_cog_output_on_request(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("DOMAUG_GEOTIFF_COG", "1")
    source = shared_data / SAT / "RGB.byte.tif"
    s = geotiff().read([source])
    out = tmp_path / "c.aug0.tif"
    written = geotiff().write(s, [out], sources=[source], provenance=PROV)
    assert written == [out] and sorted(p.name for p in tmp_path.iterdir()) == ["c.aug0.tif"]
    with rasterio.open(out) as b, rasterio.open(source) as a:
        assert b.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG" and b.overviews(1)
        assert b.colorinterp == a.colorinterp and b.crs == a.crs and b.transform == a.transform
        assert b.tags()["DOMAUG_PIPELINE"] == "h123"
        np.testing.assert_array_equal(b.read(), a.read())


def test_truncated_and_empty_files_give_one_line_errors(shared_data, tmp_path):
    import domaug

    data = (shared_data / SAT / "RGB.byte.tif").read_bytes()
    broken = tmp_path / "broken.tif"
    broken.write_bytes(data[: len(data) // 3])
    with pytest.raises(domaug.FormatError, match="broken.tif"):
        geotiff().read([broken])
    front = tmp_path / "front.tif"  # GDAL puts the IFD first: it opens, then the pixels fail
    with rasterio.open(front, "w", driver="GTiff", height=128, width=128, count=2, dtype="uint16",
                       crs="EPSG:32633", transform=Affine(10, 0, 0, 0, -10, 0)) as dst:
        dst.write(np.random.default_rng(0).integers(0, 60000, (2, 128, 128), dtype=np.uint16))
    cut = tmp_path / "cut.tif"
    cut.write_bytes(front.read_bytes()[: front.stat().st_size // 2])
    with pytest.raises(domaug.FormatError, match="cut.tif: truncated or corrupt GeoTIFF"):
        geotiff().read([cut])
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(domaug.FormatError, match="empty"):
        geotiff().read([empty])


def test_overviews_are_rebuilt(tmp_path):
    from rasterio.enums import Resampling

    path = tmp_path / "ov.tif"
    with rasterio.open(path, "w", driver="GTiff", height=64, width=64, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=Affine(10, 0, 0, 0, -10, 0)) as dst:
        dst.write(np.full((1, 64, 64), 900, np.uint16))
        dst.build_overviews([2, 4], Resampling.average)
    s = geotiff().read([path])
    assert s["meta"]["geotiff_overviews"] == [2, 4]
    s["image"] = np.full((64, 64), 1800, np.uint16)
    out = tmp_path / "ov.aug0.tif"
    geotiff().write(s, [out], sources=[path], provenance=PROV)
    with rasterio.open(out) as b:
        assert b.overviews(1) == [2, 4]
        assert (b.read(1, out_shape=(16, 16)) == 1800).all()


def test_landsat_band_files_form_one_item_with_mtl_sun_angles(shared_data, tmp_path):
    folder = shared_data / SAT / "landsat8_l1_cloudy"
    files = sorted(folder.glob("*.tif"))
    items = geotiff().group(files)
    stack = [i for i in items if len(i) > 1]
    # B9 (1.37 µm cirrus, added to shared data later) lies on the same grid: it joins the stack
    assert [p.name for p in stack[0]] == ["l8_B2.tif", "l8_B3.tif", "l8_B4.tif", "l8_B5.tif", "l8_B9.tif"]
    assert [i[0].name for i in items if len(i) == 1] == ["l8_BQA.tif"]
    s = geotiff().read(stack[0])
    m = s["meta"]
    assert s["image"].shape == (603, 627, 5) and m["band_names"] == ["blue", "green", "red", "nir", "cirrus"]
    assert m["sun_azimuth_deg"] == pytest.approx(115.87210674) and m["sun_elevation_deg"] == pytest.approx(64.74360932)
    assert m["reflectance_gain"] == [2e-5] * 5 and m["reflectance_offset"] == [-0.1] * 5
    # through `domaug run`: one cloud field over all four band files, each written back alone
    src = tmp_path / "in"
    src.mkdir()
    for f in files + [folder / "l8_MTL.txt"]:
        shutil.copy(f, src / f.name)
    (tmp_path / "p.yaml").write_text(CLOUDS)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.yaml"), str(src), str(out), "--seed", "2", "-q",
                                      "--executor", "serial", "--include", "*_B[2-5].tif"])
    assert result.exit_code == 0, result.output
    clouds = rasterio.open(out / "l8_B2.aug0.cloud_mask.tif").read(1) > 0
    diffs = []
    for b in (2, 3, 4, 5):
        with _open(folder / f"l8_B{b}.tif") as a, _open(out / f"l8_B{b}.aug0.tif") as w:
            assert w.count == 1 and w.crs == a.crs and w.transform == a.transform and w.dtypes == a.dtypes
            diffs.append(w.read(1).astype(float) - a.read(1).astype(float))
            assert np.corrcoef(diffs[-1].ravel(), clouds.ravel())[0, 1] > 0.3
    for d in diffs[1:]:  # the same clouds in every band
        assert np.corrcoef(d.ravel(), diffs[0].ravel())[0, 1] > 0.6


def test_sentinel2_bands_on_different_grids_stay_separate(shared_data):
    files = sorted((shared_data / SAT / "sentinel2_l1c").glob("*.tif"))
    items = geotiff().group(files)
    assert sorted(len(i) for i in items) == [1, 2]
    pair = [i for i in items if len(i) == 2][0]
    s = geotiff().read(pair)
    assert s["meta"]["band_names"] == ["rededge1", "nir08"] and s["image"].shape[-1] == 2


def test_nan_and_inf_pixels_without_nodata_are_invalid_and_written_back_bit_exact(tmp_path):
    path = tmp_path / "naninf.tif"
    arr = np.random.default_rng(3).uniform(0.0, 0.5, (3, 12, 14)).astype(np.float32)
    arr[0, 0, 0], arr[1, 2, 3], arr[2, 5, 6] = np.nan, np.inf, -np.inf
    with rasterio.open(path, "w", driver="GTiff", height=12, width=14, count=3, dtype="float32",
                       crs="EPSG:32633", transform=Affine(10, 0, 0, 0, -10, 0)) as dst:
        dst.write(arr)
    s = geotiff().read([path])
    assert s["meta"]["nodata"] is None
    expected = np.isfinite(arr).all(axis=0)
    np.testing.assert_array_equal(s["valid"], expected)
    out = domaug.get_transform("core.GaussianBlur")(**s, rng=1)  # mixes neighbours
    assert np.isfinite(out["image"][out["valid"]]).all()
    dest = tmp_path / "naninf.aug0.tif"
    geotiff().write({k: v for k, v in out.items() if k != "applied"}, [dest], sources=[path], provenance=PROV)
    with rasterio.open(dest) as b:
        back = b.read()
        # the non-finite pixels mark themselves: no mask is added to a file that had none
        assert b.dataset_mask().all()
    bad = ~expected
    np.testing.assert_array_equal(np.moveaxis(back, 0, -1)[bad].view(np.uint32),
                                  np.moveaxis(arr, 0, -1)[bad].view(np.uint32))
    np.testing.assert_array_equal(geotiff().read([dest])["valid"], expected)
