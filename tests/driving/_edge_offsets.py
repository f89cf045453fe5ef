"""Where a veil's sky/crown edge sits against the image's own edge, column by column."""

from __future__ import annotations

import numpy as np


def sky_edge_offsets(is_sky: np.ndarray, field: np.ndarray, lum: np.ndarray, columns: range,
                     rows: tuple[int, int], half_band: int) -> np.ndarray:
    """|row of the field's steepest step − row of the image's| in a band around the first non-sky
    row of each column that starts in sky, ends it within ``rows`` and shows a clear image edge
    (a luma step ≥ 40)."""
    offsets = []
    for x in columns:
        sky = is_sky[:, x]
        edge = int(np.argmin(sky))  # the first row below the sky, from the top
        if not sky[0] or not rows[0] <= edge <= rows[1]:
            continue
        band = slice(edge - half_band, edge + half_band)
        step_image = np.abs(np.diff(lum[band, x]))
        if step_image.max() < 40:  # no clear edge in the image
            continue
        offsets.append(int(np.argmax(np.abs(np.diff(field[band, x])))) - int(np.argmax(step_image)))
    return np.abs(np.array(offsets))
