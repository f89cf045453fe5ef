"""The real 5-band MicaSense capture previews as a NIR-red-green false-colour composite."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from domaug.cli.main import cli
from domaug.display import make_view, render

BANDS = ["blue", "green", "red", "nir", "rededge"]


def _capture(shared_data):
    tifffile = pytest.importorskip("tifffile")
    folder = shared_data / "agriculture" / "micasense_rededge"
    return np.stack([tifffile.imread(folder / f"IMG_0001_{k}.tif") for k in range(1, 6)], axis=-1)


def test_false_colour_puts_nir_in_the_red_channel(shared_data):
    image = _capture(shared_data)
    sample = {"image": image, "meta": {"band_names": BANDS}}
    rgb = render(sample, make_view(sample, composite="false"))
    assert rgb.shape == image.shape[:2] + (3,) and rgb.dtype == np.uint8
    corr = [np.corrcoef(rgb[..., 0].ravel(), image[..., b].ravel().astype(float))[0, 1] for b in (3, 2)]
    assert corr[0] > 0.9 and corr[0] > corr[1]  # red channel shows NIR, not red


def test_preview_cli_on_the_capture(shared_data, tmp_path):
    image = _capture(shared_data)
    path = tmp_path / "capture.npz"
    np.savez(path, image=image, meta=json.dumps({"band_names": BANDS}))  # the core .npz convention
    result = CliRunner().invoke(cli, ["preview", "agriculture.SeasonShift", str(path), "-n", "2",
                                      "--false-colour", "--out", str(tmp_path / "sheet.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sheet.png").stat().st_size > 1000
