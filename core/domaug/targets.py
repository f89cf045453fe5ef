"""The sample: a dict of named targets, and what each target name means.

A sample is what users pass as keywords (``t(image=..., mask=..., meta=...)``):

- ``image``: H×W, H×W×C (any number of bands), or a volume D×H×W[×C]
- ``mask`` and every ``*_mask``: integer label map over the spatial grid
- ``bboxes``: N×(4+k) pixel ``x_min, y_min, x_max, y_max`` plus k label columns
- ``keypoints``: N×(2+k) pixel ``x, y`` plus k extra columns
- fields: a physical quantity per pixel, resampled linearly (driving's ``depth`` in metres)
- ``valid``: boolean nodata mask, False = nodata
- ``meta``: domain facts (``spacing``, ``band_names``, ``wavelengths_nm``, ``bit_depth``,
  ``transform``, ``crs``, ``nodata``, ``modality``, ``spatial_ndim``, ``valid_range``)

The core knows the kinds and the generic names; domain targets (``depth``,
``transmission``, ``cloud_mask``...) are declared by their plugins through the
``register_targets`` hook (or by users with :func:`register_target`), with an optional
check of their values.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from . import plugins
from .errors import TargetError

#: Target name → kind. Kinds decide how spatial transforms move a target.
TARGET_KINDS: dict[str, str] = {
    "image": "image",
    "mask": "mask",
    "bboxes": "bboxes",
    "keypoints": "keypoints",
    "valid": "valid",
    "meta": "meta",
}
#: target name → check(name, value) raising TargetError, declared with the target
TARGET_CHECKS: dict[str, Callable[[str, Any], None]] = {}
#: field target name → its sidecar codec (files beside an image; see :mod:`domaug.formats.sidecar`)
TARGET_SIDECARS: dict[str, Any] = {}
#: field targets that spatial transforms resample by nearest neighbour (measurements with holes: depth)
NEAREST_FIELDS: set[str] = set()
SIDECAR_METHODS = ("claims", "ignores", "find", "read", "write")
KINDS = ("image", "mask", "bboxes", "keypoints", "field", "valid", "meta")
#: Keys the library adds to outputs; accepted on input and passed through.
PASSTHROUGH = ("applied",)

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def register_target(name: str, kind: str, check: Callable[[str, Any], None] | None = None,
                    sidecar: Any = None, nearest: bool = False) -> None:
    """Declare a new target name (e.g. ``"lesion_mask"``), its kind, and optionally
    ``check(name, value)`` raising :class:`TargetError` for values that make no sense; for a
    field, the ``sidecar`` codec that finds, reads and writes it beside an image file, and
    ``nearest=True`` when spatial transforms must resample it by nearest neighbour (a measured
    depth: no distance invented between an object and the background, NaN holes kept as holes)."""
    if kind not in KINDS:
        raise TargetError(f"target kind must be one of {KINDS}, got {kind!r}")
    existing = TARGET_KINDS.get(name)
    if existing is not None and existing != kind:
        raise TargetError(f"target {name!r} is already declared as {existing!r}")
    if (sidecar is not None or nearest) and kind != "field":
        raise TargetError(f"only field targets take a sidecar codec or nearest=True, {name!r} is a {kind}")
    missing = [m for m in SIDECAR_METHODS if sidecar is not None and not callable(getattr(sidecar, m, None))]
    if missing:
        raise TargetError(f"the sidecar codec of {name!r} ({type(sidecar).__name__}) lacks {', '.join(missing)}")
    TARGET_KINDS[name] = kind
    if check is not None:
        TARGET_CHECKS[name] = check
    if sidecar is not None:
        TARGET_SIDECARS[name] = sidecar
    if nearest:
        NEAREST_FIELDS.add(name)


_sidecars_collected = False


def field_sidecars() -> dict[str, Any]:
    """Field target name → sidecar codec, the plugins' included (asked once)."""
    global _sidecars_collected
    if not _sidecars_collected:
        _sidecars_collected = True
        _collect_plugin_targets()
    return TARGET_SIDECARS


def _collect_plugin_targets() -> bool:
    """Load the plugins and ask them for their targets; True when new names came."""
    before = len(TARGET_KINDS)
    plugins.load_plugins()
    plugins.collect("register_targets", lambda _plugin, _owner, *args, **kw: register_target(*args, **kw))
    return len(TARGET_KINDS) > before


def kind_of(name: str) -> str:
    """The kind of a target name; ``*_mask`` names are masks."""
    if name in TARGET_KINDS:
        return TARGET_KINDS[name]
    if name.endswith("_mask"):
        return "mask"
    if _collect_plugin_targets() and name in TARGET_KINDS:
        return TARGET_KINDS[name]
    import difflib

    close = difflib.get_close_matches(name, list(TARGET_KINDS), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise TargetError(
        f"unknown target {name!r} (known: {', '.join(sorted(TARGET_KINDS))}, or any '*_mask'){hint}"
    )


class Layout(NamedTuple):
    """How the image array is laid out: spatial axes first, then optional channels."""

    spatial_ndim: int  # 2 or 3
    has_channels: bool
    spatial_shape: tuple[int, ...]
    n_channels: int

    @property
    def is_volume(self) -> bool:
        return self.spatial_ndim == 3


def layout_of(sample: Mapping[str, Any], prefer_volume: bool = False) -> Layout:
    """Decide whether a 3-D image is H×W×C or a D×H×W volume.

    In order: ``meta["spatial_ndim"]``; a 3-entry ``meta["spacing"]``; another
    spatial target with the image's full shape; ``prefer_volume`` (set by volume-first
    transforms such as the medical ones); otherwise H×W×C.
    """
    shape = sample["image"].shape
    if len(sample) == 1:  # an image alone: its layout depends on its shape only (the per-call case)
        key = (shape, prefer_volume)
        found = _IMAGE_ONLY_LAYOUTS.get(key)
        if found is None:
            if len(_IMAGE_ONLY_LAYOUTS) > 256:
                _IMAGE_ONLY_LAYOUTS.clear()
            found = _IMAGE_ONLY_LAYOUTS[key] = _layout_of(sample, shape, prefer_volume)
        return found
    return _layout_of(sample, shape, prefer_volume)


#: (shape, prefer_volume) → the layout of a sample holding nothing but that image
_IMAGE_ONLY_LAYOUTS: dict[tuple[tuple[int, ...], bool], Layout] = {}


def _layout_of(sample: Mapping[str, Any], shape: tuple[int, ...], prefer_volume: bool) -> Layout:
    ndim = len(shape)
    if ndim == 2:
        return Layout(2, False, shape, 1)
    if ndim == 4:
        return Layout(3, True, shape[:3], shape[3])
    if ndim != 3:
        raise TargetError(f"image must be 2-D, 3-D or 4-D, got shape {shape}")
    declared = _declared_spatial_ndim(sample.get("meta"))
    if declared is None and len(sample) > 1 and _has_full_shape_grid(sample, shape):
        declared = 3
    if declared is None:
        declared = 3 if prefer_volume else 2
    if declared == 3:
        return Layout(3, False, shape, 1)
    return Layout(2, True, shape[:2], shape[2])


def _declared_spatial_ndim(meta: Mapping[str, Any] | None) -> int | None:
    """What meta says: ``spatial_ndim``, else 3 for a 3-entry ``spacing``; None when silent."""
    if not meta:
        return None
    declared = meta.get("spatial_ndim")
    if declared is None and meta.get("spacing") is not None and len(meta["spacing"]) == 3:
        declared = 3
    return declared


def _has_full_shape_grid(sample: Mapping[str, Any], shape: tuple[int, ...]) -> bool:
    """True when a mask, field or valid target has the image's full 3-D shape (so: a volume)."""
    for name, value in sample.items():
        if name == "image" or not isinstance(value, np.ndarray):
            continue
        if value.shape == shape and _kind_or_none(name) in ("mask", "field", "valid"):
            return True
    return False


def _kind_or_none(name: str) -> str | None:
    try:
        return kind_of(name)
    except TargetError:
        return None


def validate_sample(targets: Mapping[str, Any]) -> dict[str, Any]:
    """Check target names, types and shapes; return a shallow-copied sample dict."""
    if len(targets) == 1:  # the common call t(image=array): one check, no layout work
        image = targets.get("image")
        if (isinstance(image, np.ndarray) and image.dtype.type in SUPPORTED_DTYPES and image.size
                and 2 <= image.ndim <= 4):
            return {"image": image}
    if "image" not in targets:
        raise TargetError("a sample needs an 'image' target")
    sample: dict[str, Any] = {}
    for name, value in targets.items():
        if name in PASSTHROUGH:
            sample[name] = list(value)
            continue
        kind = kind_of(name)  # an unknown name is refused even when its value is None
        if value is not None:
            sample[name] = _as_target(name, kind, value)
    _check_image(sample["image"])
    spatial_shape = layout_of(sample).spatial_shape
    for name, value in sample.items():
        if name in PASSTHROUGH or name == "image":
            continue
        _CHECKS[kind_of(name)](name, value, spatial_shape)
        check = TARGET_CHECKS.get(name)
        if check is not None:
            check(name, value)
    return sample


def _as_target(name: str, kind: str, value: Any) -> Any:
    """The value as the sample holds it: meta a fresh dict, points an array, the rest arrays."""
    if kind == "meta":
        if not isinstance(value, Mapping):
            raise TargetError(f"meta must be a dict, got {type(value).__name__}")
        return dict(value)
    if isinstance(value, np.ndarray):
        return value
    if kind in ("bboxes", "keypoints"):
        return np.asarray(value, dtype=np.float64)
    raise TargetError(f"{name} must be a numpy array, got {type(value).__name__}")


def _check_image(image: np.ndarray) -> None:
    if image.dtype.type not in SUPPORTED_DTYPES:
        raise TargetError(
            f"image dtype must be one of uint8, uint16, int16, float32, float64, got {image.dtype}"
        )
    if image.size == 0:
        raise TargetError(f"image is empty (shape {image.shape})")


def _check_grid(name: str, value: np.ndarray, spatial_shape: tuple[int, ...]) -> None:
    if value.shape != spatial_shape:
        raise TargetError(f"{name} must have the image's spatial shape {spatial_shape}, got {value.shape}")


def _check_mask(name: str, value: np.ndarray, spatial_shape: tuple[int, ...]) -> None:
    _check_grid(name, value, spatial_shape)
    if not np.issubdtype(value.dtype, np.integer) and value.dtype != bool:
        raise TargetError(f"{name} must be an integer label map, got dtype {value.dtype}")


def _check_valid(name: str, value: np.ndarray, spatial_shape: tuple[int, ...]) -> None:
    _check_grid(name, value, spatial_shape)
    if value.dtype != bool:
        raise TargetError(f"valid must be a boolean array, got dtype {value.dtype}")


def _check_bboxes(name: str, value: np.ndarray, spatial_shape: tuple[int, ...]) -> None:
    if value.ndim != 2 or (value.shape[0] and value.shape[1] < 4):
        raise TargetError(f"bboxes must be N×(4+k) xyxy, got shape {value.shape}")
    if value.size and not np.isfinite(value[:, :4]).all():
        raise TargetError("bboxes contain NaN or infinite coordinates")


def _check_keypoints(name: str, value: np.ndarray, spatial_shape: tuple[int, ...]) -> None:
    if value.ndim != 2 or (value.shape[0] and value.shape[1] < 2):
        raise TargetError(f"keypoints must be N×(2+k) xy, got shape {value.shape}")


def _no_check(name: str, value: Any, spatial_shape: tuple[int, ...]) -> None:
    return None


#: kind → the shape/dtype check of one target of that kind
_CHECKS: dict[str, Callable[[str, Any, tuple[int, ...]], None]] = {
    "mask": _check_mask, "field": _check_grid, "valid": _check_valid, "bboxes": _check_bboxes,
    "keypoints": _check_keypoints, "meta": _no_check, "image": _no_check,
}


def valid_of(sample: Mapping[str, Any]) -> np.ndarray | None:
    """The boolean valid mask: the ``valid`` target, else derived from ``meta['nodata']``."""
    valid = sample.get("valid")
    if valid is not None:
        return valid
    meta = sample.get("meta") or {}
    nodata = meta.get("nodata")
    if nodata is None:
        return None
    image = sample["image"]
    bad = nodata_pixels(image, nodata, layout_of(sample).has_channels)
    return ~bad if bad.any() else None


def nodata_pixels(image: np.ndarray, nodata: float, has_channels: bool) -> np.ndarray:
    """Boolean map of the pixels whose every band equals ``nodata`` (NaN matches NaN)."""
    if not has_channels:
        return np.isnan(image) if np.isnan(nodata) else image == nodata
    bands = image.shape[-1]
    if np.isnan(nodata):
        if image.dtype.kind != "f":
            return np.zeros(image.shape[:-1], bool)
        bad = np.isnan(image[..., 0])
        for k in range(1, bands):
            bad &= np.isnan(image[..., k])
        return bad
    if image.dtype.kind in "ui":
        info = np.iinfo(image.dtype)
        if not (info.min <= nodata <= info.max and float(nodata).is_integer()):
            return np.zeros(image.shape[:-1], bool)  # no pixel can hold it
        width = image.itemsize * bands
        if width in (2, 4, 8) and image.flags.c_contiguous:
            # one compare per pixel: the pixel's bytes as one integer against the pattern
            word = np.dtype(f"u{width}")
            pattern = np.full(bands, int(nodata), dtype=image.dtype).view(word)[0]
            return image.view(word)[..., 0] == pattern
    bad = image[..., 0] == nodata
    for k in range(1, bands):
        bad &= image[..., k] == nodata
    return bad
