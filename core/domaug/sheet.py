"""Contact sheets: images fitted into a grid of cells, each captioned (Pillow), and the captions.

Used by ``domaug preview``, ``domaug demo`` and ``domaug gallery``. A caption names the
transform and its key drawn parameters (those the user can set first, bookkeeping left out).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

#: pixels of caption text under each cell
LINE_PX = 13
CAPTION_LINES = 4
PAD = 6
#: drawn parameters that are bookkeeping rather than what a user chose (never captioned)
BOOKKEEPING = {"full_shape", "window_offset", "window", "camera", "shape"}
#: narrowest cell (room for a caption) for tall images
MIN_CAPTION_PX = 160


# -- captions --------------------------------------------------------------------------------
def _fmt(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, str) and len(value) <= 12:
        return value
    if isinstance(value, (list, tuple)) and 0 < len(value) <= 3 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        return ",".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in value)
    return None


def constructor_args(name: str) -> tuple[str, ...]:
    """The public parameter names of a registered transform (empty when unknown)."""
    import inspect

    try:
        from .registry import get_transform_class

        cls = get_transform_class(name)
        return tuple(k for k in inspect.signature(cls.__init__).parameters if k not in ("self", "p"))
    except Exception:
        return ()


def param_texts(params: Mapping[str, Any], limit: int = 2, prefer: Sequence[str] = ()) -> list[str]:
    """The first ``limit`` short drawn parameters as ``name=value``, those named in ``prefer``
    first (seeds and bookkeeping left out)."""
    order = [k for k in prefer if k in params] + [k for k in params if k not in prefer]
    shown = []
    for key in order:
        if "seed" in key.lower() or key in BOOKKEEPING or key.startswith("_"):
            continue
        text = _fmt(params[key])
        if text is not None:
            shown.append(f"{key}={text}")
        if len(shown) == limit:
            break
    return shown


def key_params(params: Mapping[str, Any], limit: int = 2, prefer: Sequence[str] = ()) -> str:
    """:func:`param_texts` on one line."""
    return " ".join(param_texts(params, limit, prefer))


def caption_for(applied: Sequence[Mapping[str, Any]], title: str = "") -> list[str]:
    """One caption line per applied transform, e.g. ``driving.Fog visibility_m=212``."""
    lines = [title] if title else []
    for entry in applied:
        name = str(entry.get("name", "?"))
        params = entry.get("params") or {}
        lines.append(f"{name} {key_params(params, prefer=constructor_args(name))}".rstrip())
    if len(lines) == (1 if title else 0):
        lines.append("(nothing applied)")
    return lines


# -- the sheet -------------------------------------------------------------------------------
def cell_size(cell: int, aspect: float = 1.0) -> tuple[int, int]:
    """(width, height) of one image cell: the area of a ``cell``² square, shaped like the original.

    ``aspect`` = width / height, limited to 1/4…4 (a longer strip is letterboxed).
    """
    aspect = min(max(float(aspect), 0.25), 4.0)
    root = math.sqrt(aspect)
    return max(16, round(cell * root)), max(16, round(cell / root))


def sheet_geometry(count: int, cell: int = 256, cols: int | None = None,
                   aspect: float = 1.0) -> tuple[int, int, int, int]:
    """(width, height, cols, rows) of a sheet of ``count`` cells plus caption lines.

    A cell is :func:`cell_size` (``aspect`` = width / height of the original's rendering);
    cells are ``PAD`` pixels apart and each has ``CAPTION_LINES`` lines of ``LINE_PX`` below.
    """
    cols = cols or max(1, math.ceil(math.sqrt(count)))
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    cw, ch = cell_size(cell, aspect)
    cw = max(cw, MIN_CAPTION_PX)
    width = cols * cw + (cols + 1) * PAD
    height = rows * (ch + CAPTION_LINES * LINE_PX) + (rows + 1) * PAD
    return width, height, cols, rows


def _fit(rgb: np.ndarray, box: tuple[int, int]):
    from PIL import Image

    im = Image.fromarray(rgb)
    h, w = rgb.shape[:2]
    scale = min(box[0] / w, box[1] / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    return im.resize(size, resample)


def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=11)
    except TypeError:  # Pillow < 10.1: bitmap font only
        return ImageFont.load_default()


def _clip_text(draw, text: str, font, max_px: int) -> str:
    if draw.textlength(text, font=font) <= max_px:
        return text
    while text and draw.textlength(text + "~", font=font) > max_px:
        text = text[:-1]
    return text + "~"


def contact_sheet(images: Sequence[np.ndarray], captions: Sequence[Sequence[str]], cell: int = 256,
                  cols: int | None = None):
    """A Pillow RGB image: ``images`` fitted into a grid of cells, each with caption lines.

    Cells take the shape of the first image (the original), see :func:`sheet_geometry`;
    a ``None`` image leaves its cell empty (e.g. to start the next row).
    """
    from PIL import Image, ImageDraw

    aspect = images[0].shape[1] / images[0].shape[0]
    width, height, cols, _ = sheet_geometry(len(images), cell, cols, aspect)
    cw, ch = cell_size(cell, aspect)
    slot = max(cw, MIN_CAPTION_PX)
    sheet = Image.new("RGB", (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font()
    for i, (rgb, lines) in enumerate(zip(images, captions)):
        if rgb is None:
            continue
        row, col = divmod(i, cols)
        x0 = PAD + col * (slot + PAD)
        y0 = PAD + row * (ch + CAPTION_LINES * LINE_PX + PAD)
        thumb = _fit(rgb, (cw, ch))
        sheet.paste(thumb, (x0 + (slot - thumb.width) // 2, y0 + (ch - thumb.height) // 2))
        lines = list(lines)
        if len(lines) > CAPTION_LINES:
            lines = lines[: CAPTION_LINES - 1] + [f"... +{len(lines) - CAPTION_LINES + 1} more"]
        for j, line in enumerate(lines):
            draw.text((x0, y0 + ch + j * LINE_PX), _clip_text(draw, line, font, slot),
                      fill=(230, 230, 230), font=font)
    return sheet
