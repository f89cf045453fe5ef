"""Depth maps in the conventions users have: read into metres with NaN holes, written back.

Every reader returns the *planar* depth ``Z`` (metres along the optical axis, what KITTI,
Cityscapes, stereo and monocular estimators store), float32 H×W, with ``NaN`` where the file
holds no data and ``+inf`` for "infinitely far"; every writer takes the same and encodes it.

==================  =====================================================================
convention          encoding
==================  =====================================================================
``kitti``           16-bit PNG, ``Z = p / 256`` m, ``p = 0`` no data (KITTI depth
                    completion/prediction benchmark, Uhrig et al. 2017); written rounded,
                    ``Z`` beyond 255.996 m or non-finite as 0 (no data)
``cityscapes``      16-bit PNG of disparity ``d = (p − 1) / 256`` px for ``p > 0``, ``p = 0``
                    invalid (sky, occlusions), with the camera JSON: ``Z = B·f_x / d``
                    (``extrinsic.baseline`` m, ``intrinsic.fx`` px; Cordts et al. 2016);
                    ``p = 1`` (``d = 0``) is infinitely far
``npy`` / ``tiff``  float metres as stored (NaN = no data); float32 when written
``pfm``             Portable Float Map (``Pf`` one channel): header ``Pf``, ``W H``, a scale
                    whose sign gives the byte order (negative: little-endian), float32 rows
                    stored bottom to top
==================  =====================================================================

The ``depth`` *target* of the driving transforms is the distance along each pixel's ray,
``ℓ = Z·√(1 + ((u − c_x)/f_x)² + ((v − c_y)/f_y)²)`` (Koschmieder's law needs the path
length); :func:`planar_to_ray` and :func:`ray_to_planar` convert with the pinhole intrinsics
(the Cityscapes camera JSON's, else :func:`default_intrinsics`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from domaug import FormatError

from .camera import FOCAL_PER_WIDTH

KITTI_SCALE = 256.0  #: KITTI: metres × 256 in a uint16 PNG
CITYSCAPES_SCALE = 256.0  #: Cityscapes: disparity × 256 + 1 in a uint16 PNG
FLOAT_EXTS = (".npy", ".tif", ".tiff", ".pfm")
CONVENTIONS = ("kitti", "cityscapes", "npy", "tiff", "pfm")


def convention_of(path: Path) -> str:
    """The convention a depth file's name says: ``*disparity.png`` Cityscapes, ``.png`` KITTI, else its extension."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".png":
        return "cityscapes" if re.search(r"disparity$", path.stem, re.IGNORECASE) else "kitti"
    if ext in (".tif", ".tiff"):
        return "tiff"
    if ext in (".npy", ".pfm"):
        return ext[1:]
    raise FormatError(path, f"not a depth file: {ext or 'no extension'} (expected .png, .npy, .tif, .tiff or .pfm)")


# --- the formulas -----------------------------------------------------------------------

def kitti_to_metres(pixels: np.ndarray) -> np.ndarray:
    """KITTI depth PNG values → metres (float32), 0 → NaN (no data)."""
    z = np.asarray(pixels, dtype=np.float32) / np.float32(KITTI_SCALE)
    z[np.asarray(pixels) == 0] = np.nan
    return z


def metres_to_kitti(z: np.ndarray) -> np.ndarray:
    """Metres → KITTI uint16 (round(Z·256)); NaN, inf, ≤ 0 or beyond 255.996 m → 0 (no data)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        p = np.rint(z * KITTI_SCALE)
        ok = np.isfinite(p) & (z > 0) & (p <= 65535)
    out = np.zeros(z.shape, dtype=np.uint16)
    out[ok] = np.maximum(p[ok], 1)  # a positive depth never becomes "no data"
    return out


def cityscapes_to_metres(pixels: np.ndarray, baseline_m: float, fx_px: float) -> np.ndarray:
    """Cityscapes disparity PNG values → metres: d = (p − 1)/256, Z = B·fx/d; p = 0 → NaN, p = 1 → +inf."""
    p = np.asarray(pixels)
    d = (p.astype(np.float64) - 1.0) / CITYSCAPES_SCALE
    with np.errstate(divide="ignore"):
        z = (float(baseline_m) * float(fx_px)) / d
    z[p == 0] = np.nan
    return z.astype(np.float32)


def metres_to_cityscapes(z: np.ndarray, baseline_m: float, fx_px: float) -> np.ndarray:
    """Metres → Cityscapes uint16, p = round(256·B·fx/Z) + 1; NaN or ≤ 0 → 0, +inf → 1, nearer than
    B·fx/255.996 m clipped to 65535."""
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(z.shape, dtype=np.uint16)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.rint(CITYSCAPES_SCALE * float(baseline_m) * float(fx_px) / z) + 1.0
        ok = ~np.isnan(z) & (z > 0)
    out[ok] = np.clip(p[ok], 1, 65535)
    return out


def default_intrinsics(shape: tuple[int, int]) -> dict[str, float]:
    """The driving default pinhole: f = 0.9·W px (:data:`~.camera.FOCAL_PER_WIDTH`), principal point at the centre."""
    h, w = shape
    f = FOCAL_PER_WIDTH * w
    return {"fx": f, "fy": f, "cx": w / 2.0, "cy": h / 2.0}


def _ray_factor(shape: tuple[int, int], intr: Mapping[str, float]) -> np.ndarray:
    h, w = shape
    u = ((np.arange(w, dtype=np.float64) + 0.5 - intr["cx"]) / intr["fx"]) ** 2
    v = ((np.arange(h, dtype=np.float64) + 0.5 - intr["cy"]) / intr["fy"]) ** 2
    return np.sqrt(1.0 + v[:, None] + u[None, :])


def planar_to_ray(z: np.ndarray, intrinsics: Mapping[str, float] | None = None) -> np.ndarray:
    """Planar depth Z → distance along the ray ℓ = Z·√(1 + x² + y²) (float32; NaN and inf kept)."""
    intr = intrinsics or default_intrinsics(z.shape)
    return (np.asarray(z, dtype=np.float64) * _ray_factor(z.shape, intr)).astype(np.float32)


def ray_to_planar(dist: np.ndarray, intrinsics: Mapping[str, float] | None = None) -> np.ndarray:
    """The inverse of :func:`planar_to_ray` (float64, to keep the round trip exact before quantising)."""
    intr = intrinsics or default_intrinsics(dist.shape)
    return np.asarray(dist, dtype=np.float64) / _ray_factor(dist.shape, intr)


# --- files ------------------------------------------------------------------------------

def read_camera_json(path: Path, *, baseline: bool = True) -> dict[str, float]:
    """A Cityscapes camera JSON → ``baseline_m`` (``extrinsic.baseline``; optional with ``baseline=False``,
    for the intrinsics of a depth map), ``fx``, ``fy``, and ``cx``, ``cy`` (``u0``, ``v0``) when given."""
    path = Path(path)
    need = "extrinsic.baseline (m) and intrinsic.fx (px)" if baseline else "intrinsic.fx (px)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        intr = data["intrinsic"]
        cam = {"fx": float(intr["fx"])}
        cam["fy"] = float(intr.get("fy", cam["fx"]))
        if "u0" in intr and "v0" in intr:
            cam["cx"], cam["cy"] = float(intr["u0"]), float(intr["v0"])
        if baseline or "baseline" in data.get("extrinsic", {}):
            cam["baseline_m"] = float(data["extrinsic"]["baseline"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(path, f"cannot read camera JSON: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise FormatError(path, f"camera JSON needs {need}") from None
    if not (cam.get("baseline_m", 1.0) > 0 and cam["fx"] > 0 and cam["fy"] > 0):
        raise FormatError(path, f"camera JSON baseline and focal lengths must be > 0, got {cam}")
    return cam


def read_pfm(path: Path) -> np.ndarray:
    """A one-channel PFM as float32 H×W, first row at the top (the file stores rows bottom to top)."""
    path = Path(path)
    with open(path, "rb") as f:
        head = [f.readline().strip() for _ in range(3)]
        data = f.read()
    try:
        kind = head[0].decode("ascii")
        w, h = (int(v) for v in head[1].split())
        scale = float(head[2])
    except (UnicodeDecodeError, ValueError):
        raise FormatError(path, "not a PFM file (expected 'Pf', 'W H' and a scale on three lines)") from None
    if kind != "Pf":
        raise FormatError(path, f"PFM depth must be one channel ('Pf'), got {kind!r}")
    dtype = np.dtype("<f4" if scale < 0 else ">f4")
    if len(data) < w * h * 4:
        raise FormatError(path, f"truncated PFM: {len(data)} bytes of data for {w}×{h} floats")
    rows = np.frombuffer(data[: w * h * 4], dtype=dtype).reshape(h, w)
    return np.ascontiguousarray(rows[::-1]).astype(np.float32)


def write_pfm(path: Path, depth: np.ndarray, *, little_endian: bool = True) -> None:
    """Write float32 H×W as a one-channel PFM (rows bottom to top; scale −1 little-, +1 big-endian)."""
    arr = np.asarray(depth, dtype="<f4" if little_endian else ">f4")
    h, w = arr.shape
    with open(path, "wb") as f:
        f.write(f"Pf\n{w} {h}\n{-1.0 if little_endian else 1.0}\n".encode("ascii"))
        f.write(np.ascontiguousarray(arr[::-1]).tobytes())


def _read_png16(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode not in ("I;16", "I;16B", "I;16L", "I"):
                raise FormatError(path, f"a depth/disparity PNG must be 16-bit gray, got mode {im.mode}")
            arr = np.asarray(im)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error means a broken file
        raise FormatError(path, f"cannot read depth PNG: {type(exc).__name__}: {exc}") from None
    if arr.min(initial=0) < 0 or arr.max(initial=0) > 65535:
        raise FormatError(path, "depth PNG values outside 0..65535")
    return arr.astype(np.uint16)


def _read_float(path: Path, convention: str) -> np.ndarray:
    try:
        if convention == "npy":
            arr = np.load(path, allow_pickle=False)
        elif convention == "tiff":
            import tifffile

            arr = tifffile.imread(path)
        else:
            arr = read_pfm(path)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error means a broken file
        raise FormatError(path, f"cannot read depth: {type(exc).__name__}: {exc}") from None
    arr = np.squeeze(arr)
    if arr.ndim != 2:
        raise FormatError(path, f"depth must be one H×W channel, got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise FormatError(path, f"depth must hold numbers (metres), got {arr.dtype}")
    return arr.astype(np.float32)


def read_depth(path: Path, *, camera: Mapping[str, float] | None = None) -> np.ndarray:
    """Planar depth Z (float32 m, NaN = no data) of a depth file in the convention its name says.

    ``camera`` (``baseline_m``, ``fx``: :func:`read_camera_json`) is required for Cityscapes disparity.
    Float files keep their values, except exact 0, which exporters write for "no return": NaN.
    """
    path = Path(path)
    convention = convention_of(path)
    if convention == "kitti":
        return kitti_to_metres(_read_png16(path))
    if convention == "cityscapes":
        if camera is None:
            raise FormatError(path, "Cityscapes disparity needs its camera JSON (extrinsic.baseline, intrinsic.fx)")
        return cityscapes_to_metres(_read_png16(path), camera["baseline_m"], camera["fx"])
    z = _read_float(path, convention)
    z[z == 0] = np.nan
    return z


def write_depth(path: Path, z: np.ndarray, *, camera: Mapping[str, float] | None = None) -> Path:
    """Write planar depth Z (m, NaN = no data) in the convention ``path``'s name says; returns the path."""
    path = Path(path)
    convention = convention_of(path)
    if convention in ("kitti", "cityscapes"):
        from PIL import Image

        if convention == "kitti":
            pixels = metres_to_kitti(z)
        else:
            if camera is None:
                raise FormatError(path, "writing Cityscapes disparity needs the camera (baseline_m, fx)")
            pixels = metres_to_cityscapes(z, camera["baseline_m"], camera["fx"])
        Image.fromarray(pixels).save(path, format="PNG")
    elif convention == "npy":
        with open(path, "wb") as f:
            np.save(f, np.asarray(z, dtype=np.float32), allow_pickle=False)
    elif convention == "tiff":
        import tifffile

        tifffile.imwrite(path, np.asarray(z, dtype=np.float32), photometric="minisblack", software="domaug")
    else:
        write_pfm(path, z)
    return path


def camera_json_text(camera: Mapping[str, Any]) -> str:
    """A Cityscapes-style camera JSON for ``camera`` (baseline_m, fx[, fy, cx, cy])."""
    intr = {"fx": camera["fx"], "fy": camera.get("fy", camera["fx"])}
    if "cx" in camera:
        intr.update(u0=camera["cx"], v0=camera["cy"])
    return json.dumps({"extrinsic": {"baseline": camera["baseline_m"]}, "intrinsic": intr}, indent=2) + "\n"
