"""The targets a driving sample may carry beside the frame (declared through ``register_targets``)."""

from __future__ import annotations

import numpy as np

from domaug import TargetError


def check_depth(name: str, depth: np.ndarray) -> None:
    """Depth is a distance along the ray in metres: no NaN, nothing negative."""
    bad = ~(depth >= 0)  # NaN compares False: counted as bad too
    if bad.any():
        raise TargetError(
            f"{name} has {int(bad.sum())} NaN or negative pixels; give unknown depth "
            "(e.g. sky) a large distance such as 1e4 m"
        )


#: target name → (kind, check of its values or None)
TARGETS = {
    "depth": ("field", check_depth),  # metres per pixel (a depth camera, lidar, a monocular estimate)
    "transmission": ("field", None),  # fraction of scene light reaching the camera, exp(−β·d) (driving.Fog)
}
