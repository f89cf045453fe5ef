"""Panels of the realism gallery (``domaug gallery driving``): the scene the transforms assume.

Beside each frame: its scene layout (:func:`.depth.scene_layout`, labels colour-coded with a
legend) and the distance the transforms use (the ``depth`` target when given, else the
layout's; log scale with a colour bar in metres). Registered by the plugin's
``register_gallery_panels`` hook; annotations are drawn at a size relative to the frame so
that they stay legible when the sheet shrinks it into a cell.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .depth import EGO, GROUND, SKY, VERTICAL, scene_layout

LABELS = {SKY: ("sky", (80, 150, 240)), GROUND: ("ground", (150, 150, 150)),
          VERTICAL: ("vertical", (240, 160, 40)), EGO: ("ego", (170, 60, 170))}
DEPTH_RANGE_M = (2.0, 10_000.0)  # the colour bar's ends (log scale)
DEPTH_TICKS_M = (3, 10, 30, 100, 300, 1000, 10_000)
#: the colour map of distance, near → far (a few anchors of "viridis", interpolated)
RAMP = np.array([(253, 231, 37), (94, 201, 98), (33, 145, 140), (59, 82, 139), (68, 1, 84)], np.float32)
#: text height as a fraction of the frame's width (≈ 11 px once a 640 px frame fills a 340 px cell)
TEXT_PER_WIDTH = 1 / 30


def panels(sample: Mapping[str, Any]) -> list[tuple[np.ndarray, list[str]]]:
    """The layout and distance panels of an RGB frame (none for other images)."""
    image = np.asarray(sample["image"])
    if image.ndim != 3 or image.shape[-1] != 3:
        return []
    layout = scene_layout(image, meta=sample.get("meta"), bboxes=sample.get("bboxes"),
                          sky_mask=sample.get("sky_mask"), road_mask=sample.get("road_mask"))
    cells = [(layout_cell(layout.labels), ["scene layout", "sky / ground / vertical / ego"])]
    if sample.get("depth") is not None:
        cells.append((depth_cell(np.asarray(sample["depth"], np.float32)),
                      ["depth (given)", "log scale, metres; black: no data"]))
    else:
        cells.append((depth_cell(layout.depth), ["layout distance", "log scale, metres (no depth given)"]))
    return cells


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: bitmap font only
        return ImageFont.load_default()


def _text_px(width: int) -> int:
    return max(11, round(width * TEXT_PER_WIDTH))


def layout_cell(labels: np.ndarray) -> np.ndarray:
    """The layout labels in their colours (unlabelled: black), with a legend (H×W×3 uint8)."""
    rgb = np.zeros(labels.shape + (3,), np.uint8)
    for value, (_, colour) in LABELS.items():
        rgb[labels == value] = colour
    cell = Image.fromarray(rgb)
    size = _text_px(cell.width)
    draw, font, step = ImageDraw.Draw(cell), _font(size), round(size * 1.2)
    for i, (name, colour) in enumerate(LABELS.values()):
        y = size // 3 + i * step
        draw.rectangle((size // 3, y, size // 3 + size, y + size), fill=colour, outline=(0, 0, 0))
        draw.text((size * 3 // 2, y), name, fill=(255, 255, 255), font=font, stroke_width=max(1, size // 11),
                  stroke_fill=(0, 0, 0))
    return np.asarray(cell)


def depth_colours(depth_m: np.ndarray) -> np.ndarray:
    """Distance in metres → RGB uint8 on a log scale over :data:`DEPTH_RANGE_M` (no data: black)."""
    depth_m = np.asarray(depth_m, np.float32)
    known = np.isfinite(depth_m) & (depth_m > 0) | np.isposinf(depth_m)
    lo, hi = np.log10(DEPTH_RANGE_M)
    safe = np.where(known, np.minimum(depth_m, DEPTH_RANGE_M[1]), DEPTH_RANGE_M[0])
    t = np.clip((np.log10(np.maximum(safe, 1e-3)) - lo) / (hi - lo), 0, 1) * (len(RAMP) - 1)
    i = np.minimum(t.astype(int), len(RAMP) - 2)
    f = (t - i)[..., None]
    rgb = np.rint(RAMP[i] * (1 - f) + RAMP[i + 1] * f).astype(np.uint8)
    rgb[~known] = 0
    return rgb


def depth_cell(depth_m: np.ndarray) -> np.ndarray:
    """The distance map with a vertical colour bar at the right, ticks labelled in metres (H×W×3 uint8)."""
    cell = Image.fromarray(depth_colours(depth_m))
    size = _text_px(cell.width)
    draw, font = ImageDraw.Draw(cell), _font(size)
    top, bottom, x = size // 3, cell.height - size // 3, cell.width - size
    lo, hi = np.log10(DEPTH_RANGE_M)
    bar = np.geomspace(*DEPTH_RANGE_M, max(2, bottom - top))[:, None] * np.ones((1, max(4, size * 2 // 3)))
    cell.paste(Image.fromarray(depth_colours(bar)), (x, top))
    for tick in DEPTH_TICKS_M:
        y = top + (math.log10(tick) - lo) / (hi - lo) * (bottom - top - 1)
        text = f"{tick // 1000}k m" if tick >= 1000 else f"{tick} m"
        draw.line((x - size // 4, y, x, y), fill=(255, 255, 255), width=max(1, size // 11))
        draw.text((x - size // 3, y), text, anchor="rm", fill=(255, 255, 255), font=font,
                  stroke_width=max(1, size // 11), stroke_fill=(0, 0, 0))
    return np.asarray(cell)
