"""Windowed GeoTIFF processing equals in-memory processing (no seams, same pixels)."""

from __future__ import annotations

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import Affine  # noqa: E402

import domaug  # noqa: E402
from domaug.formats import registry  # noqa: E402
from domaug_satellite.geotiff_windows import run_windowed  # noqa: E402


def _raster(path, h=300, w=260):
    from domaug.ops.fields import smooth_field

    data = np.stack([1500 + 800 * smooth_field((h, w), seed=b, correlation_px=9) for b in range(4)])
    data = np.clip(data, 1, None).astype(np.uint16)
    data[:, :, :7] = 0
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=4, dtype="uint16", nodata=0,
                       crs="EPSG:32633", transform=Affine(20, 0, 300000, 0, -20, 5000000)) as dst:
        dst.write(data)
        dst.descriptions = ("blue", "green", "red", "nir")
    return data


def test_windowed_equals_in_memory(tmp_path):
    src = tmp_path / "big.tif"
    _raster(src)
    fmt = registry.get_format("geotiff")
    sample = fmt.read([src])
    pipeline = domaug.Compose([
        domaug.get_transform("satellite.CloudCover", coverage=0.35, cloud_height_m=1500),
        domaug.get_transform("satellite.Haze"),
        domaug.get_transform("satellite.SensorNoise"),
        domaug.get_transform("satellite.Striping", dead_line_fraction=0.01),
        domaug.get_transform("satellite.Illumination"),
        domaug.get_transform("satellite.BandMisregistration", max_shift_px=1.5, max_rotation_deg=0.2),
    ])
    whole = pipeline(rng=11, **sample)
    out = tmp_path / "big.aug0.tif"
    run_windowed(None, src, out, applied=whole["applied"], tile=96)
    with rasterio.open(out) as dst:
        windowed = np.moveaxis(dst.read(), 0, -1)
        assert dst.profile["tiled"] and dst.nodata == 0 and dst.descriptions == ("blue", "green", "red", "nir")
    np.testing.assert_array_equal(windowed, whole["image"])
    for name in ("cloud_mask", "shadow_mask"):
        with rasterio.open(tmp_path / f"big.aug0.{name}.tif") as m:
            np.testing.assert_array_equal(m.read(1), whole[name])
            assert m.crs == dst.crs


def test_windowed_clouds_have_no_seams_on_their_own_draw(tmp_path):
    src = tmp_path / "big.tif"
    _raster(src, 256, 256)
    out = tmp_path / "big.aug0.tif"
    pipeline = domaug.Compose([domaug.get_transform("satellite.CloudCover", coverage=0.5)])
    applied = run_windowed(pipeline, src, out, seed=3, tile=64)
    assert applied[0]["name"] == "satellite.CloudCover"
    with rasterio.open(out) as dst:
        img = dst.read(1).astype(float)
    step = np.abs(np.diff(img[:, 8:], axis=1))
    seams = step[:, [64 - 9, 128 - 9, 192 - 9]].mean()  # columns across tile edges (offset by the crop)
    assert seams < 3 * step.mean()


def test_windows_carry_the_dataset_mask_and_match_a_raster_without_nodata_pixels(tmp_path):
    """nodata declared but every pixel valid: windows get an all-True ``valid`` (no re-derivation
    per transform) and still equal the in-memory run, which has no ``valid`` at all."""
    src = tmp_path / "full.tif"
    data = _raster(src, 200, 180)
    with rasterio.open(src, "r+") as dst:
        data[:, :, :7] = 1500
        dst.write(data)
    fmt = registry.get_format("geotiff")
    sample = fmt.read([src])
    assert "valid" not in sample
    source = fmt.open_windows([src])
    try:
        part = source.read_sample([0, 0, 64, 64])
        assert part["valid"].all() and part["valid"].shape == (64, 64)
    finally:
        source.close()
    pipeline = domaug.Compose([
        domaug.get_transform("satellite.CloudCover", coverage=0.4, cloud_height_m=1200),
        domaug.get_transform("satellite.Haze"),
        domaug.get_transform("satellite.SensorNoise"),
        domaug.get_transform("satellite.BandMisregistration", max_shift_px=1.5, max_rotation_deg=0.3),
    ])
    whole = pipeline(rng=5, **sample)
    out = tmp_path / "full.aug0.tif"
    run_windowed(None, src, out, applied=whole["applied"], tile=64)
    with rasterio.open(out) as dst:
        np.testing.assert_array_equal(np.moveaxis(dst.read(), 0, -1), whole["image"])


def test_windowed_source_caps_gdal_block_cache(tmp_path, monkeypatch):
    # GDAL's default block cache is 5 % of RAM: streaming a 20000² raster filled it (1.4 GB
    # peak RSS on a 24 GB machine); while a windowed source is open the cache is capped
    from rasterio.env import get_gdal_config

    from domaug_satellite.geotiff_windows import GDAL_CACHE_MB

    src = tmp_path / "big.tif"
    _raster(src, h=40, w=30)
    fmt = registry.get_format("geotiff")
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    before = get_gdal_config("GDAL_CACHEMAX")
    source = fmt.open_windows([src])
    try:
        assert int(get_gdal_config("GDAL_CACHEMAX")) == GDAL_CACHE_MB
    finally:
        source.close()
    assert get_gdal_config("GDAL_CACHEMAX") == before
    monkeypatch.setenv("GDAL_CACHEMAX", "300")  # the user's own setting wins
    source = fmt.open_windows([src])
    try:
        assert int(get_gdal_config("GDAL_CACHEMAX")) != GDAL_CACHE_MB
    finally:
        source.close()
