"""The core's ``domaug demo``: generic camera transforms on scikit-image's bundled photographs."""

from __future__ import annotations

import json
from pathlib import Path

from ..hookspecs import hookimpl
from .core_transforms import CORE_TRANSFORMS

#: (transform, params) in pipeline order; only those registered are used
PREFERRED = [
    ("core.Flip", {"axis": "horizontal", "p": 0.5}),
    ("core.Affine", {}),
    ("core.BrightnessContrast", {"brightness": [-0.15, 0.15], "contrast": [0.8, 1.2]}),
    ("core.Gamma", {"gamma": [0.7, 1.4]}),
    ("core.GaussianNoise", {"sigma": [0.01, 0.03]}),
    ("core.MotionBlur", {"length_px": [3.0, 9.0], "p": 0.5}),
]
FALLBACK = [("core.Flip", {"axis": "horizontal", "p": 0.5}), ("core.Rotate90", {})]


def pipeline_dict(available=None) -> dict:
    """A to_dict-style pipeline of the preferred transforms that are registered."""
    available = set(CORE_TRANSFORMS if available is None else available)
    steps = [(n, p) for n, p in PREFERRED if n in available]
    if len(steps) < 3:
        steps = [(n, p) for n, p in FALLBACK if n in available] or steps
    return {
        "domaug_format": 1,
        "pipeline": {"name": "Compose", "params": {}, "transforms": [
            {"name": n, "params": dict(p)} for n, p in steps
        ]},
    }


def make_inputs(folder: Path) -> list[Path]:
    """astronaut.png with a face mask and a box sidecar, and coffee.png (scikit-image data)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = data.astronaut()
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    yy, xx = np.mgrid[: astronaut.shape[0], : astronaut.shape[1]]
    face = ((yy - 100) / 62.0) ** 2 + ((xx - 228) / 50.0) ** 2 <= 1.0
    mask = np.where(face, 1, 0).astype(np.uint8)
    Image.fromarray(mask).save(folder / "astronaut.mask.png")
    boxes = [[172, 30, 286, 170, 1], [315, 0, 420, 260, 2]]  # face; space shuttle
    (folder / "astronaut.boxes.json").write_text(json.dumps(boxes) + "\n")
    coffee = data.coffee()
    Image.fromarray(coffee).save(folder / "coffee.png")
    return [folder / "astronaut.png", folder / "coffee.png"]


@hookimpl
def register_demos(register):
    register("core", make_inputs, pipeline_dict())
