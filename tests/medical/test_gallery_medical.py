"""The medical gallery: ``domaug medical-samples`` writes real CT/MR files, the plugin's panels
show what the transforms read from the image."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from pydicom.data import get_testdata_file

from domaug_medical import gallery_data, gallery_panels
from domaug_medical.dicom_format import DICOMFormat


def _read(name):
    return dict(DICOMFormat().read([get_testdata_file(name, download=False)]))


def test_medical_samples_copies_pydicom_files_and_the_shared_ones(tmp_path):
    shared = tmp_path / "shared"
    (shared / "rtutils_phantom").mkdir(parents=True)
    (shared / "rtutils_phantom" / "ct_1.dcm").write_bytes(b"x")  # any file: only copied
    written = gallery_data.make_folder(tmp_path / "out", shared=shared)
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert [n for n in names if not n.startswith("pydicom_CT2_series/")] == [
        "pydicom_CT_small.dcm", "pydicom_MR_small.dcm", "rtutils_phantom/ct_1.dcm"]
    assert len([n for n in names if n.startswith("pydicom_CT2_series/")]) == 4
    assert not any(p.is_symlink() for p in written)  # the gallery follows no link out of its folder
    assert (tmp_path / "out" / "pydicom_CT_small.dcm").read_bytes() == \
        open(get_testdata_file("CT_small.dcm", download=False), "rb").read()


def test_medical_samples_is_a_domaug_command(tmp_path):
    from domaug.cli.main import _add_plugin_commands, cli

    _add_plugin_commands()
    result = CliRunner().invoke(cli, ["medical-samples", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "pydicom_MR_small.dcm").is_file()
    assert "domaug gallery medical --data" in result.output


def test_ct_panels_show_host_bone_and_noise_map():
    sample = _read("CT_small.dcm")
    cells = gallery_panels.panels(sample)
    assert [c[1][0] for c in cells] == ["lesion host: 0-150 HU (green)", "LowDoseCT noise map s0(x)"]
    for rgb, caption in cells:
        assert rgb.dtype == np.uint8 and rgb.shape == sample["image"].shape + (3,)
    host_bone = cells[0][0].astype(int)
    green = (host_bone[..., 1] > host_bone[..., 0] + 40)
    orange = (host_bone[..., 0] > host_bone[..., 2] + 80) & (host_bone[..., 0] > host_bone[..., 1])
    assert 0.2 < green.mean() < 0.6 and 0.05 < orange.mean() < 0.3  # muscle, and the vertebra
    assert "median" in cells[1][1][1]


@pytest.mark.parametrize("name", ["MR_small.dcm"])
def test_mr_panel_and_volume_middle_slice(name):
    sample = _read(name)
    (rgb, caption), = gallery_panels.panels(sample)
    assert rgb.shape == sample["image"].shape + (3,) and "Otsu" in caption[1]
    volume = {"image": np.stack([sample["image"]] * 3), "meta": {"modality": "MR", "spatial_ndim": 3}}
    (rgb, _), = gallery_panels.panels(volume)
    assert rgb.shape == sample["image"].shape + (3,)
