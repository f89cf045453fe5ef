"""DICOM series: grouped and sorted by position, written back as one new series, through
``domaug run`` on pydicom's files, thick slices, and no patient identifier in any log."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

import domaug  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _dicom_support import FMT, _file, _make_series, _messages, _tool, _write  # noqa: E402

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


def test_thicker_profile_on_the_same_grid_is_written_as_slice_thickness(tmp_path):
    src_dir, out_dir = tmp_path / "src", tmp_path / "out"
    src_dir.mkdir(), out_dir.mkdir()
    group = FMT.group(_make_series(src_dir, n=6, thickness=2.5))[0]
    s = FMT.read(group)
    assert s["meta"]["slice_thickness"] == 2.5
    out = domaug.get_transform("medical.SliceThickness", thickness_mm=6.0)(rng=0, **s)
    written = _write(out, group, out_dir)
    dss = [pydicom.dcmread(p) for p in written]
    assert len(dss) == 6 and all(float(d.SliceThickness) == pytest.approx(6.0) for d in dss)
    z_in = sorted(float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in group)
    assert sorted(float(d.ImagePositionPatient[2]) for d in dss) == pytest.approx(z_in)  # same grid


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
