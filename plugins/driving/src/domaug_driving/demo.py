"""``domaug demo`` for driving: fog and night on synthesised dash-cam road scenes.

The scenes are drawn with the same flat-road camera the driving transforms assume
(focal length 0.9·W, horizon at 0.58·H, camera 1.3 m above the road): lane markings
and cars sit at known distances, so fog visibly thickens with distance. Cars come with
a ``.boxes.json`` sidecar (label 1 = car).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Container

#: (transform, params) in preference order; only those the plugin registers are used
PREFERRED = [
    ("driving.Fog", {"visibility_m": [60.0, 400.0]}),
    ("driving.Night", {"street_lights": 1.0}),
    ("driving.Rain", {}),
    ("driving.Snow", {}),
    ("driving.SunGlare", {}),
]
FALLBACK = [("core.BrightnessContrast", {"brightness": [-0.3, -0.1]}), ("core.GaussianNoise", {"sigma": [0.01, 0.03]})]

H, W = 360, 640
FOCAL, HORIZON, CAM_H = 0.9 * W, 0.58 * H, 1.3


def pipeline_dict(available: Container[str]) -> dict:
    """OneOf the weather/lighting transforms among ``available`` (registry names), then lens
    drops and a flip."""
    domain = [{"name": n, "params": dict(p)} for n, p in PREFERRED if n in available]
    steps = ([{"name": "OneOf", "params": {}, "transforms": domain}] if domain
             else [{"name": n, "params": dict(p)} for n, p in FALLBACK])
    if "driving.LensDroplets" in available:
        steps.append({"name": "driving.LensDroplets", "params": {"p": 0.25}})
    steps.append({"name": "core.Flip", "params": {"axis": "horizontal", "p": 0.5}})
    return {"domaug_format": 1, "pipeline": {"name": "Compose", "params": {}, "transforms": steps}}


def _row_of(z_m: float) -> float:
    """Image row where the road is ``z_m`` metres ahead."""
    return HORIZON + FOCAL * CAM_H / z_m


def road_scene(seed: int):
    """An H×W×3 uint8 road scene and its car boxes (N×5: xyxy + label 1)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    img = np.zeros((H, W, 3))
    t = np.clip(yy / HORIZON, 0, 1)[..., None]
    img[:] = (1 - t) * np.array([90, 140, 215]) + t * np.array([185, 205, 230])  # sky
    below = yy >= HORIZON
    z = np.where(below, FOCAL * CAM_H / np.maximum(yy + 0.5 - HORIZON, 1e-3), 1e6)
    x_m = (xx - W / 2) * z / FOCAL  # lateral position on the ground
    grass = np.array([70, 105, 45]) * (0.85 + 0.15 * rng.random((H, W, 1)))
    img = np.where(below[..., None], grass, img)
    road = below & (np.abs(x_m) < 5.0)
    asphalt = np.array([92, 92, 96]) * (0.92 + 0.08 * rng.random((H, W, 1)))
    img = np.where(road[..., None], asphalt, img)
    edge = below & (np.abs(np.abs(x_m) - 4.8) < 0.12)
    dash = below & (np.abs(x_m) < 0.08) & ((z % 9.0) < 3.0)
    img[edge | dash] = (235, 235, 225)
    # tree line on the horizon (non-sky pixels above it, at the cap distance)
    crown = HORIZON - (12 + 10 * np.sin(xx[0] / 23.0 + seed) + 6 * rng.random(W))
    trees = (yy < HORIZON) & (yy >= crown[None, :]) & (np.abs(xx - W / 2) > 40)
    img[trees] = (40, 70, 40)
    boxes = []
    colours = [(170, 30, 30), (30, 60, 160), (225, 225, 225), (40, 40, 40)]
    for i, (dist, lane) in enumerate(zip(rng.uniform(12, 25, 4) * np.array([1, 2, 3.5, 6]),
                                         rng.choice([-1.75, 1.75], 4))):
        bottom = _row_of(dist)
        half_w, height = FOCAL * 0.9 / dist, FOCAL * 1.5 / dist
        cx = W / 2 + FOCAL * lane / dist
        x0, x1, y0, y1 = cx - half_w, cx + half_w, bottom - height, bottom
        car = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
        img[car] = colours[i % len(colours)]
        window = car & (yy < y0 + 0.45 * height) & (xx > x0 + 0.15 * (x1 - x0)) & (xx < x1 - 0.15 * (x1 - x0))
        img[window] = (35, 45, 55)
        boxes.append([round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1), 1])
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), boxes[::-1]


def make_inputs(folder: Path) -> list[Path]:
    """Two synthetic road scenes (PNG) with their car boxes."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, seed in enumerate((1, 2)):
        image, boxes = road_scene(seed)
        path = folder / f"road_{k}.png"
        Image.fromarray(image).save(path)
        (folder / f"road_{k}.boxes.json").write_text(json.dumps(boxes) + "\n")
        written.append(path)
    return written
