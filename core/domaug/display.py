"""Show any sample as 8-bit RGB: band choice, intensity window, volume slices, overlays.

Pure functions (numpy only). The intensity mapping is decided once, from the
original, as a :class:`View`, and then applied unchanged to every variant so that a
contact sheet compares like with like:

- uint8: shown as is (0 → black, 255 → white), bands chosen as below;
- CT (``meta["modality"] == "CT"``, or int16 data reaching below −200 HU), or any image
  whose meta carries a DICOM window (MR...): a window, from ``window=(center, width)``,
  else ``meta["window_center"/"window_width"]`` (the first when several),
  else soft tissue (center 40 HU, width 400 HU), applied to the image as it is (the DICOM
  reader has already applied the modality LUT, so values are HU); MONOCHROME1 is inverted;
- everything else (uint16, int16, float): per-band percentile stretch, the
  ``low``–``high`` percentiles (default 2–98 %) of the original's valid pixels map to 0–255;
  a natural-colour composite of bands *named* red/green/blue (chosen by default) is
  stretched jointly instead (lowest 2 % and highest 98 % of the three bands), so that
  hues stay true (a per-band stretch turns bare soil pink and low-contrast bands white);
- bands: ``bands=`` names (from ``meta["band_names"]``) or indices; else true colour
  red/green/blue when named; ``composite="false"`` gives NIR-red-green; else the first
  three bands (alpha dropped), or gray for one or two bands;
- volumes (D×H×W[×C]): the middle slice, or ``slices="orthogonal"`` for the three
  middle planes side by side;
- overlays: masks as translucent label colours, boxes as rectangles, keypoints as
  crosses, nodata as a dark grey checkerboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import ParameterError
from .drawing import PALETTE, checker, draw_boxes, draw_keypoints, label_edges, overlay_mask  # noqa: F401
from .targets import kind_of, layout_of

SOFT_TISSUE = (40.0, 400.0)
VOLUME_MODALITIES = {"CT", "MR", "PT", "NM", "US"}


@dataclass(frozen=True)
class View:
    """A fixed recipe for turning samples into 8-bit RGB (computed from the original)."""

    bands: tuple[int, ...]  # channel indices shown (1 → gray, 3 → RGB); () when no channel axis
    lo: tuple[float, ...]  # value shown as 0, per shown band
    hi: tuple[float, ...]  # value shown as 255, per shown band
    volume: bool = False
    slices: str = "middle"  # or "orthogonal"
    invert: bool = False
    label: str = ""


# -- intensity mappings ------------------------------------------------------------------
def percentile_limits(values: np.ndarray, low: float = 2.0, high: float = 98.0,
                      valid: np.ndarray | None = None, max_samples: int = 1_000_000) -> tuple[float, float]:
    """(lo, hi) = the ``low``/``high`` percentiles of the finite, valid values (one band)."""
    v = np.asarray(values)
    if valid is not None:
        v = v[np.broadcast_to(valid, v.shape)]
    v = v.ravel()
    if np.issubdtype(v.dtype, np.floating):
        v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    if v.size > max_samples:
        v = v[:: int(np.ceil(v.size / max_samples))]
    lo, hi = (float(x) for x in np.percentile(v, [low, high]))
    if hi <= lo:
        lo, hi = float(v.min()), float(v.max())
        if hi <= lo:
            hi = lo + 1.0
    return lo, hi


def window_limits(center: float, width: float) -> tuple[float, float]:
    """(lo, hi) of a display window: ``center ± width / 2``."""
    width = max(float(width), 1e-6)
    return float(center) - width / 2.0, float(center) + width / 2.0


def to_uint8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linear map of [lo, hi] onto 0–255 with clipping (NaN → 0)."""
    scaled = (np.asarray(values, dtype=np.float32) - lo) * (255.0 / max(hi - lo, 1e-12))
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


# -- decisions -----------------------------------------------------------------------------
def is_ct(image: np.ndarray, meta: Mapping[str, Any]) -> bool:
    """CT by ``meta["modality"]``, or int16 data with air-like values (< −200)."""
    modality = str(meta.get("modality") or "").upper()
    if modality:
        return modality == "CT"
    return image.dtype == np.int16 and image.size > 0 and int(image.min()) < -200


def _first(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return float(value[0]) if len(value) else None
    return float(value)


def choose_bands(meta: Mapping[str, Any], n_channels: int, bands: Any = None,
                 composite: str = "true") -> tuple[int, ...]:
    """Channel indices to show: explicit ``bands``, else a composite from ``band_names``."""
    names = [str(n).lower() for n in (meta.get("band_names") or [])]
    if bands is not None:
        return _explicit_bands(bands, names, n_channels)
    return _default_bands(names, n_channels, composite)


def _explicit_bands(bands: Any, names: Sequence[str], n_channels: int) -> tuple[int, ...]:
    """The 1 or 3 bands asked for, by (lower-case) name or index, as indices."""
    if isinstance(bands, str):
        bands = [b.strip() for b in bands.split(",") if b.strip()]
    picked = [_band_index(b, names, n_channels) for b in bands]
    if len(picked) not in (1, 3):
        raise ParameterError(f"bands: give 1 or 3 bands, got {len(picked)}")
    return tuple(picked)


def _band_index(band: Any, names: Sequence[str], n_channels: int) -> int:
    """One band given by name (case-insensitive) or by index (negative counts from the end)."""
    if isinstance(band, str) and not band.lstrip("-").isdigit():
        if band.lower() not in names:
            raise ParameterError(f"bands: no band named {band!r} (bands: {', '.join(names) or 'unnamed'})")
        return names.index(band.lower())
    index = int(band)
    if not -n_channels <= index < n_channels:
        raise ParameterError(f"bands: index {index} out of range for {n_channels} bands")
    return index % n_channels


def _default_bands(names: Sequence[str], n_channels: int, composite: str) -> tuple[int, ...]:
    """True colour (or NIR-red-green) by name, else the first three non-alpha bands, else one."""
    wanted = ("nir", "red", "green") if composite == "false" else ("red", "green", "blue")
    if all(w in names for w in wanted):
        return tuple(names.index(w) for w in wanted)
    usable = [i for i in range(n_channels) if i >= len(names) or names[i] != "alpha"]
    if len(usable) >= 3:
        return tuple(usable[:3])
    return (usable[0] if usable else 0,)


def _is_volume(sample: Mapping[str, Any]) -> tuple[bool, bool]:
    """(volume, has_channels) of the sample's image."""
    image = sample["image"]
    meta = sample.get("meta") or {}
    prefer = str(meta.get("modality") or "").upper() in VOLUME_MODALITIES and image.ndim == 3
    lay = layout_of(sample, prefer_volume=prefer)
    return lay.is_volume, lay.has_channels


def _valid(sample: Mapping[str, Any]) -> np.ndarray | None:
    valid = sample.get("valid")
    if valid is not None:
        return np.asarray(valid, dtype=bool)
    meta = sample.get("meta") or {}
    nodata = meta.get("nodata")
    if nodata is None:
        return None
    image = sample["image"]
    bad = np.isnan(image) if (isinstance(nodata, float) and np.isnan(nodata)) else image == nodata
    volume, has_channels = _is_volume(sample)
    if has_channels:
        bad = bad.all(axis=-1)
    return ~bad if bad.any() else None


def make_view(sample: Mapping[str, Any], *, bands: Any = None, window: Sequence[float] | None = None,
              composite: str = "true", slices: str = "middle", low: float = 2.0,
              high: float = 98.0) -> View:
    """Decide how to show ``sample`` (and its variants): bands, window or stretch, slices."""
    image = np.asarray(sample["image"])
    meta = sample.get("meta") or {}
    volume, has_channels = _is_volume(sample)
    n_channels = image.shape[-1] if has_channels else 1
    shown = choose_bands(meta, n_channels, bands, composite) if has_channels else ()
    invert = _inverted(meta)
    band_label = _band_label(meta, shown, n_channels, bands) if has_channels else ""
    count = max(len(shown), 1)
    center_width = _window_of(image, meta, window)
    if center_width is not None:
        center, width = center_width
        lo, hi = window_limits(center, width)
        return View(shown, (lo,) * count, (hi,) * count, volume, slices, invert,
                    f"{band_label}window C{center:g} W{width:g}")
    if image.dtype == np.uint8:
        return View(shown, (0.0,) * count, (255.0,) * count, volume, slices, invert, band_label.strip())
    joint = bands is None and composite == "true" and _named_rgb(meta, shown)
    limits = _stretch_limits(sample, image, shown if has_channels else None, low, high, joint)
    how = "joint stretch" if joint else "stretch"
    return View(shown, tuple(lo for lo, _ in limits), tuple(hi for _, hi in limits), volume, slices,
                invert, f"{band_label}{how} {low:g}-{high:g}%")


def _inverted(meta: Mapping[str, Any]) -> bool:
    """MONOCHROME1: the lowest value is white (shown inverted)."""
    return str(meta.get("photometric") or meta.get("photometric_interpretation") or "").upper() == "MONOCHROME1"


def _band_label(meta: Mapping[str, Any], shown: Sequence[int], n_channels: int, bands: Any) -> str:
    """The shown bands' names (``"nir/red/green "``), or "" for a plain, unasked-for RGB image."""
    names = list(meta.get("band_names") or [])
    plain_rgb = n_channels == 3 and (not names or [str(n).lower() for n in names] == ["red", "green", "blue"])
    if bands is None and plain_rgb:
        return ""
    return "/".join(str(names[i]) if i < len(names) else f"b{i}" for i in shown) + " "


def _window_of(image: np.ndarray, meta: Mapping[str, Any], window: Sequence[float] | None
               ) -> tuple[float, float] | None:
    """(center, width) of the display window: given, else meta's (the first), else soft tissue for CT;
    None when the image is not windowed (no window given, not CT, no window in meta)."""
    has_window = _first(meta.get("window_center")) is not None and _first(meta.get("window_width"))
    if window is None and not is_ct(image, meta) and not has_window:
        return None
    if window is not None:
        center, width = (float(x) for x in window)
        return center, width
    center = _first(meta.get("window_center"))
    width = _first(meta.get("window_width"))
    if center is None or width is None:
        return SOFT_TISSUE
    return center, width


def _stretch_limits(sample: Mapping[str, Any], image: np.ndarray, shown: Sequence[int] | None,
                    low: float, high: float, joint: bool) -> list[tuple[float, float]]:
    """(lo, hi) per shown band (or of the whole image when ``shown`` is None): the ``low``/``high``
    percentiles of the valid pixels; one common range for all when ``joint``."""
    valid = _valid(sample)
    planes = [image] if shown is None else [image[..., i] for i in shown]
    limits = [percentile_limits(p, low, high, valid) for p in planes]
    if joint:
        limits = [(min(lo for lo, _ in limits), max(hi for _, hi in limits))] * 3
    return limits


def _named_rgb(meta: Mapping[str, Any], shown: Sequence[int]) -> bool:
    """True when the three shown bands are named red, green, blue (a natural-colour composite)."""
    if len(shown) != 3:
        return False
    lower = [str(n).lower() for n in (meta.get("band_names") or [])]
    return len(lower) > max(shown) and [lower[i] for i in shown] == ["red", "green", "blue"]


# -- rendering -------------------------------------------------------------------------------
def _planes(array: np.ndarray, slices: str, spacing: Sequence[float] | None = None) -> list[np.ndarray]:
    """Middle plane(s) of a volume array (D×H×W[×C]): axial, or axial/coronal/sagittal.

    Coronal and sagittal planes are stretched along the slice axis by the voxel aspect
    ``spacing[0] / spacing[1]`` (nearest neighbour), so anatomy keeps its proportions.
    """
    d, h, w = array.shape[:3]
    axial = array[d // 2]
    if slices != "orthogonal":
        return [axial]
    stretch = 1.0
    if spacing is not None and len(spacing) >= 3 and float(spacing[1]) > 0:
        stretch = min(max(float(spacing[0]) / float(spacing[1]), 0.1), 20.0)
    rows = np.minimum((np.arange(max(1, round(d * stretch))) / stretch).astype(int), d - 1)
    return [axial, array[:, h // 2][rows], array[:, :, w // 2][rows]]


def _gray_or_rgb(plane: np.ndarray, view: View) -> np.ndarray:
    if view.bands:
        channels = [to_uint8(plane[..., b], lo, hi) for b, lo, hi in zip(view.bands, view.lo, view.hi)]
    else:
        channels = [to_uint8(plane, view.lo[0], view.hi[0])]
    rgb = np.stack(channels * 3 if len(channels) == 1 else channels, axis=-1)
    return 255 - rgb if view.invert else rgb


def render(sample: Mapping[str, Any], view: View | None = None, *, overlays: bool = True,
           outline: Sequence[str] = ()) -> np.ndarray:
    """The sample as an H×W×3 uint8 image (``view`` from the original; computed if None).

    Masks named in ``outline`` are drawn as outlines instead of translucent fills.
    """
    view = view or make_view(sample)
    image = np.asarray(sample["image"])
    volume, has_channels = _is_volume(sample)
    if not _fits(view, image, has_channels):
        view = make_view(sample)  # a variant whose band layout changed: show it on its own terms
    valid = _valid(sample)
    spacing = (sample.get("meta") or {}).get("spacing")
    image_planes = _shown_planes(image, view, spacing, volume)
    masks = {name: _shown_planes(value, view, spacing, volume)
             for name, value in _masks(sample, image, has_channels)} if overlays else {}
    valid_planes = _shown_planes(valid, view, spacing, volume) if valid is not None else None
    marks = sample if overlays and not volume else None
    rendered = [_render_plane(plane, view, {name: planes[i] for name, planes in masks.items()},
                              valid_planes[i] if valid_planes is not None else None, outline, marks)
                for i, plane in enumerate(image_planes)]
    return _side_by_side(rendered)


def _fits(view: View, image: np.ndarray, has_channels: bool) -> bool:
    """True when ``view``'s bands exist in ``image`` (a variant may have changed its band layout)."""
    return bool(view.bands) == has_channels and not (view.bands and max(view.bands) >= image.shape[-1])


def _shown_planes(array: np.ndarray, view: View, spacing: Sequence[float] | None, volume: bool
                  ) -> list[np.ndarray]:
    """The plane(s) of ``array`` that ``view`` shows: the array itself unless it is a volume."""
    return _planes(array, view.slices, spacing) if volume else [array]


def _masks(sample: Mapping[str, Any], image: np.ndarray, has_channels: bool) -> list[tuple[str, np.ndarray]]:
    """(name, array) of the sample's mask targets that cover the image pixel for pixel."""
    found = []
    for name, value in sample.items():
        if name in ("image", "applied") or not isinstance(value, np.ndarray):
            continue
        try:
            kind = kind_of(name)
        except Exception:
            continue
        if kind == "mask" and value.shape == image.shape[: image.ndim - int(has_channels)]:
            found.append((name, value))
    return found


def _render_plane(plane: np.ndarray, view: View, masks: Mapping[str, np.ndarray], valid: np.ndarray | None,
                  outline: Sequence[str], marks: Mapping[str, Any] | None) -> np.ndarray:
    """One plane as RGB, with its masks tinted (or outlined), nodata checkered and, from ``marks``
    (the sample, for 2-D images), boxes and keypoints drawn."""
    rgb = _gray_or_rgb(plane, view)
    for name, mask in masks.items():
        rgb = overlay_mask(rgb, mask, outline=name in outline)
    if valid is not None:
        invalid = ~valid
        rgb = np.where(invalid[..., None], checker(invalid.shape), rgb)
    if marks is not None:
        if marks.get("bboxes") is not None and np.size(marks["bboxes"]):
            rgb = draw_boxes(rgb, np.asarray(marks["bboxes"]))
        if marks.get("keypoints") is not None and np.size(marks["keypoints"]):
            rgb = draw_keypoints(rgb, np.asarray(marks["keypoints"]))
    return rgb


def _side_by_side(rendered: Sequence[np.ndarray]) -> np.ndarray:
    """One image, or several (the planes of a volume) left to right, 2 black columns apart."""
    if len(rendered) == 1:
        return np.ascontiguousarray(rendered[0])
    height = max(r.shape[0] for r in rendered)
    padded = [np.pad(r, ((0, height - r.shape[0]), (0, 2), (0, 0))) for r in rendered]
    return np.ascontiguousarray(np.concatenate(padded, axis=1)[:, :-2])


def render_all(original: Mapping[str, Any], variants: Sequence[Mapping[str, Any]], **view_options: Any
               ) -> tuple[View, list[np.ndarray]]:
    """The original and its variants rendered with one :class:`View` taken from the original.

    Masks the original does not have (made by the pipeline, e.g. ``cloud_mask``) are outlined.
    """
    view = make_view(original, **view_options)
    rendered = [render(original, view)]
    for variant in variants:
        created = [k for k in variant if k not in original and k != "applied"]
        rendered.append(render(variant, view, outline=created))
    return view, rendered
