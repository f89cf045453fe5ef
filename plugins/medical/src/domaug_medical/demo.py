"""``domaug demo`` for medical: a lower-dose CT simulation on pydicom's bundled ``CT_small.dcm``.

The input is the 128×128 CT slice that ships inside pydicom (no download); outputs are
written back as DICOM by the plugin's format, shown in a soft-tissue window (C 40 / W 400 HU).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Collection

#: (transform, params) in pipeline order; only those the plugin registers are used
PREFERRED = [
    ("medical.LowDoseCT", {"dose_fraction": [0.1, 0.3]}),
    ("medical.BeamHardening", {}),
    ("core.Affine", {"rotate_deg": [-8.0, 8.0], "scale": [0.95, 1.05], "shear_deg": 0.0, "fill": -1024.0}),
]
FALLBACK = [("core.GaussianNoise", {"sigma": [0.005, 0.01]})]


def pipeline_dict(available: Collection[str]) -> dict:
    """LowDoseCT (and the other CT transforms among ``available``, the plugin's registry
    names), then a small patient-position change."""
    steps = [(n, p) for n, p in PREFERRED if n in available or n.startswith("core.")]
    if not any(n.startswith("medical.") for n, _ in steps):
        steps = FALLBACK + steps
    return {"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": [
        {"name": n, "params": dict(p)} for n, p in steps
    ]}}


def make_inputs(folder: Path) -> list[Path]:
    """Copy pydicom's bundled CT_small.dcm into ``folder``."""
    from pydicom.data import get_testdata_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = get_testdata_file("CT_small.dcm")  # one named file: never get_testdata_files("*")
    if source is None:
        raise FileNotFoundError("pydicom's bundled CT_small.dcm is missing")
    dest = folder / "ct_small.dcm"
    shutil.copyfile(source, dest)
    return [dest]
