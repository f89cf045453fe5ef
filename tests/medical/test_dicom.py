"""DICOM read → augment → write-back: values, identity, provenance, series, validators."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

import domaug  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _dicom_support import FMT, _file, _messages, _tool, _write  # noqa: E402

def test_sniff_and_registration():
    from domaug.formats import registry

    assert registry.sniff(_file("CT_small.dcm")).name == "dicom"
    assert FMT.sniff(Path("x"), b"\0" * 128 + b"DICM") and not FMT.sniff(Path("x"), b"\x89PNG")


def test_ct_reads_hu_and_identity_write_keeps_stored_values(tmp_path):
    src = _file("CT_small.dcm")
    ds = pydicom.dcmread(src)
    s = FMT.read([src])
    assert s["image"].dtype == np.int16
    np.testing.assert_array_equal(s["image"], ds.pixel_array.astype(np.int32) + int(ds.RescaleIntercept))
    assert s["meta"]["modality"] == "CT" and s["meta"]["spacing"] == pytest.approx([0.661468] * 2)
    (out,) = _write(s, [src], tmp_path)
    new = pydicom.dcmread(out)
    np.testing.assert_array_equal(new.pixel_array, ds.pixel_array)
    assert new.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert new.SOPInstanceUID != ds.SOPInstanceUID == new.SourceImageSequence[0].ReferencedSOPInstanceUID
    assert new.file_meta.MediaStorageSOPInstanceUID == new.SOPInstanceUID
    assert new.SeriesInstanceUID != ds.SeriesInstanceUID
    assert new.StudyInstanceUID == ds.StudyInstanceUID and new.PatientID == ds.PatientID
    assert new.FrameOfReferenceUID == ds.FrameOfReferenceUID  # no spatial transform ran
    assert list(new.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert new.SeriesDescription.endswith("[domaug aug0]")


def test_augmented_ct_round_trip_is_valid_and_deterministic(tmp_path):
    src = _file("CT_small.dcm")
    s = FMT.read([src])
    pipe = domaug.Compose([domaug.get_transform("medical.LowDoseCT", dose_fraction=0.25),
                           domaug.get_transform("medical.ElasticDeformation", max_displacement_mm=3)])
    out = pipe(rng=3, **s)
    (a,) = _write(out, [src], tmp_path / "a" if (tmp_path / "a").mkdir() is None else None)
    (b,) = _write(out, [src], tmp_path / "b" if (tmp_path / "b").mkdir() is None else None)
    assert a.read_bytes() == b.read_bytes()  # UIDs derive from the run's seeds, no timestamps
    new = pydicom.dcmread(a)
    back = FMT.read([a])["image"]
    np.testing.assert_array_equal(back, out["image"])
    assert "medical.LowDoseCT" in new.DerivationDescription and "medical.ElasticDeformation" in new.DerivationDescription
    assert new.FrameOfReferenceUID != pydicom.dcmread(src).FrameOfReferenceUID  # geometry changed
    r = subprocess.run([_tool("dcmdump"), "-q", str(a)], capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, r.stderr
    assert _messages(a) <= _messages(src)  # no new dciodvfy messages


def test_clipping_to_bits_stored_and_monochrome1_kept(tmp_path):
    cr = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "77654033" / "CR1" / "6154"
    ds = pydicom.dcmread(cr)
    s = FMT.read([cr])
    assert s["meta"]["photometric_interpretation"] == "MONOCHROME1"
    lo, hi = s["meta"]["valid_range"]
    s2 = dict(s, image=(s["image"] + 1e6).astype(s["image"].dtype))  # far beyond storable
    (out,) = _write(s2, [cr], tmp_path)
    new = pydicom.dcmread(out)
    assert new.PhotometricInterpretation == "MONOCHROME1"
    assert new.pixel_array.max() == 2 ** int(ds.BitsStored) - 1  # clipped at BitsStored
    assert _messages(out) <= _messages(cr)


def test_pixel_padding_is_invalid_and_kept_bit_exact(tmp_path):
    ds = pydicom.dcmread(_file("CT_small.dcm"))
    arr = ds.pixel_array.copy()
    arr[:, :10] = int(ds.PixelPaddingValue)  # -2000 stored: outside the field of view
    ds.PixelData = arr.tobytes()
    src = tmp_path / "padded.dcm"
    ds.save_as(src, enforce_file_format=True)
    s = FMT.read([src])
    assert not s["valid"][:, :10].any() and s["valid"][:, 10:].all()
    out = domaug.get_transform("medical.LowDoseCT", dose_fraction=0.2)(rng=1, **s)
    (dest,) = _write(out, [src], tmp_path / "o" if (tmp_path / "o").mkdir() is None else None)
    new = pydicom.dcmread(dest).pixel_array
    np.testing.assert_array_equal(new[:, :10], arr[:, :10])
    assert not np.array_equal(new[:, 10:], arr[:, 10:])


def test_ybr_colour_is_written_back_as_rgb(tmp_path):
    src = _file("SC_ybr_full_422_uncompressed.dcm")
    s = FMT.read([src])
    assert s["image"].shape == (100, 100, 3) and s["image"].dtype == np.uint8
    (dest,) = _write(s, [src], tmp_path)
    new = pydicom.dcmread(dest)
    assert new.PhotometricInterpretation == "RGB"
    np.testing.assert_array_equal(new.pixel_array, s["image"])
    assert _messages(dest) <= _messages(src)


def test_mask_sidecar_round_trip(tmp_path):
    src = _file("MR_small.dcm")
    s = FMT.read([src])
    s["mask"] = (s["image"] > np.median(s["image"])).astype(np.uint8)
    out = domaug.get_transform("medical.ElasticDeformation")(rng=1, **s)
    written = _write(out, [src], tmp_path)
    side = [p for p in written if p.name.endswith(".mask.npy")]
    assert len(side) == 1
    np.testing.assert_array_equal(np.load(side[0]), out["mask"])


def test_box_and_keypoint_sidecars_are_written_and_read_back(tmp_path):
    """Boxes and keypoints go out as sidecars (through the core's write_sidecars), the DICOM
    file itself is the same bytes as without them, and it stays valid."""
    src = _file("CT_small.dcm")
    s = FMT.read([src])
    boxes = np.array([[10.0, 12.0, 40.0, 50.0, 1.0], [60.5, 70.0, 100.0, 120.0, 2.0]])
    keypoints = np.array([[20.0, 30.0], [64.5, 64.5], [100.25, 3.0]])
    out = domaug.get_transform("medical.ElasticDeformation", max_displacement_mm=2.0)(
        rng=2, **s, bboxes=boxes, keypoints=keypoints)
    assert len(out["bboxes"]) and len(out["keypoints"])
    plain_dir, points_dir = tmp_path / "plain", tmp_path / "points"
    plain_dir.mkdir(), points_dir.mkdir()
    (plain,) = _write({k: v for k, v in out.items() if k not in ("bboxes", "keypoints")}, [src], plain_dir)
    written = _write(out, [src], points_dir)
    assert sorted(p.name for p in written) == ["CT_small.aug0.boxes.json", "CT_small.aug0.dcm",
                                               "CT_small.aug0.keypoints.json"]
    assert all(p.is_file() for p in written)
    dcm = points_dir / "CT_small.aug0.dcm"
    assert dcm.read_bytes() == plain.read_bytes()
    back = FMT.read([dcm])
    np.testing.assert_array_equal(back["image"], out["image"])
    np.testing.assert_array_equal(back["bboxes"], out["bboxes"])
    np.testing.assert_array_equal(back["keypoints"], out["keypoints"])
    r = subprocess.run([_tool("dcmdump"), "-q", str(dcm)], capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, r.stderr
    assert _messages(dcm) <= _messages(src)


@pytest.mark.parametrize("name, reason", [
    ("rtplan.dcm", "no pixel data"),
    ("rtdose.dcm", "32-bit pixel data"),
    ("examples_palette.dcm", "PALETTE COLOR"),
    ("liver_1frame.dcm", "1-bit"),
    ("MR_truncated.dcm", "truncated"),
])
def test_unsupported_files_fail_with_one_clear_line(name, reason):
    path = _file(name)
    with pytest.raises(domaug.FormatError) as info:
        FMT.read([path])
    msg = str(info.value)
    assert reason in msg and "\n" not in msg and msg.startswith(str(path))


def test_compressed_without_codec_names_the_extra():
    import importlib.util

    if importlib.util.find_spec("libjpeg") is not None:
        pytest.skip("pylibjpeg-libjpeg is installed: JPEG-LS decodes")
    path = _file("MR_small_jpeg_ls_lossless.dcm")
    with pytest.raises(domaug.FormatError, match=r"compressed \(JPEG-LS\) pixel data needs pylibjpeg-libjpeg; "
                                                   r"install domaug-medical\[codecs\]"):
        FMT.read([path])


def test_errors_never_contain_patient_data(tmp_path):
    ds = pydicom.dcmread(_file("CT_small.dcm"))
    bad = tmp_path / "broken.dcm"
    ds.PixelData = ds.PixelData[:100]
    ds.save_as(bad, enforce_file_format=True)
    with pytest.raises(domaug.FormatError) as info:
        FMT.read([bad])
    assert str(ds.PatientName) not in str(info.value) and str(ds.PatientID) not in str(info.value)


def test_lossy_source_keeps_lossy_flag(tmp_path):
    src = _file("SC_rgb_jpeg_dcmtk.dcm")  # JPEG baseline, decodable without the codecs extra
    s = FMT.read([src])
    (dest,) = _write(s, [src], tmp_path)
    new = pydicom.dcmread(dest)
    assert new.LossyImageCompression == "01"
    assert new.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian


def test_enhanced_per_frame_rescale_that_differs_is_refused(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = pydicom.dcmread(_file("CT_small.dcm"))
    del ds.RescaleSlope, ds.RescaleIntercept
    frames = []
    for intercept in (-1024, -1000):
        pvt = Dataset()
        pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = 1, intercept, "HU"
        item = Dataset()
        item.PixelValueTransformationSequence = Sequence([pvt])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    path = tmp_path / "enh.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(domaug.FormatError, match="per-frame rescale"):
        FMT.read([path])


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(bits=st.sampled_from([8, 10, 12, 16]), signed=st.booleans(),
       slope=st.sampled_from([1.0, 0.5, 2.0, 0.684, -1.0]), intercept=st.sampled_from([0.0, -1024.0, 200.0, 3.5]),
       seed=st.integers(0, 2**31))
def test_modality_lut_round_trip_is_exact(bits, signed, slope, intercept, seed):
    from pydicom.dataset import Dataset

    from domaug_medical import dicom_pixels as px

    ds = Dataset()
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored, ds.PixelRepresentation = bits, int(signed)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    lo, hi = px.stored_range(ds)
    stored = np.random.default_rng(seed).integers(lo, hi + 1, (8, 8)).astype(px.stored_dtype(ds))
    image, meta = px.to_image(stored, ds, Path("x.dcm"))
    assert meta["valid_range"][0] <= float(image.min()) and float(image.max()) <= meta["valid_range"][1]
    back, clipped = px.to_stored(image, ds, px.rescale_of(ds), Path("x.dcm"))
    assert clipped == 0 and back.dtype == stored.dtype
    np.testing.assert_array_equal(back, stored)


