"""The ``depth`` sidecar: which file beside an image holds its depth, read into the target, written back.

For an image ``x.png`` (stem ``x``) in one folder, its depth is one of:

- ``x.depth.png`` or ``x_depth.png``: KITTI depth PNG (uint16, metres × 256, 0 = no data);
- ``x.depth.npy``/``.tif``/``.tiff``/``.pfm`` (or ``x_depth.*``): float metres, NaN (or 0) = no data;
- ``x.disparity.png`` or ``x_disparity.png``, and for Cityscapes names
  ``<city>_<seq>_<frame>_leftImg8bit.png`` ↔ ``<city>_<seq>_<frame>_disparity.png`` (beside it, or in
  the Cityscapes tree ``disparity/<split>/<city>/`` parallel to ``leftImg8bit/<split>/<city>/``):
  Cityscapes disparity, with its camera JSON ``<base>_camera.json`` or ``<base>.camera.json`` beside
  the disparity file, beside the image, or in ``camera/<split>/<city>/``. A depth file may have one
  too (``intrinsic.fx``, ``fy``, ``u0``, ``v0``: a KITTI frame's f ≈ 721 px), else the default camera.

Two depth files for one image is an error naming both; a depth file that pairs with no image is
reported by ``domaug run`` (``skipped: <file>: ...``), never silently dropped. The file's planar
depth becomes the target's distance along the ray (:func:`~.depth_io.planar_to_ray`, with the
camera JSON's intrinsics, else the driving default camera) and goes back the same way on write:
``x.aug0.depth.png`` (same convention, ``_depth`` kept when the input used it), or
``x.aug0.disparity.png`` + ``x.aug0.camera.json`` (the input's camera JSON copied). Pixel transforms
give back the input's file bit for bit (flips too, with the default camera); resizes keep the
default camera's normalised rays; after a crop the written Z assumes the principal point at the
crop's centre (off by the ray factor's change, a few % near the edges of a wide crop).
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from domaug import FormatError
from domaug.kit import sidecar_path

from . import depth_io

_EXTS = r"(png|npy|tif|tiff|pfm)"
_DEPTH = re.compile(rf"^(?P<base>.+?)(?P<sep>[._])depth\.{_EXTS}$", re.IGNORECASE)
_DISPARITY = re.compile(r"^(?P<base>.+?)(?P<sep>[._])disparity\.png$", re.IGNORECASE)
_CAMERA = re.compile(r"^(?P<base>.+?)[._]camera\.json$", re.IGNORECASE)
_CITYSCAPES_IMAGE = "_leftImg8bit"
#: the file names after "<stem>." or "<stem>_" that hold an image's depth
_KINDS = ("depth.png", "depth.npy", "depth.tif", "depth.tiff", "depth.pfm", "disparity.png")


def _parallel(folder: Path, kind: str) -> Path | None:
    """``…/leftImg8bit/<split>/<city>`` (or ``…/disparity/…``) → ``…/<kind>/<split>/<city>``, else None."""
    parts = folder.parts
    for root in ("leftImg8bit", "disparity"):
        if len(parts) >= 3 and parts[-3] == root:
            return Path(*parts[:-3], kind, *parts[-2:])
    return None


@functools.lru_cache(maxsize=64)
def _lower_names(names: frozenset[str]) -> dict[str, str]:
    """Lower-cased name → name of a folder listing (cached per listing object)."""
    return {n.lower(): n for n in names}


class DepthSidecar:
    """The sidecar codec of the ``depth`` target (the protocol of :mod:`domaug.formats.sidecar`)."""

    def claims(self, name: str) -> bool:
        """A depth or disparity file: never an input, reported when it pairs with no image."""
        return bool(_DEPTH.match(name) or _DISPARITY.match(name))

    def ignores(self, name: str) -> bool:
        """A camera JSON: read with its disparity, never an input."""
        return bool(_CAMERA.match(name))

    def find(self, image: Path, names: Sequence[str] | frozenset[str]) -> list[Path]:
        """The depth files of ``image`` (``names``: its folder's listing); more than one is ambiguous."""
        image = Path(image)
        stem = image.name[: len(image.name) - len(image.suffix)] if image.suffix else image.name
        lower = _lower_names(frozenset(names))
        wanted = [f"{stem}{sep}{kind}".lower() for sep in "._" for kind in _KINDS]
        if stem.endswith(_CITYSCAPES_IMAGE):
            wanted.append(f"{stem[: -len(_CITYSCAPES_IMAGE)]}_disparity.png".lower())
        found = [image.parent / lower[name] for name in wanted if name in lower]
        if stem.endswith(_CITYSCAPES_IMAGE):
            base = stem[: -len(_CITYSCAPES_IMAGE)]
            tree = _parallel(image.parent, "disparity")
            if tree is not None and tree != image.parent and (tree / f"{base}_disparity.png").is_file():
                found.append(tree / f"{base}_disparity.png")
        return sorted(set(found))

    def camera_of(self, depth: Path, image: Path) -> Path | None:
        """The camera JSON of a depth file (beside it, beside the image, or in the Cityscapes tree); a
        disparity file must have one, a depth file may (its intrinsics then replace the default camera)."""
        depth, image = Path(depth), Path(image)
        base = (_DEPTH.match(depth.name) or _DISPARITY.match(depth.name)).group("base")
        stem = image.name[: len(image.name) - len(image.suffix)]
        bases = [base, stem[: -len(_CITYSCAPES_IMAGE)] if stem.endswith(_CITYSCAPES_IMAGE) else stem]
        folders = [depth.parent, image.parent, _parallel(depth.parent, "camera")]
        tried = []
        for folder in [f for f in folders if f is not None]:
            for b in bases:
                for name in (f"{b}_camera.json", f"{b}.camera.json"):
                    if (folder / name).is_file():
                        return folder / name
                    tried.append(name)
        if depth_io.convention_of(depth) != "cityscapes":
            return None
        raise FormatError(depth, f"Cityscapes disparity without its camera JSON (looked for {tried[0]} "
                                 "beside it, beside the image and in camera/<split>/<city>/)")

    def _camera(self, depth: Path, image: Path) -> tuple[Path | None, dict | None]:
        file = self.camera_of(depth, image)
        if file is None:
            return None, None
        return file, depth_io.read_camera_json(file, baseline=depth_io.convention_of(depth) == "cityscapes")

    def read(self, path: Path, image: Path) -> np.ndarray:
        """The ``depth`` target (distance along the ray, float32 m, NaN = no data) of a depth file."""
        _, camera = self._camera(Path(path), Path(image))
        z = depth_io.read_depth(path, camera=camera)
        return depth_io.planar_to_ray(z, _intrinsics(camera, z.shape))

    def write(self, depth: np.ndarray, dest: Path, source: Path | None, image: Path | None) -> list[Path]:
        """Write ``depth`` beside the output ``dest`` in the convention of ``source`` (the input's depth
        file), or as ``.depth.npy`` when the input had none; returns the files written."""
        depth = np.asarray(depth)
        if source is None:
            return [depth_io.write_depth(sidecar_path(dest, ".depth.npy"), depth_io.ray_to_planar(depth))]
        source = Path(source)
        camera_file, camera = self._camera(source, Path(image) if image is not None else source)
        if depth_io.convention_of(source) == "cityscapes":
            out = sidecar_path(dest, ".disparity.png")
        else:
            out = sidecar_path(dest, f"{_DEPTH.match(source.name).group('sep')}depth{source.suffix.lower()}")
        z = depth_io.ray_to_planar(depth, _intrinsics(camera, depth.shape))
        written = [depth_io.write_depth(out, z, camera=camera)]
        if camera_file is not None:
            written.append(sidecar_path(dest, ".camera.json"))
            shutil.copyfile(camera_file, written[-1])
        return written


def _intrinsics(camera: dict | None, shape: tuple[int, int]) -> dict[str, float]:
    """The camera JSON's pinhole when it gives the principal point, else the driving default."""
    if camera is not None and "cx" in camera:
        return {k: camera[k] for k in ("fx", "fy", "cx", "cy")}
    intr = depth_io.default_intrinsics(shape)
    if camera is not None:
        intr["fx"], intr["fy"] = camera["fx"], camera.get("fy", camera["fx"])
    return intr


#: the codec the driving plugin registers with the ``depth`` target
DEPTH_SIDECAR = DepthSidecar()
