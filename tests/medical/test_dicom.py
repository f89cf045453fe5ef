"""DICOM read → augment → write-back: values, identity, provenance, series, validators."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

import domaug  # noqa: E402
from domaug_medical.dicom_format import DICOMFormat  # noqa: E402

FMT = DICOMFormat()
PROV = {"domaug_version": "0.1.0", "pipeline_hash": "feedbeef", "root_seed": 7, "seed_key": "k0",
        "input": "x.dcm", "variant": 0}


def _file(name: str) -> Path:
    return Path(get_testdata_file(name, download=False))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (apt-get install dcmtk dicom3tools); validator check skipped")
    return path


def _messages(path: Path) -> set[str]:
    r = subprocess.run([_tool("dciodvfy"), str(path)], capture_output=True, text=True, errors="replace")
    return {line.strip() for line in r.stderr.splitlines() if line.startswith(("Error", "Warning"))}


def _write(sample: dict, sources: list[Path], folder: Path, **prov) -> list[Path]:
    out = dict(sample)
    applied = out.pop("applied", [])
    dest = [folder / name for name in FMT.output_names(sources, 0)]
    return FMT.write(out, dest, sources=sources, provenance={**PROV, "applied": applied, **prov})


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


def _make_series(folder: Path, n: int = 6, thickness: float = 2.5) -> list[Path]:
    """A CT series from CT_small: n slices, positions along the normal, files in shuffled order."""
    src = pydicom.dcmread(_file("CT_small.dcm"))
    rng = np.random.default_rng(0)
    base = src.pixel_array.astype(np.int16)
    rod = np.zeros_like(base)
    rod[60:66, 60:66] = 1500  # a straight rod through every slice
    series_uid = pydicom.uid.generate_uid(entropy_srcs=["test-series"])
    order = rng.permutation(n)
    paths = []
    for k in range(n):
        ds = copy.deepcopy(src)
        ipp = [float(v) for v in src.ImagePositionPatient]
        ds.ImagePositionPatient = [ipp[0], ipp[1], ipp[2] + thickness * k]
        ds.SliceThickness = thickness
        ds.InstanceNumber = int(order[k]) + 1  # deliberately not the spatial order
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["test-sop", str(k)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PixelData = np.maximum(base, rod).astype(base.dtype).tobytes()
        p = folder / f"slice_{int(order[k]):02d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return sorted(paths)


def test_series_grouped_sorted_by_position_and_written_as_one_new_series(tmp_path):
    src_dir, out_dir = tmp_path / "in", tmp_path / "out"
    src_dir.mkdir(), out_dir.mkdir()
    paths = _make_series(src_dir)
    groups = FMT.group(paths)
    assert len(groups) == 1 and len(groups[0]) == len(paths)
    z = [float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in groups[0]]
    assert z == sorted(z)
    s = FMT.read(groups[0])
    assert s["image"].shape == (6, 128, 128) and s["meta"]["spacing"][0] == pytest.approx(2.5)
    t = domaug.get_transform("medical.ElasticDeformation", max_displacement_mm=4.0)
    out = t(rng=5, **s)
    written = _write(out, groups[0], out_dir)
    dss = [pydicom.dcmread(p) for p in written]
    assert len({d.SeriesInstanceUID for d in dss}) == 1
    assert dss[0].SeriesInstanceUID != pydicom.dcmread(paths[0]).SeriesInstanceUID
    assert len({d.SOPInstanceUID for d in dss}) == len(dss)
    assert len({d.FrameOfReferenceUID for d in dss}) == 1
    assert [float(d.ImagePositionPatient[2]) for d in dss] == pytest.approx(z)
    # one 3-D field: the rod stays a continuous structure across slices
    centroids = []
    for d in dss:
        arr = d.pixel_array.astype(float) + float(d.RescaleIntercept)
        yy, xx = np.nonzero(arr > 1000)
        centroids.append((yy.mean(), xx.mean()))
    jumps = np.abs(np.diff(np.array(centroids), axis=0))
    assert jumps.max() < 1.5
    back = FMT.read(FMT.group(written)[0])
    np.testing.assert_array_equal(back["image"], out["image"])
    assert _messages(written[0]) <= _messages(groups[0][0])
    r = subprocess.run([_tool("dcentvfy")] + [str(p) for p in written], capture_output=True, text=True,
                       errors="replace")
    assert "Error" not in r.stdout + r.stderr


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


def test_bundled_files_through_domaug_run(tmp_path):
    """Every bundled image either comes out valid or fails with one line; nothing half-written."""
    import json

    from click.testing import CliRunner

    from domaug.cli.main import cli

    root = Path(pydicom.__file__).parent / "data" / "test_files"
    names = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
             "MR_small_jpeg_ls_lossless.dcm", "rtdose.dcm", "examples_palette.dcm", "SC_rgb_rle_2frame.dcm",
             "liver_1frame.dcm", "JPEG2000.dcm", "image_dfl.dcm", "examples_overlay.dcm"]
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    for name in names:
        shutil.copy(root / name, inp / name)
    shutil.copytree(root / "dicomdirtests" / "98892001" / "CT5N", inp / "series")  # 5-slice CT series
    pipeline = tmp_path / "pipe.json"
    pipeline.write_text(json.dumps(domaug.to_dict(domaug.Compose([
        domaug.get_transform("medical.ElasticDeformation", max_displacement_mm=2),
        domaug.get_transform("medical.GibbsRinging", keep_fraction=0.8)]))))
    result = CliRunner().invoke(cli, ["run", str(pipeline), str(inp), str(out), "--executor", "serial", "-q",
                                      "--seed", "1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    series = [r for r in records if r["input"].startswith("series/")]
    assert {r["input"] for r in records} - {r["input"] for r in series} == set(names)
    assert len(series) == 1 and series[0]["status"] == "ok" and len(series[0]["files"]) == 5
    ok = 0
    for r in records:
        if r["status"] != "ok":
            assert r.get("error") and "\n" not in r["error"], r
            assert not list(out.glob(Path(r["input"]).stem + ".aug*"))  # nothing half-written
            continue
        ok += 1
        src, new = pydicom.dcmread(inp / r["input"]), pydicom.dcmread(out / r["output"])
        assert (new.Rows, new.Columns) == (src.Rows, src.Columns)
        assert int(getattr(new, "NumberOfFrames", 1)) == int(getattr(src, "NumberOfFrames", 1))
        assert new.SOPInstanceUID != src.SOPInstanceUID and new.SeriesInstanceUID != src.SeriesInstanceUID
        assert new.StudyInstanceUID == src.StudyInstanceUID
        assert str(getattr(new, "PatientID", "")) == str(getattr(src, "PatientID", ""))
        assert new.ImageType[0] == "DERIVED"
        if shutil.which("dcmdump"):
            assert subprocess.run(["dcmdump", "-q", str(out / r["output"])], capture_output=True).returncode == 0
    assert ok >= 7
    # the written DICOM bytes are reproducible from the manifest (UIDs derive from the seeds)
    replayed = CliRunner().invoke(cli, ["replay", str(out / "manifest.jsonl"), "-q"])
    assert replayed.exit_code == 0, replayed.output


def test_thick_slices_written_as_a_shorter_series(tmp_path):
    src_dir, out_dir = tmp_path / "in", tmp_path / "out"
    src_dir.mkdir(), out_dir.mkdir()
    group = FMT.group(_make_series(src_dir, n=6, thickness=2.5))[0]
    s = FMT.read(group)
    out = domaug.get_transform("medical.SliceThickness", thickness_mm=5.0, resample_back=False)(rng=0, **s)
    assert out["image"].shape[0] == 3 and out["meta"]["spacing"][0] == pytest.approx(5.0)
    written = _write(out, group, out_dir)
    dss = [pydicom.dcmread(p) for p in written]
    assert len(dss) == 3 and len({d.SeriesInstanceUID for d in dss}) == 1
    z = [float(d.ImagePositionPatient[2]) for d in dss]
    assert np.diff(z) == pytest.approx([5.0, 5.0], abs=1e-3)
    z_in = [float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in group]
    assert z[0] == pytest.approx(z_in[0] + 1.25, abs=1e-3)  # centre of the first thick slab
    assert all(float(d.SliceThickness) == pytest.approx(5.0) for d in dss)
    back = FMT.read(FMT.group(written)[0])
    np.testing.assert_array_equal(back["image"], out["image"])
    assert _messages(written[0]) <= _messages(group[0])


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


def test_patient_identifiers_never_reach_logs_progress_or_manifest(tmp_path):
    """A batch over identifiable DICOMs (one of them broken) prints and records paths and
    reasons only: the patient's name, ID and birth date appear nowhere but in the DICOM outputs."""
    import json
    import os
    import sys

    secrets = {"PatientName": "Doe^Jane^SECRETNAME", "PatientID": "PID-SECRET-4242", "PatientBirthDate": "19010203"}
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    for i, name in enumerate(["CT_small.dcm", "MR_small.dcm", "CT_small.dcm"]):
        ds = pydicom.dcmread(_file(name))
        for key, value in secrets.items():
            setattr(ds, key, value)
        if i == 2:
            ds.PixelData = ds.PixelData[:100]  # inconsistent length: fails with a reason
        ds.save_as(inp / f"scan_{i}.dcm", enforce_file_format=True)
    pipeline = tmp_path / "pipe.json"
    pipeline.write_text(json.dumps(domaug.to_dict(domaug.get_transform("medical.GibbsRinging"))))
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "domaug", "run", str(pipeline), str(inp), str(out),
                             "--workers", "2"], capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stderr  # the broken file fails, the others are written
    assert "scan_2.dcm" in result.stderr
    texts = {"stdout": result.stdout, "stderr": result.stderr,
             "manifest": (out / "manifest.jsonl").read_text(), "run.json": (out / "run.json").read_text()}
    for where, text in texts.items():
        for key, value in secrets.items():
            for part in {value, *value.split("^")} - {"Doe", "Jane"}:
                assert part not in text, f"{key} leaked into {where}"
    written = pydicom.dcmread(next(out.glob("scan_0.aug0.dcm")))
    assert str(written.PatientID) == secrets["PatientID"]  # kept in the file itself, as the study needs
