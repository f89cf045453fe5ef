"""The targets a driving sample may carry beside the frame (declared through ``register_targets``)."""

from __future__ import annotations

import numpy as np

from domaug import TargetError

from .depth_sidecar import DEPTH_SIDECAR


def check_depth(name: str, depth: np.ndarray) -> None:
    """Depth is a distance along the ray in metres: NaN (and 0) = no data, filled by the scene layout's
    prior where a transform needs a distance; +inf = infinitely far (as sky); negative values and −inf
    make no sense and are refused."""
    if depth.dtype.kind not in "fiu":
        raise TargetError(f"{name} must hold numbers (metres), got dtype {depth.dtype}")
    with np.errstate(invalid="ignore"):
        bad = depth < 0  # NaN compares False: allowed (no data); −inf is < 0
    if bad.any():
        raise TargetError(
            f"{name} has {int(bad.sum())} negative pixels (min {float(np.nanmin(depth)):.4g} m); distances are ≥ 0 m "
            "(use NaN for no data, +inf for infinitely far)"
        )


#: target name → (kind, check of its values or None)
TARGETS = {
    "depth": ("field", check_depth),  # metres per pixel (a depth camera, lidar, a monocular estimate)
    "transmission": ("field", None),  # fraction of scene light reaching the camera, exp(−β·d) (driving.Fog)
}
#: target name → its sidecar codec (files beside an image: :mod:`.depth_sidecar`)
SIDECARS = {"depth": DEPTH_SIDECAR}
#: measured fields that spatial transforms resample by nearest neighbour (no invented distances, holes kept)
NEAREST = {"depth"}
