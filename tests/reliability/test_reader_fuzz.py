"""Fuzzing the file readers: every broken file is a one-line ``FormatError`` naming it.

A corpus of small valid files is generated in a temporary folder (no checked-in binaries):
PNG 8/16-bit, JPEG, plain multi-band TIFF, .npy/.npz, DICOM (pydicom's bundled
``CT_small.dcm``/``MR_small.dcm``) and GeoTIFF (rasterio). Then zero-byte files,
truncations, text files with image extensions, DICOM without or with short pixel data,
GeoTIFF full of NaN/inf or nodata, 1×1/1×N and 200-band rasters, images above the
decompression-bomb limit (``DOMAUG_MAX_PIXELS``) and hypothesis byte mutations are read
through :mod:`domaug.formats.registry`. Each read gives a valid sample or a
:class:`domaug.FormatError` whose message is one line and names the file; anything else
escaping, or a read taking longer than a few seconds, is a bug.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domaug
from domaug.formats import registry
from domaug.targets import validate_sample

import sys

sys.path.insert(0, str(Path(__file__).parent))
from _reader_corpus import (  # noqa: E402
    FUZZ_EXAMPLES, KNOWN_BUGS, _gradient, read_or_format_error, valid_corpus, write_geotiff, write_jpeg,
    write_png, write_tiff,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return valid_corpus(tmp_path_factory.mktemp("valid"))


def test_valid_corpus_reads(corpus):
    for name, path in corpus.items():
        sample = registry.read([path])
        validate_sample(sample)
        assert sample["image"].size > 0, name
    geo = registry.read([corpus["geotiff-4band"]])
    assert geo["image"].shape[-1] == 4 and geo["meta"].get("crs")
    assert registry.read([corpus["png16-gray"]])["image"].dtype == np.uint16


# -- hand-made broken files --------------------------------------------------------------
EXTENSIONS = (".png", ".jpg", ".tif", ".tiff", ".npy", ".npz", ".dcm")


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_zero_byte_file(tmp_path, ext):
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    assert read_or_format_error(path) == "error"


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_text_file_with_an_image_extension(tmp_path, ext):
    path = tmp_path / f"notes{ext}"
    path.write_text("this is not an image\nsecond line\n" * 20)
    assert read_or_format_error(path) == "error"


@pytest.mark.parametrize("offset", [1, 8, 33, 100, 0.5, -16, -1])
def test_truncated_files(corpus, tmp_path, offset):
    for name, path in corpus.items():
        data = path.read_bytes()
        cut = int(len(data) * offset) if isinstance(offset, float) else offset
        bad = tmp_path / f"cut{cut}_{path.name}"
        bad.write_bytes(data[:cut])
        read_or_format_error(bad)


def _dicom(name: str):
    import pydicom
    from pydicom.data import get_testdata_file

    return pydicom.dcmread(get_testdata_file(name, download=False))


def test_dicom_without_pixel_data(tmp_path):
    ds = _dicom("CT_small.dcm")
    del ds.PixelData
    path = tmp_path / "nopixels.dcm"
    ds.save_as(path)
    assert read_or_format_error(path) == "error"


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.999, 1.5])
def test_dicom_with_inconsistent_pixel_data_length(tmp_path, fraction):
    ds = _dicom("MR_small.dcm")
    raw = ds.PixelData
    new = (raw * 2)[: int(len(raw) * fraction)]
    ds.PixelData = new + (b"\0" if len(new) % 2 else b"")
    path = tmp_path / f"badlen{fraction}.dcm"
    ds.save_as(path)
    read_or_format_error(path)  # pydicom may accept a too-long buffer; never a crash
    if fraction < 1:
        assert read_or_format_error(path) == "error"


def test_dicom_unsupported_transfer_syntax_without_codec(tmp_path):
    """JPEG 2000 (encapsulated) pixel data without a codec: a FormatError naming what to install."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless

    ds = _dicom("CT_small.dcm")
    ds.PixelData = encapsulate([bytes(ds.PixelData[:1000])])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    path = tmp_path / "j2k.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert read_or_format_error(path) == "error"


def test_geotiff_with_nan_and_inf(tmp_path):
    arr = _gradient(8, 9, 3, np.float32, 1.0)
    arr[0, 0, 0] = np.nan
    arr[1, 1, 1] = np.inf
    arr[2, 2, 2] = -np.inf
    path = write_geotiff(tmp_path / "naninf.tif", arr)
    if read_or_format_error(path) == "ok":
        sample = registry.read([path])
        image = sample["image"]
        # non-finite pixels must not reach transforms as valid data
        valid = sample.get("valid")
        bad = ~np.isfinite(image)
        if valid is not None:
            bad = bad & (valid[..., None] if image.ndim == valid.ndim + 1 else valid)
        assert not bad.any(), "non-finite GeoTIFF pixels are read as valid data"


def test_geotiff_nodata_everywhere(tmp_path):
    arr = np.zeros((6, 7, 2), np.uint16)
    path = write_geotiff(tmp_path / "allnodata.tif", arr, nodata=0)
    read_or_format_error(path)


def test_geotiff_nan_nodata_everywhere(tmp_path):
    arr = np.full((6, 7, 1), np.nan, np.float32)
    path = write_geotiff(tmp_path / "allnan.tif", arr, nodata=float("nan"))
    read_or_format_error(path)


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1)])
def test_tiny_images(tmp_path, shape):
    h, w = shape
    paths = [
        write_png(tmp_path / f"t{h}x{w}.png", _gradient(h, w)),
        write_png(tmp_path / f"t{h}x{w}_16.png", _gradient(h, w, dtype=np.uint16, hi=65535)),
        write_jpeg(tmp_path / f"t{h}x{w}.jpg", _gradient(h, w, 3)),
        write_tiff(tmp_path / f"t{h}x{w}.tiff", _gradient(h, w, 3)),
        write_geotiff(tmp_path / f"t{h}x{w}_geo.tif", _gradient(h, w, 2, np.uint16, 999)),
    ]
    np.save(tmp_path / f"t{h}x{w}.npy", _gradient(h, w))
    paths.append(tmp_path / f"t{h}x{w}.npy")
    for path in paths:
        assert read_or_format_error(path) == "ok", path.name
        assert registry.read([path])["image"].shape[:2] == shape, path.name


def test_200_band_rasters(tmp_path):
    geo = write_geotiff(tmp_path / "hyper.tif", _gradient(5, 6, 200, np.uint16, 4000))
    plain = write_tiff(tmp_path / "hyper_plain.tiff", _gradient(5, 6, 200, np.uint16, 4000), planarconfig="contig")
    np.save(tmp_path / "hyper.npy", _gradient(5, 6, 200, np.uint16, 4000))
    for path in (geo, plain, tmp_path / "hyper.npy"):
        if read_or_format_error(path) == "ok":
            assert registry.read([path])["image"].shape == (5, 6, 200), path.name


def test_zero_band_npy(tmp_path):
    np.save(tmp_path / "zero.npy", np.zeros((4, 5, 0), np.uint8))
    assert read_or_format_error(tmp_path / "zero.npy") == "error"


def test_decompression_bomb_guard(corpus, tmp_path, monkeypatch):
    """Every format refuses an image above DOMAUG_MAX_PIXELS before decoding it."""
    big = tmp_path / "big"
    big_corpus = {
        "png": write_png(tmp_path / "big.png", _gradient(40, 40)),
        "png16": write_png(tmp_path / "big16.png", _gradient(40, 40, dtype=np.uint16, hi=65535)),
        "jpeg": write_jpeg(tmp_path / "big.jpg", _gradient(40, 40, 3)),
        "tiff": write_tiff(tmp_path / "big.tiff", _gradient(40, 40, 3)),
        "geotiff": write_geotiff(tmp_path / "big_geo.tif", _gradient(40, 40, 1, np.uint16, 99)),
        "dicom": corpus["dicom-ct"],  # 128×128
    }
    np.save(tmp_path / "big.npy", _gradient(40, 40))
    big_corpus["npy"] = tmp_path / "big.npy"
    monkeypatch.setenv("DOMAUG_MAX_PIXELS", "1000")
    for name, path in big_corpus.items():
        try:
            registry.read([path])
        except domaug.FormatError as exc:
            assert path.name in str(exc) and "DOMAUG_MAX_PIXELS" in str(exc), f"{name}: {exc}"
        else:
            pytest.fail(f"{name}: {path.name} (≥1600 px) was read although DOMAUG_MAX_PIXELS=1000")
    monkeypatch.setenv("DOMAUG_MAX_PIXELS", str(10**7))  # the override lets it through
    for path in big_corpus.values():
        assert read_or_format_error(path) == "ok"
    del big


# -- hypothesis byte mutations of every valid file -----------------------------------------
_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="domaug-fuzz-"))
_FUZZ_CORPUS = valid_corpus(_FUZZ_DIR / "valid")


@st.composite
def mutations(draw, size: int):
    """A list of edits: overwrite bytes, insert, delete, truncate or append junk."""
    edits = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "byte", "insert", "delete", "truncate", "append"]))
        pos = draw(st.one_of(st.integers(0, min(size, 1024)), st.integers(0, size)))
        edits.append((kind, pos, draw(st.binary(min_size=1, max_size=16))))
    return edits


def mutate(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for kind, pos, junk in edits:
        pos = min(pos, len(buf))
        if kind == "flip" and pos < len(buf):
            buf[pos] ^= 1 << (junk[0] % 8)
        elif kind == "byte":
            buf[pos:pos + len(junk)] = junk
        elif kind == "insert":
            buf[pos:pos] = junk
        elif kind == "delete":
            del buf[pos:pos + len(junk)]
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "append":
            buf += junk
    return bytes(buf)


def _case(name):
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_BUGS[name], strict=False))
    return name


@pytest.mark.parametrize("name", [_case(n) for n in sorted(_FUZZ_CORPUS)])
def test_byte_mutations(name):
    source = _FUZZ_CORPUS[name]
    data = source.read_bytes()
    folder = _FUZZ_DIR / name
    folder.mkdir(exist_ok=True)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(edits=mutations(len(data)))
    def fuzz(edits):
        path = folder / source.name
        path.write_bytes(mutate(data, edits))
        read_or_format_error(path)

    fuzz()


def teardown_module(module):
    shutil.rmtree(_FUZZ_DIR, ignore_errors=True)
