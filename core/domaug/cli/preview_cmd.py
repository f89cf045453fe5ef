"""``domaug preview``: a contact sheet of one file and n augmented variants, for a visual check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import click
import numpy as np

from ..sheet import caption_for, contact_sheet


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
    from ..gallery import folder_items, read_planned

    items, _ = folder_items(path)
    if not items:
        raise FormatError(path, "no readable image in this folder")
    return read_planned(path, items[0]), items[0].rel


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
