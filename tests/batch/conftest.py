"""Fixtures for the batch engine tests: real image files made from scikit-image samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from run_outputs import manifest_lines, output_files  # tests/ is on sys.path (tests/conftest.py)

PIPELINE = """\
domaug_format: 1
pipeline:
  name: Compose
  transforms:
    - {name: core.Flip}
    - {name: core.GaussianNoise}
    - {name: core.Rotate90, params: {p: 0.5}}
"""


def small_rgb(i: int = 0, size: int = 48) -> np.ndarray:
    from skimage import data

    img = data.astronaut()[::8, ::8][:size, :size]
    return np.ascontiguousarray(np.roll(img, 3 * i, axis=1))


def make_inputs(root: Path, n_png: int = 3) -> Path:
    """INPUT with PNG (+mask, +boxes), JPEG, 16-bit TIFF, float TIFF and .npy files in sub-folders."""
    import tifffile
    from PIL import Image
    from skimage import data

    root.mkdir(parents=True, exist_ok=True)
    (root / "a").mkdir(exist_ok=True)
    (root / "b" / "deep").mkdir(parents=True, exist_ok=True)
    for i in range(n_png):
        Image.fromarray(small_rgb(i)).save(root / "a" / f"img{i}.png")
    mask = (small_rgb(0)[..., 0] > 120).astype(np.uint8) * 3
    Image.fromarray(mask).save(root / "a" / "img0.mask.png")
    (root / "a" / "img0.boxes.json").write_text(json.dumps([[4, 5, 20, 30, 1], [10, 10, 40, 44, 2]]))
    Image.fromarray(small_rgb(5)).save(root / "b" / "photo.jpg", quality=90)
    cam = data.camera()[::8, ::8].astype(np.uint16) * 257
    tifffile.imwrite(root / "b" / "deep" / "gray16.tif", cam, photometric="minisblack")
    tifffile.imwrite(root / "b" / "deep" / "bands.tif", np.random.default_rng(0).random((32, 40, 5), dtype=np.float32),
                     photometric="minisblack", planarconfig="contig")
    np.save(root / "b" / "arr.npy", data.camera()[::8, ::8])
    return root


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    return make_inputs(tmp_path / "in")


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE)
    return path


@pytest.fixture
def helpers():
    """The helper functions of this conftest (test modules cannot import it by name)."""
    import types

    return types.SimpleNamespace(make_inputs=make_inputs, output_files=output_files,
                                 manifest_lines=manifest_lines, small_rgb=small_rgb, pipeline=PIPELINE)
