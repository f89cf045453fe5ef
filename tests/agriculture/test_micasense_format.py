"""The MicaSense capture format: the five band files of a capture read as one 5-band item, and written back."""
from pathlib import Path

import numpy as np
import pytest

from domaug.formats import registry

BANDS = ["blue", "green", "red", "nir", "rededge"]


def _capture_dir(shared_data) -> Path:
    folder = shared_data / "agriculture" / "micasense_rededge"
    if not (folder / "IMG_0001_5.tif").exists():
        pytest.skip(f"{folder} not found")
    return folder


def test_capture_is_one_item_with_band_names_wavelengths_and_black_level(shared_data, micasense):
    folder = _capture_dir(shared_data)
    from domaug_agriculture.micasense_format import MicaSenseFormat

    fmt = MicaSenseFormat()
    paths = sorted(folder.glob("IMG_*.tif"), reverse=True)
    assert all(fmt.sniff(p, p.read_bytes()[:4096]) for p in paths)
    assert fmt.group(paths) == [sorted(paths)]
    sample = registry.read(sorted(paths))
    assert sample["meta"]["format"] == "micasense"
    np.testing.assert_array_equal(sample["image"], micasense[0])  # band k = file k, raw (not co-registered)
    meta = sample["meta"]
    assert meta["band_names"] == BANDS
    assert meta["wavelengths_nm"] == [475.0, 560.0, 668.0, 840.0, 717.0]
    assert meta["black_level"] == [4800.0] * 5 and meta["band_registration"] == "raw"


def test_the_gallery_plan_groups_the_capture(shared_data):
    from domaug.gallery import folder_items

    _capture_dir(shared_data)
    items, _ = folder_items(shared_data / "agriculture")
    capture = [i for i in items if "micasense" in i.rels[0]]
    assert len(capture) == 1 and [Path(r).name for r in capture[0].rels] == [f"IMG_0001_{k}.tif" for k in range(1, 6)]


def test_write_back_one_file_per_band_and_read_again(shared_data, tmp_path):
    folder = _capture_dir(shared_data)
    from domaug_agriculture.micasense_format import MicaSenseFormat

    fmt = MicaSenseFormat()
    sources = sorted(folder.glob("IMG_*.tif"))
    sample = registry.read(sources)
    sample["image"] = sample["image"][:64, :80].copy()
    names = fmt.output_names(sources, 0)
    assert names[0] == "IMG_0001_1.aug0.tif"
    written = fmt.write(sample, [tmp_path / n for n in names], sources=sources, provenance={"seed_key": "x"})
    assert len(written) == 5
    assert fmt.group(written) == [written]  # the outputs are a capture again
    again = registry.read(written)
    np.testing.assert_array_equal(again["image"], sample["image"])
    assert again["meta"]["band_names"] == BANDS and again["meta"]["black_level"] == [4800.0] * 5


def test_other_tiffs_are_not_claimed_and_mismatched_bands_are_refused(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    from domaug.errors import FormatError
    from domaug_agriculture.micasense_format import MicaSenseFormat

    fmt = MicaSenseFormat()
    plain = tmp_path / "IMG_0002_1.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint16))
    assert not fmt.sniff(plain, plain.read_bytes()[:4096])  # no Make=MicaSense tag
    a, b = tmp_path / "IMG_0003_1.tif", tmp_path / "IMG_0003_2.tif"
    tifffile.imwrite(a, np.zeros((8, 8), np.uint16), extratags=[(271, "s", 0, "MicaSense", True)])
    tifffile.imwrite(b, np.zeros((8, 9), np.uint16), extratags=[(271, "s", 0, "MicaSense", True)])
    assert fmt.sniff(a, a.read_bytes()[:4096])
    with pytest.raises(FormatError, match="does not match band 1"):
        fmt.read([a, b])
