"""Tile-by-tile processing of images larger than memory (formats with ``open_windows``).

Used when the format offers windowed I/O (:class:`domaug.formats.base.WindowedSource`),
the image has more pixels than ``DOMAUG_WINDOW_PIXELS`` (default 64 Mpx), and every
transform that can run is *window-safe*:

- class attribute ``window_safe = True``;
- ``make_params(rng, sample)`` draws from the source's ``overview()`` (a decimated
  whole-scene sample) when the source has one, else from a zero-copy stand-in array of
  the full shape (then it may use only shape, dtype and ``meta``);
- ``apply`` on a window gives the same pixels as on the whole image: the window's
  position is in ``meta["window"]`` = [row_off, col_off, height, width] (with its
  halo), ``meta["window_offset"]`` = [row_off, col_off] and ``meta["full_shape"]`` =
  [rows, cols] (e.g. for ``fractal_noise(..., offset=window_offset)``), and a transform
  that looks at neighbours declares ``window_halo(params) -> int`` pixels (the engine
  grows windows by the sum over the pipeline).

Without an overview the parameters are drawn exactly as ``Pipeline.run`` draws them
(same generator calls, same order), so the output equals a whole-image run. Either
way ``domaug replay`` (whole image, recorded parameters) reproduces the bytes. Label
maps in the windowed sample (``mask``, ``*_mask`` such as an emitted ``cloud_mask``)
are handed to the sink's ``write_targets(window, targets)`` when it has one. SSIM and
PSNR are not computed in this mode (recorded as null).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..compose import Pipeline
from ..plain import plain
from ..registry import get_transform_class
from ..transform import Transform

DEFAULT_WINDOW_PIXELS = 64 * 1024 * 1024
DEFAULT_TILE = 1024


def window_pixels() -> int:
    return int(os.environ.get("DOMAUG_WINDOW_PIXELS") or DEFAULT_WINDOW_PIXELS)


def tile_size() -> int:
    return int(os.environ.get("DOMAUG_WINDOW_TILE") or DEFAULT_TILE)


def leaves(node: Transform) -> list[Transform]:
    if isinstance(node, Pipeline):
        return [leaf for child in node.transforms for leaf in leaves(child)]
    return [node]


def pipeline_window_safe(pipeline: Transform) -> bool:
    return all(getattr(type(t), "window_safe", False) for t in leaves(pipeline))


def wants_windows(fmt: Any, pipeline: Transform) -> bool:
    return hasattr(fmt, "open_windows") and hasattr(fmt, "create_windows") and pipeline_window_safe(pipeline)


def draw(node: Transform, rng: np.random.Generator, sample: dict, applied: list) -> None:
    """The ``applied`` list ``node.run(sample, rng)`` would record, without applying anything."""
    if node.p < 1.0 and rng.random() >= node.p:
        return
    if isinstance(node, Pipeline):
        for child in node.choose(rng):
            draw(child, rng, sample, applied)
        return
    node.check_input(sample)
    applied.append({"name": node.name_for_records(), "params": plain(node.make_params(rng, sample))})


def stand_in(source: Any) -> dict:
    """A sample with a zero-copy full-size image (for ``make_params``) and the source's meta."""
    return {"image": np.broadcast_to(np.zeros((), source.dtype), tuple(source.shape)), "meta": dict(source.meta)}


def draw_applied(pipeline: Transform, rng: np.random.Generator, source: Any) -> list:
    """Draw one output's parameters: on the source's ``overview()`` when it offers one
    (a decimated whole-scene sample, so image statistics describe the whole scene), else
    on a zero-copy stand-in (``make_params`` must then need only shape, dtype and meta)."""
    from ..targets import validate_sample

    overview = getattr(source, "overview", None)
    if overview is not None:
        return list(pipeline.run(validate_sample(overview()), rng).get("applied", []))
    applied: list = []
    draw(pipeline, rng, stand_in(source), applied)
    return applied


def window_meta(meta: dict, outer: tuple, shape: tuple) -> dict:
    """``meta`` of one window: ``window`` [row_off, col_off, height, width], ``window_offset``, ``full_shape``."""
    out = dict(meta)
    out["window"] = [int(v) for v in outer]
    out["window_offset"] = [int(outer[0]), int(outer[1])]
    out["full_shape"] = [int(shape[0]), int(shape[1])]
    return out


def halo_of(applied: list) -> int:
    total = 0
    for record in applied:
        transform = get_transform_class(record["name"])()
        halo = getattr(transform, "window_halo", None)
        total += int(halo(record["params"])) if halo is not None else 0
    return total


def _window_sample(source: Any, outer: tuple, shape: tuple) -> dict:
    """The sample of one window (with its halo): every target the source reads, else the image."""
    read_sample = getattr(source, "read_sample", None)
    if read_sample is None:
        return {"image": source.read(outer), "meta": window_meta(source.meta, outer, shape)}
    sample = dict(read_sample(outer))
    sample["meta"] = window_meta(sample.get("meta") or source.meta, outer, shape)
    return sample


def _write_window(sink: Any, inner: tuple, outer: tuple, sample: dict) -> None:
    """Write the window's inner part (halo cut off): the image, and the label maps when the sink takes them."""
    r, c = inner[0] - outer[0], inner[1] - outer[1]
    sink.write(inner, np.asarray(sample["image"])[r: r + inner[2], c: c + inner[3]])
    write_targets = getattr(sink, "write_targets", None)
    if write_targets is not None:  # label maps the pipeline emitted (cloud_mask...), same window
        labels = {k: np.asarray(v)[r: r + inner[2], c: c + inner[3]] for k, v in sample.items()
                  if (k == "mask" or k.endswith("_mask")) and isinstance(v, np.ndarray) and v.ndim >= 2}
        if labels:
            write_targets(inner, labels)


def apply_windows(source: Any, sink: Any, applied: list, tile: int | None = None) -> None:
    """Apply the recorded parameters window by window (``tile`` px, default :func:`tile_size`)
    from ``source`` into ``sink``."""
    transforms = [(get_transform_class(r["name"])(), r["params"]) for r in applied]
    shape = tuple(int(s) for s in source.shape)
    for inner, outer in source.iter_windows(tile or tile_size(), halo_of(applied)):
        sample = _window_sample(source, outer, shape)
        for transform, params in transforms:
            sample = transform.apply(sample, dict(params))
        _write_window(sink, inner, outer, sample)
