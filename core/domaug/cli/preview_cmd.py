"""``domaug preview``: a contact sheet of one file and n augmented variants, for a visual check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import click
import numpy as np

#: pixels of caption text under each cell
LINE_PX = 13
CAPTION_LINES = 4
PAD = 6
#: drawn parameters that are bookkeeping rather than what a user chose (never captioned)
BOOKKEEPING = {"full_shape", "window_offset", "window", "camera", "shape"}
#: narrowest cell (room for a caption) for tall images
MIN_CAPTION_PX = 160


# -- reading and running ---------------------------------------------------------------------
def read_sample(path: str | Path) -> dict:
    """Read one file into a sample through the format registry (with its sidecars)."""
    from ..formats.registry import read

    return dict(read([Path(path)]))


def read_item(path: str | Path) -> tuple[dict, str]:
    """(sample, relative name) of a file, or of the first item of a folder (e.g. a DICOM series).

    The relative name is what ``domaug run`` would call the item, for its seeds.
    """
    from ..errors import FormatError

    path = Path(path)
    if not path.is_dir():
        return read_sample(path), path.name
    from ..batch.plan import plan
    from ..formats.registry import get_format

    items, _ = plan(path)
    if not items:
        raise FormatError(path, "no readable image in this folder")
    item = items[0]
    return dict(get_format(item.format).read([path / r for r in item.rels])), item.rel


def centre_crop(sample: Mapping[str, Any], size: int) -> tuple[dict, str | None]:
    """The sample cut to its central ``size``×``size`` window (2-D images larger than that).

    Done by :class:`domaug.transforms.random_crop.RandomCrop`'s deterministic ``apply``,
    so masks, boxes, keypoints and the geotransform follow. Returns the sample and a note
    (None when nothing was cut).
    """
    from ..targets import layout_of, validate_sample
    from ..transforms.random_crop import RandomCrop

    sample = validate_sample(dict(sample))
    lay = layout_of(sample)
    if size <= 0 or lay.is_volume or all(n <= size for n in lay.spatial_shape):
        return dict(sample), None
    cut = [min(size, n) for n in lay.spatial_shape]
    start = [(n - c) // 2 for n, c in zip(lay.spatial_shape, cut)]
    out = RandomCrop().apply(sample, {"start": start, "size": cut})
    shape = "×".join(str(n) for n in lay.spatial_shape)
    return out, f"centre {cut[0]}×{cut[1]} crop of a {shape} image (--crop 0 shows it whole)"


def load_pipeline(spec: str):
    """A pipeline from a YAML/JSON file, or a single registered transform name."""
    from ..serialize import as_pipeline, load
    from ..registry import get_transform

    if Path(spec).exists() or spec.endswith((".yaml", ".yml", ".json")):
        return as_pipeline(load(spec))
    return as_pipeline(get_transform(spec))


def variant_rng(seed: int, variant: int, rel: str | None = None) -> np.random.Generator:
    """The generator of variant ``variant``.

    With ``rel`` (the file's path relative to a ``domaug run`` INPUT folder) it is the
    generator ``domaug run --seed SEED`` uses for that file's variant, so the sheet
    shows exactly the outputs a run would write; else streams spawned from ``seed``.
    """
    if rel is not None:
        from ..batch import seeding

        return seeding.generator(seed, seeding.seed_key(rel, variant))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(variant),)))


def run_variants(pipeline, sample: Mapping[str, Any], n: int, seed: int, rel: str | None = None) -> list[dict]:
    """``n`` augmented copies of ``sample``; variant k is reproducible from (seed, rel, k)."""
    from ..targets import validate_sample

    base = validate_sample({k: v for k, v in sample.items() if k != "applied"})
    return [pipeline.run(dict(base), variant_rng(seed, k, rel)) for k in range(n)]


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


def _constructor_args(name: str) -> tuple[str, ...]:
    """The public parameter names of a registered transform (empty when unknown)."""
    import inspect

    try:
        from ..registry import get_transform_class

        cls = get_transform_class(name)
        return tuple(k for k in inspect.signature(cls.__init__).parameters if k not in ("self", "p"))
    except Exception:
        return ()


def key_params(params: Mapping[str, Any], limit: int = 2, prefer: Sequence[str] = ()) -> str:
    """The first ``limit`` short drawn parameters, those named in ``prefer`` first (seeds left out)."""
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
    return " ".join(shown)


def caption_for(applied: Sequence[Mapping[str, Any]], title: str = "") -> list[str]:
    """One caption line per applied transform, e.g. ``driving.Fog visibility_m=212``."""
    lines = [title] if title else []
    for entry in applied:
        name = str(entry.get("name", "?"))
        params = entry.get("params") or {}
        lines.append(f"{name} {key_params(params, prefer=_constructor_args(name))}".rstrip())
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

    Cells take the shape of the first image (the original), see :func:`sheet_geometry`.
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


def preview_sheet(pipeline, sample: Mapping[str, Any], *, n: int = 8, seed: int = 0, bands: Any = None,
                  window: Sequence[float] | None = None, composite: str = "true", slices: str = "middle",
                  cell: int = 256, title: str = "original", rel: str | None = None):
    """Run ``pipeline`` ``n`` times on ``sample`` and lay out original + variants (Pillow image).

    ``rel``: the file's path relative to a run's INPUT, to draw the variants ``domaug run`` makes.
    """
    from ..display import render_all

    variants = run_variants(pipeline, sample, n, seed, rel)
    view, images = render_all(sample, variants, bands=bands, window=window, composite=composite,
                              slices=slices)
    captions = [[title, view.label] if view.label else [title]]
    captions += [caption_for(v.get("applied", []), f"aug{k} (seed {seed})") for k, v in enumerate(variants)]
    return contact_sheet(images, captions, cell=cell)


def _parse_window(ctx, param, value):
    if value is None:
        return None
    try:
        center, width = (float(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected CENTER,WIDTH (e.g. 40,400), got {value!r}") from None
    if width <= 0:
        raise click.BadParameter(f"window width must be > 0, got {width:g}")
    return center, width


@click.command("preview")
@click.argument("pipeline")
@click.argument("file", type=click.Path(exists=True))
@click.option("-n", "--variants", "n", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Number of augmented variants.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Root seed.")
@click.option("--bands", default=None, help="Bands to show: names or indices, e.g. nir,red,green.")
@click.option("--false-colour", "false_colour", is_flag=True, help="NIR-red-green when bands are named.")
@click.option("--window", default=None, callback=_parse_window, help="CT window CENTER,WIDTH (e.g. 40,400).")
@click.option("--slices", type=click.Choice(["middle", "orthogonal"]), default="middle", show_default=True,
              help="Volumes: the middle slice or three orthogonal middle slices.")
@click.option("--crop", default=2048, show_default=True, type=click.IntRange(0),
              help="Preview the central CROP×CROP window of larger 2-D images (0: the whole image).")
@click.option("--cell", default=256, show_default=True, type=click.IntRange(32, 2048), help="Cell size in pixels.")
@click.option("--out", "out", default="preview.png", show_default=True, type=click.Path(dir_okay=False),
              help="PNG contact sheet to write.")
def command(pipeline, file, n, seed, bands, false_colour, window, slices, crop, cell, out):
    """Write a PNG contact sheet of FILE and n variants made by PIPELINE (a YAML/JSON file or a
    transform name), windowed for viewing (CT window, percentile stretch, chosen bands) and
    captioned with the key drawn parameters.

    FILE may be a folder: its first item is shown (e.g. a whole DICOM series as a volume).
    Variant k is drawn exactly as `domaug run PIPELINE DIR OUT --seed S` draws x.aug{k}
    for a file x at the top of DIR, so the sheet previews what a run will write."""
    pipe = load_pipeline(pipeline)
    sample, rel = read_item(file)
    sample, note = centre_crop(sample, crop)
    if note:
        click.echo(f"note: {note}", err=True)
    sheet = preview_sheet(pipe, sample, n=n, seed=seed, bands=bands, window=window,
                          composite="false" if false_colour else "true", slices=slices, cell=cell,
                          title=rel, rel=rel)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    click.echo(f"wrote {out} ({sheet.width}x{sheet.height}, original + {n} variants)")
