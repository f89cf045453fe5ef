"""The sidecar convention: side targets stored next to an image, named after it.

For an input ``photo.png`` (stem ``photo``, the name without its last suffix):

============================  ==============  ==========================================
file                          target          content
============================  ==============  ==========================================
``photo.mask.png``            ``mask``        label map (8/16-bit gray PNG, or ``.tif``,
                                              ``.tiff``, ``.npy``), the image's H×W
``photo.<name>_mask.png``     ``<name>_mask`` same, e.g. ``photo.lesion_mask.png``
``photo.boxes.json``          ``bboxes``      ``[[x_min, y_min, x_max, y_max, label...], ...]``
                                              (pixels), or ``{"bboxes": [...]}``
``photo.keypoints.json``      ``keypoints``   ``[[x, y, ...], ...]`` or ``{"keypoints": [...]}``
============================  ==============  ==========================================

Outputs follow the same rule: ``photo.aug0.png`` gets ``photo.aug0.mask.png`` (same
extension as the input's sidecar), ``photo.aug0.boxes.json``, ... A mask created by the
pipeline (e.g. ``cloud_mask``) is written as ``photo.aug0.cloud_mask.png``. Files
matching these patterns are never treated as inputs themselves.

Field targets may bring their own sidecar files: a plugin declares the target with a codec
(``register(name, "field", sidecar=codec)``, e.g. driving's ``depth``: KITTI PNG, Cityscapes
disparity, float ``.npy``/TIFF/PFM). The codec has ``claims(file_name)`` (its files: never inputs,
reported by ``domaug run`` when they pair with no image), ``ignores(file_name)`` (companion files,
never inputs), ``find(image_path, folder_names) -> [paths]`` (more than one is an error),
``read(path, image_path) -> array`` and ``write(value, dest, source_file, source_image) -> [paths]``
(``source_file`` the input's sidecar or None; files named with :func:`sidecar_path` of ``dest``).
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FormatError, TargetError
from .base import sidecar_path

MASK_EXTS = (".png", ".tif", ".tiff", ".npy")
_MASK = re.compile(r"\.(mask|[A-Za-z0-9_]+_mask)(\.png|\.tif|\.tiff|\.npy)$", re.IGNORECASE)
_POINTS = re.compile(r"\.(boxes|keypoints)\.json$", re.IGNORECASE)
_JSON_TARGET = {"boxes": "bboxes", "keypoints": "keypoints"}


def is_sidecar(name: str) -> bool:
    """True for file names of the sidecar convention (``x.mask.png``, ``x.boxes.json``...) and of
    the plugins' field sidecars (driving's ``x.depth.png``...)."""
    if _MASK.search(name) or _POINTS.search(name):
        return True
    return any(c.claims(name) or c.ignores(name) for c in _field_codecs().values())


def _field_codecs() -> dict[str, Any]:
    from ..targets import field_sidecars

    return field_sidecars()


def _field_files(path: Path) -> dict[str, list[Path]]:
    """Field target name → the files its codec pairs with the image ``path`` (empty lists left out)."""
    codecs = _field_codecs()
    if not codecs:
        return {}
    try:
        names = _name_set(str(path.parent), os.stat(path.parent).st_mtime_ns)
    except OSError:
        return {}
    found = {target: codec.find(path, names) for target, codec in codecs.items()}
    return {target: files for target, files in found.items() if files}


def unpaired(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """The field sidecar files among ``paths`` (a folder walk) that pair with none of its other files."""
    codecs = _field_codecs()
    claimed = [p for p in paths if any(c.claims(p.name) for c in codecs.values())]
    if not claimed:
        return []
    paired = {f for p in paths if not is_sidecar(p.name) for files in _field_files(p).values() for f in files}
    return [(p, UNPAIRED) for p in claimed if p not in paired]


#: the reason ``domaug run`` gives (always shown, not only with ``--debug``) for an unpaired field sidecar
UNPAIRED = ("a field sidecar (depth/disparity) that pairs with no image: name it after one, "
            "e.g. x.depth.png beside x.png")


def stem_of(path: Path) -> str:
    return path.name[: len(path.name) - len(path.suffix)] if path.suffix else path.name


@functools.lru_cache(maxsize=256)
def _listing(folder: str, mtime_ns: int) -> tuple[str, ...]:
    try:
        return tuple(sorted(os.listdir(folder)))
    except OSError:
        return ()


@functools.lru_cache(maxsize=256)
def _name_set(folder: str, mtime_ns: int) -> frozenset[str]:
    """The listing as a set (one object per folder state: codecs may cache on it)."""
    return frozenset(_listing(folder, mtime_ns))


def find_sidecars(path: Path) -> dict[str, Path]:
    """Target name → sidecar file for the image ``path``."""
    path = Path(path)
    folder = str(path.parent)
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return {}
    prefix = stem_of(path) + "."
    found: dict[str, Path] = {}
    for name in _listing(folder, mtime):
        if not name.startswith(prefix) or name == path.name:
            continue
        rest = name[len(prefix) - 1:]  # ".mask.png"
        m = _MASK.fullmatch(rest)
        if m:
            found.setdefault(m.group(1), path.parent / name)
            continue
        m = _POINTS.fullmatch(rest)
        if m:
            found[_JSON_TARGET[m.group(1).lower()]] = path.parent / name
    for target, files in _field_files(path).items():
        found.setdefault(target, files[0])
    return found


def _read_mask(path: Path) -> np.ndarray:
    ext = path.suffix.lower()
    if os.path.getsize(path) == 0:
        raise FormatError(path, "empty sidecar file (0 bytes)")
    try:
        if ext == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif ext in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(path)
        else:
            from PIL import Image

            with Image.open(path) as im:
                if im.mode not in ("L", "P", "1", "I;16", "I;16B", "I"):
                    raise FormatError(path, f"mask sidecar must be a gray or palette image, got mode {im.mode}")
                arr = np.asarray(im)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error is a broken sidecar
        raise FormatError(path, f"cannot read mask sidecar: {type(exc).__name__}: {exc}") from None
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        raise FormatError(path, f"mask sidecar must hold integer labels, got {arr.dtype}")
    return arr


def _read_points(path: Path, target: str) -> np.ndarray:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(path, f"not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        data = data.get(target, data.get("boxes"))
    width = 4 if target == "bboxes" else 2
    try:
        arr = np.asarray(data if data else np.zeros((0, width)), dtype=np.float64)
    except (TypeError, ValueError):
        raise FormatError(path, f"{target} must be a list of rows of numbers") from None
    if arr.ndim != 2 or arr.shape[1] < width:
        raise FormatError(path, f"{target} must be rows of at least {width} numbers, got shape {arr.shape}")
    return arr


def _clip_boxes(boxes: np.ndarray, spatial_shape: Sequence[int]) -> np.ndarray:
    """Boxes clipped to the image (``[0, W] × [0, H]``); boxes left with no area (wholly
    outside) are dropped together with their label columns. Non-finite rows are kept as
    read (the sample check reports them)."""
    h, w = (float(v) for v in spatial_shape[-2:])
    out = boxes.copy()
    finite = np.isfinite(out[:, :4]).all(axis=1)
    sub = out[finite]
    sub[:, [0, 2]] = np.clip(sub[:, [0, 2]], 0.0, w)
    sub[:, [1, 3]] = np.clip(sub[:, [1, 3]], 0.0, h)
    out[finite] = sub
    keep = ~finite | ((out[:, 2] > out[:, 0]) & (out[:, 3] > out[:, 1]))
    return out[keep]


def read_sidecars(path: Path, spatial_shape: Sequence[int]) -> dict[str, np.ndarray]:
    """Every side target found next to ``path`` (masks checked against ``spatial_shape``)."""
    targets: dict[str, np.ndarray] = {}
    fields = _field_files(Path(path))
    for target, file in sorted(find_sidecars(path).items()):
        if target in fields:
            targets[target] = _read_field(target, fields[target], Path(path), spatial_shape)
            continue
        if target in ("bboxes", "keypoints"):
            points = _read_points(file, target)
            if target == "bboxes" and len(spatial_shape) >= 2:
                points = _clip_boxes(points, spatial_shape)
            targets[target] = points
            continue
        mask = _read_mask(file)
        if tuple(mask.shape) != tuple(spatial_shape):
            raise FormatError(
                file, f"mask sidecar is {mask.shape}, the image {tuple(spatial_shape)}"
            )
        targets[target] = mask
    return targets


def _read_field(target: str, files: list[Path], image: Path, spatial_shape: Sequence[int]) -> np.ndarray:
    """A field sidecar through its codec; two files for one image, or a size mismatch, is an error."""
    if len(files) > 1:
        raise FormatError(image, f"{len(files)} {target} sidecars pair with it "
                                 f"({', '.join(f.name for f in files)}): keep one")
    value = np.asarray(_field_codecs()[target].read(files[0], image))
    if tuple(value.shape) != tuple(spatial_shape):
        size = lambda s: "×".join(str(v) for v in reversed(tuple(s)))  # noqa: E731 - W×H, as image sizes are said
        raise FormatError(files[0], f"{target} is {size(value.shape)} but the image is {size(spatial_shape)}")
    from ..targets import TARGET_CHECKS

    check = TARGET_CHECKS.get(target)
    if check is not None:
        try:
            check(target, value)
        except TargetError as exc:  # named after the file that holds the bad values
            raise FormatError(files[0], str(exc)) from None
    return value


def _write_mask(mask: np.ndarray, dest: Path) -> Path:
    ext = dest.suffix.lower()
    fits16 = mask.size == 0 or (mask.min() >= 0 and mask.max() < 65536)
    if ext == ".npy" or not fits16:
        dest = dest.with_suffix(".npy")
        with open(dest, "wb") as f:
            np.save(f, mask, allow_pickle=False)
        return dest
    arr = mask.astype(np.uint8 if mask.max(initial=0) < 256 and mask.dtype.itemsize == 1 else np.uint16)
    if ext in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(dest, arr, photometric="minisblack", software="domaug")
    else:
        from PIL import Image

        Image.fromarray(arr).save(dest, format="PNG")
    return dest


def write_sidecars(sample: Mapping[str, Any], dest: Path, source: Path, *, mask_ext: str = ".png") -> list[Path]:
    """Write ``sample``'s masks, boxes and keypoints next to ``dest``; returns the files.

    A mask keeps the extension of the input's sidecar; ``mask_ext`` is the one of a mask the
    input had no sidecar for (``.npy`` for formats whose masks may be 3-D volumes).
    """
    from ..targets import kind_of

    existing = find_sidecars(source) if source is not None else {}
    written: list[Path] = []
    for name in sorted(sample):
        if name in ("applied", "image", "meta"):
            continue
        try:
            kind = kind_of(name)
        except Exception:  # noqa: BLE001 - unknown extra keys are not sidecars
            continue
        value = sample[name]
        if kind == "mask":
            ext = existing[name].suffix.lower() if name in existing else mask_ext
            written.append(_write_mask(np.asarray(value), sidecar_path(dest, f".{name}{ext}")))
        elif kind == "field" and name in _field_codecs():
            files = _field_files(Path(source)).get(name) if source is not None else None
            written.extend(_field_codecs()[name].write(np.asarray(value), dest, files[0] if files else None,
                                                       source))
        elif kind in ("bboxes", "keypoints"):
            suffix = ".boxes.json" if kind == "bboxes" else ".keypoints.json"
            target = sidecar_path(dest, suffix)
            rows = np.asarray(value, dtype=np.float64).tolist()
            target.write_text(json.dumps(rows) + "\n", encoding="utf-8")
            written.append(target)
    return written
