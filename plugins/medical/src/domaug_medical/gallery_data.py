"""``domaug medical-samples DIR``: a folder of real medical images for ``domaug gallery medical --data DIR``.

pydicom ships real scans (``CT_small.dcm``, a 128² thoracic CT slice; ``MR_small.dcm``, a
64² MR slice; the 4-slice 16² CT series the shared DICOM SEG was derived from) that are not
in ``../shared/data/medical``; this command copies them into DIR
(never downloading: ``get_testdata_file(name, download=False)``) and copies the shared
medical images beside them (the highdicom CT, the rt-utils two-slice CT series, 1 MB in
all; copies, as the gallery follows no link out of its folder), so that one gallery run
shows every transform on CT, MR and a volume.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

#: pydicom's bundled files copied into the folder (name in pydicom → name in the folder)
PYDICOM_FILES = {"CT_small.dcm": "pydicom_CT_small.dcm", "MR_small.dcm": "pydicom_MR_small.dcm"}
#: pydicom's 4-slice CT series that the shared DICOM SEG (highdicom) was made from → a folder (one volume)
PYDICOM_SERIES = ("dicomdirtests/77654033/CT2", "pydicom_CT2_series")
#: image files of ../shared/data/medical copied beside them (SEG, RTSTRUCT and NIfTI are no images here)
SHARED_FILES = ("highdicom_ct_image.dcm", "rtutils_phantom/ct_1.dcm", "rtutils_phantom/ct_2.dcm")


def shared_folder() -> Path:
    """``../shared/data/medical`` beside the repository holding domaug."""
    import domaug

    return Path(domaug.__file__).resolve().parents[2].parent / "shared" / "data" / "medical"


def make_folder(folder: Path, shared: Path | None = None) -> list[Path]:
    """Fill ``folder`` with copies of pydicom's CT and MR slices and of the shared files;
    returns the files written. A missing pydicom file is an error; missing shared files are skipped."""
    from pydicom.data import get_testdata_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dest in PYDICOM_FILES.items():
        source = get_testdata_file(name, download=False)
        if source is None:
            raise click.ClickException(f"pydicom's bundled {name} is missing (reinstall pydicom)")
        shutil.copyfile(source, folder / dest)
        written.append(folder / dest)
    series_dir, series_dest = PYDICOM_SERIES
    anchor = get_testdata_file("CT_small.dcm", download=False)
    series = Path(anchor).parent / series_dir if anchor else None
    if series is not None and series.is_dir():
        (folder / series_dest).mkdir(exist_ok=True)
        for f in sorted(p for p in series.iterdir() if p.is_file()):
            shutil.copyfile(f, folder / series_dest / f"{f.name}.dcm")
            written.append(folder / series_dest / f"{f.name}.dcm")
    shared = shared_folder() if shared is None else Path(shared)
    for rel in SHARED_FILES:
        source = shared / rel
        if not source.is_file():
            continue
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()
        shutil.copyfile(source, dest)
        written.append(dest)
    return written


@click.command("medical-samples")
@click.argument("folder", type=click.Path(file_okay=False))
def command(folder):
    """Write real CT and MR samples into FOLDER for `domaug gallery medical --data FOLDER`:
    pydicom's CT_small.dcm and MR_small.dcm and the shared medical CT files (copies)."""
    written = make_folder(Path(folder))
    click.echo(f"{len(written)} file(s) in {folder}; now: domaug gallery medical --data {folder} --out GALLERY")
