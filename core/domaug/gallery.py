"""The realism gallery: every transform of a namespace on every item of a folder, one sheet each.

For each item ``domaug run`` would read in the folder (a DICOM series is one item) the
sheet shows the input (true colour, and NIR-red-green beside it when the bands are named
so), the panels its plugin adds through ``register_gallery_panels`` (driving: scene layout
and distance), then every registered transform of the namespace at default parameters
(``p`` set to 1 so that each cell shows the effect), one cell per seed and view, captioned
with its name, seed and key drawn parameters. Masks, boxes and nodata are drawn as
``domaug preview`` draws them (:mod:`domaug.display`, the view fixed by the input); volumes
show their middle slice. 2-D inputs are first downscaled to ``max_side`` pixels
(:class:`~domaug.transforms.resize.Resize`: targets and georeferencing follow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping, Sequence

import numpy as np

#: a panel: an H×W×3 uint8 image and its caption lines
Panel = tuple[np.ndarray, list[str]]
#: colour of a cell whose transform refused the input
REFUSED_RGB = (70, 24, 24)


@dataclass
class Cell:
    rgb: np.ndarray | None  # None: an empty slot
    caption: list[str] = field(default_factory=list)


@dataclass
class Report:
    sheets: list[Path] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    problems: list[str] = field(default_factory=list)


# -- plugin panels ---------------------------------------------------------------------------
def collect_panels() -> dict[str, list[tuple[str, Callable[[Mapping[str, Any]], list[Panel]]]]]:
    """namespace → [(owner, panels_fn)] from every plugin's ``register_gallery_panels`` hook."""
    from . import plugins

    plugins.load_plugins()
    found: dict[str, list] = {}

    def add(plugin: str, owner: str, namespace: Any, panels_fn: Any) -> None:
        if not isinstance(namespace, str) or not namespace or not callable(panels_fn):
            raise TypeError(f"register_gallery_panels: needs register(namespace, panels_fn), got "
                            f"({namespace!r}, {type(panels_fn).__name__})")
        found.setdefault(namespace, []).append((owner, panels_fn))

    plugins.collect("register_gallery_panels", add, again=True)
    return found


def panel_cells(sample: Mapping[str, Any], panels: Sequence[tuple[str, Callable]]) -> tuple[list[Cell], list[str]]:
    """The plugins' panels of ``sample``; a panel function that raises or returns something
    else than ``[(H×W×3 uint8, [caption lines])]`` is a problem (reported, no cell)."""
    cells, problems = [], []
    for owner, panels_fn in panels:
        try:
            made = list(panels_fn(dict(sample)))
            for rgb, caption in made:
                rgb = np.asarray(rgb)
                if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
                    raise TypeError(f"a panel must be H×W×3 uint8, got {rgb.dtype} {rgb.shape}")
                cells.append(Cell(rgb, [str(line) for line in caption]))
        except Exception as exc:  # a broken panel must not stop the sheet
            problems.append(f"gallery panels of {owner} failed: {type(exc).__name__}: {exc}")
    return cells, problems


# -- items -----------------------------------------------------------------------------------
def folder_items(root: Path):
    """``(items, skipped)`` of ``root`` as ``domaug run`` plans them (:func:`domaug.batch.plan.plan`)."""
    from .batch.plan import plan

    return plan(Path(root))


def read_planned(root: Path, item) -> dict:
    """Read one planned item (all its files: a DICOM series, a band stack) with its sidecars."""
    from .formats.registry import get_format, read

    return dict(read([Path(root) / r for r in item.rels], get_format(item.format)))


def is_volume(sample: Mapping[str, Any]) -> bool:
    """True for a D×H×W[×C] volume (as :mod:`domaug.display` decides it)."""
    from .display import VOLUME_MODALITIES
    from .targets import layout_of

    modality = str((sample.get("meta") or {}).get("modality") or "").upper()
    return layout_of(sample, prefer_volume=modality in VOLUME_MODALITIES and sample["image"].ndim == 3).is_volume


def downscale(sample: Mapping[str, Any], max_side: int) -> tuple[dict, str | None]:
    """A 2-D sample resized (area-averaged, targets following) so its longer side is ≤ ``max_side``,
    and a note ``"1280x720 -> 640x360"`` (None when nothing changed)."""
    from .targets import validate_sample
    from .transforms.resize import Resize

    sample = validate_sample({k: v for k, v in sample.items() if k != "applied"})
    h, w = sample["image"].shape[:2]
    if max_side <= 0 or max(h, w) <= max_side or is_volume(sample):
        return sample, None
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    out = Resize(height=size[0], width=size[1])(rng=0, **sample)
    out.pop("applied", None)
    return out, f"{w}x{h} -> {size[1]}x{size[0]}"


# -- cells -----------------------------------------------------------------------------------
def views_of(sample: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``[(label, View)]``: the default view, plus NIR-red-green when bands named so exist."""
    from .display import make_view

    views = [("", make_view(sample))]
    names = {str(n).lower() for n in (sample.get("meta") or {}).get("band_names") or ()}
    if {"nir", "red", "green"} <= names:
        views.append(("NIR-R-G", make_view(sample, composite="false")))
    return views


def _render(sample: Mapping[str, Any], view, original: Mapping[str, Any] | None = None) -> np.ndarray:
    from .display import render

    created = [k for k in sample if original is not None and k not in original and k != "applied"]
    return render(sample, view, outline=created)


def input_cells(sample: Mapping[str, Any], rel: str, views, note: str | None) -> list[Cell]:
    """The input in each view, captioned with its name, size and how it is shown."""
    image = sample["image"]
    volume = is_volume(sample)
    spatial = image.shape[:3] if volume else image.shape[:2]
    size = note or "x".join(str(n) for n in reversed(spatial))
    cells = []
    for label, view in views:
        lines = [rel, f"{size} {image.dtype} (input)", " ".join(x for x in (label, view.label) if x)]
        if volume:
            lines.append(f"{image.shape[0]} slices, the middle one shown")
        cells.append(Cell(_render(sample, view), lines))
    return cells


def _with_p1(name: str):
    from .registry import get_transform

    transform = get_transform(name)
    return get_transform(name, p=1.0) if transform.p < 1.0 else transform


def transform_cells(namespace: str, sample: Mapping[str, Any], seeds: Sequence[int], views
                    ) -> tuple[list[Cell], list[str]]:
    """Every transform of ``namespace`` on ``sample`` at each seed, in each view; a transform
    that refuses the input (or fails) gets dark red cells naming the error, and a problem line."""
    from .registry import list_transforms
    from .sheet import constructor_args, param_texts

    cells, problems = [], []
    for name in list_transforms(namespace):
        for seed in seeds:
            try:
                out = _with_p1(name)(rng=np.random.default_rng(seed), **sample)
            except Exception as exc:  # shown in the sheet and reported
                text = f"{type(exc).__name__}: {exc}"
                if f"{name}: {text}" not in problems:
                    problems.append(f"{name}: {text}")
                caption = [name, f"seed={seed} refused:", text[:60], text[60:120]]
                cells += [Cell(_blank_like(cells, sample, views), caption) for _ in views]
                continue
            params = out["applied"][-1]["params"] if out.get("applied") else {}
            shown = param_texts(params, limit=4, prefer=constructor_args(name))
            for label, view in views:
                lines = [name, f"seed={seed} {label}".rstrip(), "  ".join(shown[:2]), "  ".join(shown[2:])]
                cells.append(Cell(_render(out, view, sample), lines))
    return cells, problems


def _blank_like(cells: Sequence[Cell], sample: Mapping[str, Any], views) -> np.ndarray:
    """A dark red image the size of a rendered cell (of the previous one when there is one)."""
    shape = cells[-1].rgb.shape if cells else _render(sample, views[0][1]).shape
    blank = np.empty(shape, np.uint8)
    blank[...] = REFUSED_RGB
    return blank


# -- sheets ----------------------------------------------------------------------------------
def arrange(head: Sequence[Cell], body: Sequence[Cell], per_transform: int) -> tuple[list[Cell], int]:
    """(cells, columns): the head (input, panels) then an empty slot to the end of its row, then
    the transform cells; one transform per row when it has ≥ 3 cells, else 3 to a row."""
    cols = max(3, per_transform)
    return [*head, *[Cell(None)] * (-len(head) % cols), *body], cols


def item_sheet(namespace: str, sample: Mapping[str, Any], rel: str, *, seeds: Sequence[int] = (0, 1, 2),
               panels: Sequence[tuple[str, Callable]] = (), max_side: int = 640, cell: int = 256):
    """(Pillow sheet, problems) of one item: input view(s), plugin panels, transforms × seeds × views."""
    from .sheet import contact_sheet

    sample, note = downscale(sample, max_side)
    views = views_of(sample)
    head = input_cells(sample, rel, views, note)
    extra, problems = panel_cells(sample, panels)
    body, refused = transform_cells(namespace, sample, seeds, views)
    cells, cols = arrange(head + extra, body, len(seeds) * len(views))
    sheet = contact_sheet([c.rgb for c in cells], [c.caption for c in cells], cell=cell, cols=cols)
    return sheet, problems + refused


def sheet_name(rel: str, taken: set[str]) -> str:
    """``a/b/x.png`` for item ``a/b/x.tif`` (``x_tif.png`` when ``x.png`` is taken)."""
    path = PurePosixPath(rel)
    name = path.with_suffix(".png").as_posix()
    if name in taken:
        name = path.with_name(path.name.replace(".", "_") + ".png").as_posix()
    taken.add(name)
    return name


def make_gallery(namespace: str, data: Path, out: Path, *, seeds: Sequence[int] = (0, 1, 2),
                 max_side: int = 640, cell: int = 256, echo: Callable[[str], Any] = print) -> Report:
    """Write one sheet per readable item of ``data`` into ``out``, and ``gallery.md``.

    Files no format reads and items that fail to read are in ``report.unreadable``; nothing
    is written when no item is readable.
    """
    from .errors import UnknownTransformError
    from .registry import list_transforms

    if not list_transforms(namespace):
        known = sorted({n.split(".", 1)[0] for n in list_transforms()})
        raise UnknownTransformError(f"no transform registered in namespace {namespace!r} "
                                    f"(namespaces: {', '.join(known)})")
    items, skipped = folder_items(data)
    report = Report(unreadable=list(skipped))
    panels = collect_panels().get(namespace, [])
    taken: set[str] = set()
    for item in items:
        try:
            sample = read_planned(data, item)
        except Exception as exc:  # listed by name with the reason
            report.unreadable.append((item.rel, getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"))
            continue
        try:
            sheet, problems = item_sheet(namespace, sample, item.rel, seeds=seeds, panels=panels,
                                         max_side=max_side, cell=cell)
        except Exception as exc:  # e.g. a sample the display cannot show: listed, the others go on
            report.unreadable.append((item.rel, f"read, but no sheet drawn: {type(exc).__name__}: {exc}"))
            continue
        path = out / sheet_name(item.rel, taken)
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path, format="PNG")
        report.sheets.append(path)
        report.problems += [f"{item.rel}: {p}" for p in problems]
        echo(f"wrote {path} ({sheet.width}x{sheet.height})")
    report.unreadable.sort()
    if report.sheets:
        write_index(out, namespace, report, seeds, max_side)
    return report


def write_index(out: Path, namespace: str, report: Report, seeds: Sequence[int], max_side: int) -> Path:
    """``gallery.md``: how the sheets were made, one image link per sheet, what was not shown."""
    lines = [f"# Realism gallery: {namespace}", "",
             f"`domaug gallery {namespace} --seeds {' '.join(map(str, seeds))} --max-side {max_side}`: "
             "the input (and NIR-red-green when the bands allow), the plugin's panels, then every "
             f"{namespace} transform at default parameters, one cell per seed.", ""]
    lines += [f"## {p.relative_to(out).as_posix()}\n\n![{p.stem}]({p.relative_to(out).as_posix()})\n"
              for p in report.sheets]
    if report.unreadable:
        lines += ["## Not shown", ""] + [f"- `{rel}`: {why}" for rel, why in report.unreadable] + [""]
    if report.problems:
        lines += ["## Refused or failed", ""] + [f"- {p}" for p in report.problems] + [""]
    index = out / "gallery.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index
