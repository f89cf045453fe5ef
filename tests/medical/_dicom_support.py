"""Shared helpers of the DICOM tests: the format, a provenance, pydicom's test files,
the dcmtk/dicom3tools validators, a synthetic CT series."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from domaug_medical.dicom_format import DICOMFormat

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
