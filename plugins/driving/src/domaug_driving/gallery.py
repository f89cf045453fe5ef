"""The realism gallery: every driving transform on every frame of a folder, as contact sheets.

``python -m domaug_driving.gallery [--data DIR] [--out DIR] [--seeds 0 1 2] [--max-side PX]``

For each ``.jpg``/``.png`` frame in DIR (default ``../shared/data/driving`` beside the
repository) it writes ``<frame>.png``: the frame, its scene layout
(:func:`domaug_driving.depth.scene_layout`, labels colour-coded with a legend) and the
layout's distance (log scale, with a colour bar in metres), then every registered driving
transform (``domaug.list_transforms("driving")``) at default parameters, one cell per seed,
captioned with its name, seed and key drawn parameters. Frames are first downscaled to
``--max-side`` pixels. ``gallery.md`` in the output folder lists the sheets.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import domaug

from .depth import EGO, GROUND, SKY, VERTICAL, scene_layout

SUFFIXES = (".jpg", ".jpeg", ".png")
CELL_W = 320  # width of one cell in pixels (its height follows the frame's aspect)
PAD = 6
LINE_PX = 13
CAPTION_LINES = 3
LABELS = {SKY: ("sky", (80, 150, 240)), GROUND: ("ground", (150, 150, 150)),
          VERTICAL: ("vertical", (240, 160, 40)), EGO: ("ego", (170, 60, 170))}
DEPTH_RANGE_M = (2.0, 10_000.0)  # the colour bar's ends (log scale)
DEPTH_TICKS_M = (3, 10, 30, 100, 300, 1000, 10_000)
#: the colour map of distance, near → far (a few anchors of "viridis", interpolated)
RAMP = np.array([(253, 231, 37), (94, 201, 98), (33, 145, 140), (59, 82, 139), (68, 1, 84)], np.float32)
SKIP_PARAMS = {"camera", "seed", "shape", "full_shape"}


# -- frames ----------------------------------------------------------------------------------
def default_data_dir() -> Path:
    """``../shared/data/driving`` relative to the repository holding this plugin (or the cwd)."""
    candidates = [Path(__file__).resolve().parents[4].parent, Path.cwd().parent]
    folders = [c / "shared" / "data" / "driving" for c in candidates]
    return next((f for f in folders if f.is_dir()), folders[0])


def find_frames(folder: Path) -> list[Path]:
    """The frames (jpg/png, sorted by name) directly in ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def load_frame(path: Path, max_side: int) -> np.ndarray:
    """The frame as H×W×3 uint8 RGB, downscaled (Lanczos) so its longer side is ≤ ``max_side``."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = max_side / max(im.size)
        if scale < 1:
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                           Image.Resampling.LANCZOS)
        return np.asarray(im)


# -- cells -----------------------------------------------------------------------------------
def _font():
    try:
        return ImageFont.load_default(size=11)
    except TypeError:  # Pillow < 10.1: bitmap font only
        return ImageFont.load_default()


def thumbnail(rgb: np.ndarray) -> Image.Image:
    """``rgb`` resized to one cell: :data:`CELL_W` wide, keeping its aspect."""
    h, w = rgb.shape[:2]
    size = (CELL_W, max(1, round(CELL_W * h / w)))
    return Image.fromarray(np.ascontiguousarray(rgb)).resize(size, Image.Resampling.LANCZOS)


def layout_cell(labels: np.ndarray) -> Image.Image:
    """The layout labels in their colours (unlabelled: black), with a legend."""
    rgb = np.zeros(labels.shape + (3,), np.uint8)
    for value, (_, colour) in LABELS.items():
        rgb[labels == value] = colour
    cell = Image.fromarray(rgb).resize(thumbnail(rgb).size, Image.Resampling.NEAREST)
    draw, font = ImageDraw.Draw(cell), _font()
    for i, (name, colour) in enumerate(LABELS.values()):
        y = 4 + i * LINE_PX
        draw.rectangle((4, y, 14, y + 10), fill=colour, outline=(0, 0, 0))
        draw.text((18, y - 1), name, fill=(255, 255, 255), font=font, stroke_width=1, stroke_fill=(0, 0, 0))
    return cell


def depth_colours(depth_m: np.ndarray) -> np.ndarray:
    """Distance in metres → RGB uint8 on a log scale over :data:`DEPTH_RANGE_M`."""
    lo, hi = np.log10(DEPTH_RANGE_M)
    t = np.clip((np.log10(np.maximum(depth_m, 1e-3)) - lo) / (hi - lo), 0, 1) * (len(RAMP) - 1)
    i = np.minimum(t.astype(int), len(RAMP) - 2)
    f = (t - i)[..., None]
    return np.rint(RAMP[i] * (1 - f) + RAMP[i + 1] * f).astype(np.uint8)


def depth_cell(depth_m: np.ndarray) -> Image.Image:
    """The distance map with a vertical colour bar at the right, ticks labelled in metres."""
    cell = thumbnail(depth_colours(depth_m))
    draw, font = ImageDraw.Draw(cell), _font()
    top, bottom, x = 4, cell.height - 4, cell.width - 12
    lo, hi = np.log10(DEPTH_RANGE_M)
    bar = np.geomspace(*DEPTH_RANGE_M, bottom - top)[:, None] * np.ones((1, 8))
    cell.paste(Image.fromarray(depth_colours(bar)), (x, top))
    for tick in DEPTH_TICKS_M:
        y = top + (math.log10(tick) - lo) / (hi - lo) * (bottom - top - 1)
        text = f"{tick // 1000}k m" if tick >= 1000 else f"{tick} m"
        draw.line((x - 3, y, x, y), fill=(255, 255, 255))
        draw.text((x - 4, y), text, anchor="rm", fill=(255, 255, 255), font=font, stroke_width=1,
                  stroke_fill=(0, 0, 0))
    return cell


def key_params(params: Mapping[str, Any], limit: int = 4) -> list[str]:
    """Up to ``limit`` drawn parameters as ``name=value`` (numbers to 3 digits, lists by length)."""
    shown = []
    for key, value in params.items():
        if key in SKIP_PARAMS or key.startswith("_") or isinstance(value, dict):
            continue
        if isinstance(value, float):
            shown.append(f"{key}={value:.3g}")
        elif isinstance(value, (bool, int)) or (isinstance(value, str) and len(value) <= 12):
            shown.append(f"{key}={value}")
        elif isinstance(value, (list, tuple)):
            shown.append(f"{key}=[{len(value)}]")
        if len(shown) == limit:
            break
    return shown


def transform_cells(image: np.ndarray, seeds: Sequence[int]) -> list[tuple[Image.Image, list[str]]]:
    """Every registered driving transform at default parameters on ``image``, at each seed."""
    cells = []
    for name in domaug.list_transforms("driving"):
        transform = domaug.get_transform(name)
        for seed in seeds:
            out = transform(image=image, rng=np.random.default_rng(seed))
            params = out["applied"][0]["params"] if out["applied"] else {}
            shown = key_params(params)
            caption = [f"{name} seed={seed}", " ".join(shown[:2]), " ".join(shown[2:])]
            cells.append((thumbnail(out["image"]), caption))
    return cells


# -- sheets ----------------------------------------------------------------------------------
def sheet_size(n_cells: int, cols: int, cell: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of a sheet of ``n_cells`` cells of ``cell`` = (w, h) pixels in ``cols`` columns."""
    rows = math.ceil(n_cells / cols)
    return cols * (cell[0] + PAD) + PAD, rows * (cell[1] + CAPTION_LINES * LINE_PX + PAD) + PAD


def contact_sheet(cells: Sequence[tuple[Image.Image, Sequence[str]]], cols: int) -> Image.Image:
    """The cells (all the size of the first) row by row, ``cols`` per row, captions below."""
    cw, ch = cells[0][0].size
    sheet = Image.new("RGB", sheet_size(len(cells), cols, (cw, ch)), (24, 24, 24))
    draw, font = ImageDraw.Draw(sheet), _font()
    for i, (cell, caption) in enumerate(cells):
        row, col = divmod(i, cols)
        x0, y0 = PAD + col * (cw + PAD), PAD + row * (ch + CAPTION_LINES * LINE_PX + PAD)
        sheet.paste(cell, (x0, y0))
        for j, line in enumerate(caption[:CAPTION_LINES]):
            draw.text((x0, y0 + ch + j * LINE_PX), line, fill=(230, 230, 230), font=font)
    return sheet


def frame_sheet(path: Path, seeds: Sequence[int], max_side: int) -> Image.Image:
    """The contact sheet of one frame: frame, layout, distance, then transforms × seeds."""
    image = load_frame(path, max_side)
    layout = scene_layout(image)
    h, w = image.shape[:2]
    cells = [(thumbnail(image), [path.name, f"{w}x{h} px (input)"]),
             (layout_cell(layout.labels), ["scene layout", "labels (no depth given)"]),
             (depth_cell(layout.depth), ["layout distance", "log scale, metres"])]
    cells += transform_cells(image, seeds)
    return contact_sheet(cells, cols=max(3, len(seeds)))


def write_index(out: Path, sheets: Sequence[Path], seeds: Sequence[int], max_side: int) -> Path:
    """``gallery.md`` in ``out``: how the sheets were made and one image link per sheet."""
    lines = ["# Driving realism gallery", "",
             f"`python -m domaug_driving.gallery --seeds {' '.join(map(str, seeds))} --max-side {max_side}`:",
             "frame, scene layout, layout distance, then every driving transform at default "
             "parameters, one column per seed.", ""]
    lines += [f"## {p.stem}\n\n![{p.stem}]({p.name})\n" for p in sheets]
    index = out / "gallery.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index


def main(argv: Sequence[str] | None = None) -> int:
    """Write one sheet per frame and the index; 2 with a one-line error when there are no frames."""
    parser = argparse.ArgumentParser(prog="python -m domaug_driving.gallery", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="folder of frames (default: ../shared/data/driving)")
    parser.add_argument("--out", type=Path, default=Path("gallery"), help="output folder (default: ./gallery)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    parser.add_argument("--max-side", type=int, default=640, help="downscale frames to this many pixels (default 640)")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()
    frames = find_frames(data)
    if not frames:
        print(f"gallery: no .jpg or .png frames in {data}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    sheets = []
    for frame in frames:
        sheets.append(args.out / f"{frame.stem}.png")
        frame_sheet(frame, args.seeds, args.max_side).save(sheets[-1])
        print(sheets[-1])
    print(write_index(args.out, sheets, args.seeds, args.max_side))
    return 0


if __name__ == "__main__":
    sys.exit(main())
