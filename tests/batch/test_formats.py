"""Core formats: round trips keep dtype/bands/bit depth, sidecars, broken files, bomb guard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from domaug.errors import FormatError
from domaug.formats import registry
from domaug.formats.sidecar import is_sidecar

PROV = {"pipeline_hash": "abc", "seed_key": [1, 0], "applied": [], "domaug_version": "0"}


def roundtrip(path: Path, tmp_path: Path) -> tuple[dict, dict, Path]:
    fmt = registry.choose(path)
    sample = fmt.read([path])
    dest = tmp_path / "out" / (".domaug-tmp-x." + fmt.output_names([path], 0)[0])
    dest.parent.mkdir(exist_ok=True)
    written = fmt.write(sample, [dest], sources=[path], provenance=PROV)
    assert all(p.name.startswith(".domaug-tmp-x.") for p in written)
    return sample, fmt.read([dest]), dest


@pytest.mark.parametrize("mode,shape,dtype", [
    ("L", (20, 30), np.uint8), ("RGB", (20, 30, 3), np.uint8), ("RGBA", (20, 30, 4), np.uint8),
    ("LA", (20, 30, 2), np.uint8), ("I;16", (20, 30), np.uint16), ("RGB16", (20, 30, 3), np.uint16),
    ("RGBA16", (20, 30, 4), np.uint16)])
def test_png_roundtrip_exact(tmp_path, mode, shape, dtype):
    from PIL import Image

    from domaug.formats import png16

    rng = np.random.default_rng(0)
    arr = rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)
    path = tmp_path / "x.png"
    if mode.endswith("16") and len(shape) == 3:
        png16.write16(path, arr, {})
    else:
        Image.fromarray(arr).save(path)
    sample, again, dest = roundtrip(path, tmp_path)
    assert sample["image"].dtype == dtype and sample["image"].shape == shape
    np.testing.assert_array_equal(sample["image"], arr)
    np.testing.assert_array_equal(again["image"], arr)
    assert sample["meta"]["bit_depth"] == (16 if dtype == np.uint16 else 8)
    if len(shape) == 3 and shape[2] >= 3:
        assert sample["meta"]["band_names"][:3] == ["red", "green", "blue"]


def test_png16_reader_handles_every_row_filter(tmp_path):
    """Pillow (libpng) writes adaptive filters for 16-bit gray; our decoder must match it."""
    import zlib

    from domaug.formats import png16

    rng = np.random.default_rng(1)
    arr = (np.cumsum(rng.integers(0, 300, size=(12, 9, 3)), axis=1) % 65536).astype(np.uint16)
    raw = arr.astype(">u2").view(np.uint8).reshape(12, -1)
    bpp, rows, prior = 6, [], np.zeros(raw.shape[1], np.int32)
    for y in range(12):  # encode each row with filter y % 5 (reference encoder)
        line, f = raw[y].astype(np.int32), y % 5
        left = np.concatenate([np.zeros(bpp, np.int32), line[:-bpp]])
        ul = np.concatenate([np.zeros(bpp, np.int32), prior[:-bpp]])
        if f == 0:
            enc = line
        elif f == 1:
            enc = line - left
        elif f == 2:
            enc = line - prior
        elif f == 3:
            enc = line - (left + prior) // 2
        else:
            p = left + prior - ul
            pa, pb, pc = abs(p - left), abs(p - prior), abs(p - ul)
            enc = line - np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prior, ul))
        rows.append(bytes([f]) + (enc & 0xFF).astype(np.uint8).tobytes())
        prior = line
    import struct

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = png16.SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 9, 12, 16, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    (tmp_path / "f.png").write_bytes(data)
    image, _ = png16.read16(tmp_path / "f.png", data)
    np.testing.assert_array_equal(image, arr)


def test_jpeg_keeps_subsampling_and_comment(tmp_path):
    from PIL import Image, JpegImagePlugin
    from skimage import data

    path = tmp_path / "x.jpg"
    Image.fromarray(data.astronaut()[::4, ::4]).save(path, quality=90, subsampling=0)
    sample, again, dest = roundtrip(path, tmp_path)
    with Image.open(dest) as im:
        assert JpegImagePlugin.get_sampling(im) == 0
        assert b"pipeline_hash" in im.info.get("comment", b"")
    assert np.abs(again["image"].astype(int) - sample["image"]).mean() < 2.0


@pytest.mark.parametrize("dtype,bands", [(np.uint8, 3), (np.uint16, 1), (np.int16, 1), (np.float32, 7),
                                          (np.float64, 2), (np.uint16, 4)])
def test_tiff_roundtrip_any_bands(tmp_path, dtype, bands):
    import tifffile

    rng = np.random.default_rng(2)
    shape = (16, 24) if bands == 1 else (16, 24, bands)
    arr = (rng.random(shape) * 1000).astype(dtype)
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, arr, photometric="rgb" if bands == 3 else "minisblack", compression="zlib")
    sample, again, dest = roundtrip(path, tmp_path)
    assert again["image"].dtype == dtype and again["image"].shape == shape
    np.testing.assert_array_equal(again["image"], arr)
    with tifffile.TiffFile(dest) as tif:
        assert "pipeline_hash" in tif.pages[0].description
        assert tif.pages[0].compression.name in ("ADOBE_DEFLATE", "DEFLATE")


def test_tiff_lzw_via_pillow_fallback(tmp_path):
    from PIL import Image

    arr = np.random.default_rng(3).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "x.tif", compression="tiff_lzw")
    sample, again, dest = roundtrip(tmp_path / "x.tif", tmp_path)
    np.testing.assert_array_equal(again["image"], arr)
    assert again["meta"]["tiff_compression"] == "LZW"


def test_npy_and_npz(tmp_path):
    arr = np.random.default_rng(4).random((10, 12, 3)).astype(np.float32)
    np.save(tmp_path / "a.npy", arr)
    sample, again, _ = roundtrip(tmp_path / "a.npy", tmp_path)
    np.testing.assert_array_equal(again["image"], arr)
    mask = np.zeros((10, 12), np.int32)
    mask[2:5] = 4
    np.savez_compressed(tmp_path / "b.npz", image=arr, mask=mask, meta=np.asarray(json.dumps({"spacing": [1, 2]})))
    sample, again, dest = roundtrip(tmp_path / "b.npz", tmp_path)
    np.testing.assert_array_equal(again["mask"], mask)
    assert again["meta"]["spacing"] == [1, 2] and again["meta"]["npz_compressed"] is True
    first = dest.read_bytes()
    registry.choose(tmp_path / "b.npz").write(sample, [dest], sources=[tmp_path / "b.npz"], provenance=PROV)
    assert dest.read_bytes() == first  # byte-stable (no zip timestamps)


def test_sidecars_read_and_written(tmp_path):
    from PIL import Image

    img = np.zeros((20, 30, 3), np.uint8)
    Image.fromarray(img).save(tmp_path / "p.png")
    mask = np.zeros((20, 30), np.uint8)
    mask[5:9, 3:8] = 7
    Image.fromarray(mask).save(tmp_path / "p.mask.png")
    Image.fromarray(mask // 7).save(tmp_path / "p.lesion_mask.png")
    (tmp_path / "p.boxes.json").write_text("[[1, 2, 10, 12, 3]]")
    sample, again, dest = roundtrip(tmp_path / "p.png", tmp_path)
    np.testing.assert_array_equal(sample["mask"], mask)
    assert sample["lesion_mask"].max() == 1 and sample["bboxes"].tolist() == [[1, 2, 10, 12, 3]]
    np.testing.assert_array_equal(again["mask"], mask)
    assert again["bboxes"].tolist() == [[1, 2, 10, 12, 3]]
    assert (dest.parent / ".domaug-tmp-x.p.aug0.mask.png").exists()
    assert is_sidecar("p.mask.png") and is_sidecar("p.lesion_mask.tif") and is_sidecar("p.boxes.json")
    assert not is_sidecar("p.png") and not is_sidecar("mask.png")


def test_mask_sidecar_of_wrong_shape_names_the_sidecar(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(np.zeros((10, 30), np.uint8)).save(tmp_path / "p.mask.png")
    with pytest.raises(FormatError, match="p.mask.png"):
        registry.read([tmp_path / "p.png"])


@pytest.mark.parametrize("name,content,reason", [
    ("zero.png", b"", "empty file"), ("text.png", b"hello, not an image", "not a PNG file"),
    ("zero.jpg", b"", "empty file"), ("text.tif", b"plain text", "not a TIFF file"),
    ("bad.npy", b"\x93NUMPY garbage", "corrupt"), ("text.npz", b"PK\x03\x04junk", "corrupt")])
def test_broken_files_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        registry.read([path])
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_truncated_png_and_jpeg(tmp_path):
    from PIL import Image
    from skimage import data

    img = data.astronaut()[::4, ::4]
    for name in ("x.png", "x.jpg"):
        Image.fromarray(img).save(tmp_path / name)
        raw = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(raw[: len(raw) // 2])
        with pytest.raises(FormatError, match="truncated"):
            registry.read([tmp_path / name])


def test_decompression_bomb_guard(tmp_path, monkeypatch):
    from PIL import Image

    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setenv("DOMAUG_MAX_PIXELS", "5000")
    with pytest.raises(FormatError, match="decompression-bomb limit of 5000"):
        registry.read([tmp_path / "big.png"])


def test_choice_by_content_before_extension(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "really_png.jpg", format="PNG")
    assert registry.choose(tmp_path / "really_png.jpg").name == "png"
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(FormatError, match="not a supported image format"):
        registry.choose(tmp_path / "notes.txt")


def test_priority_breaks_sniff_ties(tmp_path):
    """A format with a higher priority (GeoTIFF) wins over plain TIFF for the same bytes."""
    import tifffile

    from domaug.formats.base import Format

    class FancyTIFF(Format):
        name = "fancy-tiff-test"
        priority = 10

        def sniff(self, path, head):
            return head[:4] == b"II*\x00"

    tifffile.imwrite(tmp_path / "x.tif", np.zeros((4, 4), np.uint8))
    assert registry.choose(tmp_path / "x.tif").name == "tiff"
    registry.formats()
    registry._add("test", "test", FancyTIFF())
    try:
        assert registry.choose(tmp_path / "x.tif").name == "fancy-tiff-test"
    finally:
        registry._formats[:] = [f for f in registry._formats if f.name != "fancy-tiff-test"]
        registry._owners.pop("fancy-tiff-test", None)


def test_boxes_sidecar_outside_the_image_is_clipped_and_empty_boxes_dropped(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((12, 16), np.uint8)).save(tmp_path / "img.png")
    (tmp_path / "img.boxes.json").write_text(
        "[[-50, -40, 500, 300, 1], [30, 30, 90, 90, 2], [3, 2, 8, 6, 3], [10, -9, 14, 0, 4]]")
    sample = registry.read([tmp_path / "img.png"])
    assert sample["bboxes"].tolist() == [[0, 0, 16, 12, 1], [3, 2, 8, 6, 3]]
