"""Pure kernels for a wet road: darker asphalt under a water film, and a Fresnel-weighted mirror image.

Only the GROUND pixels of the scene layout get wet (not cars, trees, sky or the ego hood). On
a flat wet road the mirror image of a point at height Y and distance Z lies where the point
mirrored below the ground, (X, −Y, Z), projects: an object standing on the road at contact
row y_c reflects about that row (row y shows row 2·y_c − y), the sky and distant objects
about the horizon. Each ground pixel's reflection is weighted by Schlick's Fresnel term at
its grazing angle times the share of its area under a smooth water film (puddles); what the
film reflects does not enter the asphalt, so the diffuse part is ``keep·(1 − weight)``
(Lekner & Dorf 1988: wet surfaces are darker; Jensen et al. 1999: a water layer over a
diffuse surface).
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Mapping

import numpy as np

from domaug.kit import cv2_module

from .layout import GROUND, SKY, VERTICAL
from .road import road_texture
from .scene import scale_add, upsample
from .scratch import buffer


def schlick_fresnel(cos_theta: np.ndarray, r0: float = 0.02) -> np.ndarray:
    """Reflectance R = R0 + (1 − R0)(1 − cos θ)^5 (Schlick 1994; R0 = 0.02 for water)."""
    return r0 + (1.0 - r0) * (1.0 - cos_theta) ** 5


def road_labels(labels: np.ndarray) -> np.ndarray:
    """The layout's labels with lane markings and other thin gaps in the road (narrower than
    3 % of the width, between ground cells of the same row) called GROUND: paint gets wet too,
    and a marking is not an object standing on the road."""
    ground = labels == GROUND
    size = max(3, int(0.03 * labels.shape[1]) | 1)
    cv2 = cv2_module()
    if cv2 is not None and ground.size:  # a max then a min along rows (window clipped at the edges)
        line = np.ones((1, size), np.uint8)
        closed = cv2.erode(cv2.dilate(ground.view(np.uint8), line), line).view(bool)
    else:
        from scipy.ndimage import maximum_filter1d, minimum_filter1d

        closed = minimum_filter1d(maximum_filter1d(ground, size, axis=1, mode="nearest"), size, axis=1,
                                  mode="nearest")
    out = labels.copy()
    out[closed & (labels != SKY)] = GROUND
    return out


def mirror_axes(labels: np.ndarray, k: int, horizon_row: float) -> np.ndarray:
    """The row (full-resolution pixel-edge coordinate) each coarse GROUND cell reflects about.

    Going up its column from a ground cell, the first cell that is not ground is what the
    reflected ray meets first: a vertical object stands there, so the axis is its contact
    row (the edge below that cell); sky (or nothing) above: the horizon. Non-ground cells
    get the horizon too (they carry no reflection)."""
    hs = labels.shape[0]
    rows = np.arange(hs, dtype=np.int32)[:, None]
    # the last non-ground cell at or above each cell, its row and label packed in one int32
    code = np.maximum.accumulate(np.where(labels != GROUND, rows * 8 + labels, -1), axis=0)
    top, above = code >> 3, code & 7
    axis = np.where((code < 0) | (above == SKY), np.float32(horizon_row), ((top + 1) * k).astype(np.float32))
    return np.maximum(axis, np.float32(horizon_row)).astype(np.float32)


def mirror_sources(labels: np.ndarray, k: int, horizon_row: float, rows: np.ndarray, w: int, h: int,
                   col_step: int = 1) -> np.ndarray:
    """Flat indices (len(rows) × ⌈w/col_step⌉, intp) of the pixel each road pixel (row in
    ``rows``, every ``col_step``-th column) shows in the wet road's mirror (see
    :func:`mirror_axes`). A source that lands on the ground again (an object lower than the
    mirror distance, road seen beyond it) is replaced by the horizon mirror (sky or far
    objects). Evaluated per coarse column."""
    hs, ws = labels.shape
    axes = mirror_axes(labels, k, horizon_row)
    y = rows.astype(np.float32)[:, None]
    src = np.rint(2.0 * axes[np.minimum(rows // k, hs - 1)] - y - 1.0)  # len(rows) × ws
    np.clip(src, 0, h - 1, out=src)
    src = src.astype(np.intp)
    lands = np.take_along_axis(labels, np.minimum(src // k, hs - 1), axis=0)
    sky_src = np.clip(np.rint(2.0 * horizon_row - y - 1.0), 0, h - 1).astype(np.intp)
    src = np.where(lands == GROUND, sky_src, src)
    x = np.arange(0, w, col_step, dtype=np.intp)
    out = src[:, np.minimum(x // k, ws - 1)]
    out *= w
    out += x[None, :]
    return out


class WetRoad:
    """A wet road on the layout's GROUND pixels, for linear planes (one plane at a time).

    A wet road pixel is ``plane·gain + mirror·weight`` with, per pixel of the road rows
    (rows ``y0``…H−1):

    - ``weight = ground · R(θ) · cover``: Schlick's Fresnel term at the grazing angle of the
      road row (≈ 0.25 at 5 m, 0.72 at 20 m for a camera 1.3 m high) times ``cover``, the
      share of the surface under a smooth water film (0–1, e.g. a thin film plus puddles);
    - ``gain = 1 − ground·(1 − keep) − keep·weight``: off the road 1; on it the soaked asphalt's
      albedo ``keep`` (Lekner & Dorf 1988) times the light the film lets in, 1 − R·cover;
    - the mirror: each road pixel shows the pixel :func:`mirror_sources` gives, evaluated on
      every 4th road row and every 2nd column, blurred (see :meth:`coarse_mirror`),
      interpolated across and repeated down.

    ``ground`` is the layout's ground share (coarse labels upsampled, 0 inside ``boxes``).
    Composites fold the terms into their own passes with :meth:`gain`, :meth:`weight` and
    :meth:`add_mirror`.
    """

    #: The mirror image is evaluated on every STEP-th road row, blurred vertically and repeated.
    STEP = 4
    #: ... and on every COL_STEP-th column (its narrowest blur spans ≥ 3 columns), then interpolated.
    COL_STEP = 2

    def __init__(self, shape: tuple[int, int], camera: Mapping[str, float], labels: np.ndarray, k: int, *,
                 wetness: float, cover: np.ndarray, film: float = 0.0, boxes: np.ndarray | None = None) -> None:
        h, w = shape
        self.h, self.w = h, w
        vh, f, ch = float(camera["horizon_row"]), float(camera["focal_length_px"]), float(camera["camera_height_m"])
        self.y0 = y0 = int(np.clip(np.ceil(vh + 0.5), 0, h))
        self.active = y0 < h and wetness > 0 and bool((labels == GROUND).any())
        if not self.active:
            return
        labels = road_labels(_boxes_stand(labels, boxes, k))
        rows = np.arange(y0, h, dtype=np.float64) + 0.5
        z = f * ch / np.maximum(rows - vh, 1e-3)
        fresnel = schlick_fresnel(ch / np.hypot(ch, z)).astype(np.float32)[:, None]  # per road row
        ground = upsample((labels == GROUND).astype(np.float32), (h, w), out=buffer("wet_ground", (h, w)))[y0:]
        for r0, r1, c0, c1 in _road_rects(boxes, y0, h, w):
            ground[r0:r1, c0:c1] = 0.0
        self.keep = np.float32(1.0 - 0.4 * wetness)
        sample_rows = np.minimum(np.arange(y0, h, self.STEP) + min(self.STEP // 2, h - 1 - y0), h - 1)
        self.src = mirror_sources(labels, k, vh, sample_rows, w, h, col_step=self.COL_STEP)
        puddle = cover[sample_rows - y0, :: self.COL_STEP] - np.float32(film)  # the puddles' share of the reflection
        self.puddle = np.clip(puddle / np.float32(max(1.0 - film, 1e-6)), 0.0, 1.0)
        wgt = cover  # (H − y0)×W, overwritten
        wgt *= fresnel
        wgt *= ground
        self._weight = wgt
        gain = np.multiply(ground, np.float32(self.keep - 1.0), out=ground)  # −ground·(1 − keep)
        gain += np.float32(1.0)
        scale_add(wgt, -float(self.keep), gain)
        self._gain = gain

    def gain(self, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out`` (road rows) = g[y0:]·gain: darkening and film transmission folded into a gain."""
        return np.multiply(g[self.y0 :], self._gain, out=out)

    def weight(self, g_rows: np.ndarray | None = None) -> np.ndarray:
        """The reflection weight per road pixel (kept; times ``g_rows`` in place when given)."""
        if g_rows is not None:
            self._weight *= g_rows
        return self._weight

    def coarse_mirror(self, plane: np.ndarray) -> np.ndarray:
        """The blurred mirror image of ``plane`` on every 4th road row (⌈(H − y0)/4⌉×W, a
        scratch buffer valid until the next call): the thin film over the asphalt's texture
        reflects a rough, long lobe (a box of 6 % of H down, 1 % of W across), puddles
        (rippled by the drops) a sharper one (1.5 % of H, 0.3 % of W), mixed by the puddles'
        share. Formed on every 2nd column and interpolated linearly across."""
        coarse = plane.ravel().take(self.src, out=buffer("mirror_rows", self.src.shape))
        cols = self.w / self.COL_STEP
        rough = _box_blur(coarse, max(1, int(0.01 * cols) | 1), max(3, int(0.06 * self.h / self.STEP) | 1),
                          buffer("mirror_rough", coarse.shape))
        sharp = _box_blur(coarse, max(1, int(0.003 * cols) | 1), max(1, int(0.015 * self.h / self.STEP) | 1),
                          buffer("mirror_sharp", coarse.shape))
        sharp -= rough
        sharp *= self.puddle
        sharp += rough
        return _widen(sharp, self.w, buffer("mirror_wide", (sharp.shape[0], self.w)))

    def add_mirror(self, plane: np.ndarray, weight: np.ndarray, out: np.ndarray) -> np.ndarray:
        """In place: ``out += mirror(plane)·weight`` ((H − y0)×W road rows), each coarse mirror
        row multiplying its 4 road rows by broadcasting (the repeated image is never built)."""
        coarse = self.coarse_mirror(plane)
        n, k = out.shape[0], self.STEP
        full = n // k
        rows_ok = all(a.strides == (4 * self.w, 4) for a in (weight, out))  # reshapes are views
        if full and rows_ok:
            tmp = buffer("mirror_product", (full, k, self.w))
            np.multiply(weight[: full * k].reshape(full, k, self.w), coarse[:full, None, :], out=tmp)
            road = out[: full * k].reshape(full, k, self.w)
            road += tmp
        elif full:
            for j in range(k):
                out[j : full * k : k] += weight[j : full * k : k] * coarse[:full]
        if full * k < n:
            out[full * k :] += weight[full * k :] * coarse[full]
        return out


def _widen(a: np.ndarray, w: int, out: np.ndarray) -> np.ndarray:
    """``a`` (rows × ⌈w/2⌉, column j at full column 2j) interpolated linearly to w columns."""
    if a.shape[1] == w:
        np.copyto(out, a)
        return out
    cv2 = cv2_module()
    if cv2 is not None and a.shape[0] and w < 32768:  # (pixel centres: a quarter-pixel shift, under the blur)
        return cv2.resize(a, (w, a.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
    x = np.arange(w, dtype=np.float32) / np.float32(2.0)
    j0 = np.minimum(x.astype(np.intp), a.shape[1] - 1)
    j1 = np.minimum(j0 + 1, a.shape[1] - 1)
    f = x - j0
    np.multiply(a[:, j1], f, out=out)
    out += a[:, j0] * (np.float32(1.0) - f)
    return out


def _box_blur(a: np.ndarray, size_x: int, size_y: int, out: np.ndarray) -> np.ndarray:
    """A box blur of ``size_y`` rows × ``size_x`` columns, edges replicated, into ``out``."""
    cv2 = cv2_module()
    if cv2 is not None and a.shape[0] and a.shape[1] < 32768:  # same window and edges as uniform_filter
        return cv2.blur(a, (size_x, size_y), dst=out, borderType=cv2.BORDER_REPLICATE)
    from scipy.ndimage import uniform_filter

    return uniform_filter(a, size=(size_y, size_x), mode="nearest", output=out)


def _boxes_stand(labels: np.ndarray, boxes: np.ndarray | None, k: int) -> np.ndarray:
    """``labels`` with the coarse cells inside the xyxy ``boxes`` (full-resolution pixels) made
    VERTICAL: a labelled object stands on the road, whatever colour it has."""
    if boxes is None or not len(boxes):
        return labels
    out = labels.copy()
    hs, ws = labels.shape
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=np.float64)[:, :4] / k:
        r0, r1 = int(np.clip(np.floor(y0), 0, hs)), int(np.clip(np.ceil(y1), 0, hs))
        c0, c1 = int(np.clip(np.floor(x0), 0, ws)), int(np.clip(np.ceil(x1), 0, ws))
        out[r0:r1, c0:c1] = VERTICAL
    return out


def _road_rects(boxes: np.ndarray | None, y0: int, h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles (rows relative to ``y0``) of the xyxy boxes that reach below row ``y0``."""
    rects = []
    if boxes is not None and len(boxes):
        for x0, b0, x1, b1 in np.asarray(boxes, dtype=np.float64)[:, :4]:
            r0, r1 = int(np.clip(np.floor(b0), 0, h)), int(np.clip(np.ceil(b1), 0, h))
            c0, c1 = int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.ceil(x1), 0, w))
            if max(r0, y0) < r1 and c0 < c1:
                rects.append((max(r0, y0) - y0, r1 - y0, c0, c1))
    return rects


def water_cover(shape: tuple[int, int], camera: Mapping[str, float], seed: int, *, film: float,
                puddle_fraction: float) -> np.ndarray:
    """The share of each road pixel under a smooth water film ((H − y0)×W scratch, y0 the
    first road-plane row): ``film`` everywhere (the film over soaked asphalt) plus puddles on
    ≈ ``puddle_fraction`` of the road, soft-edged patches ≈ 2 m × 4 m laid on the road plane
    (thresholded smooth noise, evaluated every 4th pixel and upsampled)."""
    h, w = shape
    y0 = int(np.clip(np.ceil(camera["horizon_row"] + 0.5), 0, h))
    out = buffer("wet_cover", (h - y0, w))
    if y0 >= h:
        return out
    _, _, tex = road_texture((h, w), camera, seed, patch_cells=12.0, grid=128, step=4)
    frac = float(np.clip(puddle_fraction, 1e-4, 1.0 - 1e-4))
    thr = NormalDist().inv_cdf(1.0 - frac)  # the noise is ≈ standard normal
    tex -= np.float32(thr - 0.25)
    tex *= np.float32(2.0)  # edges 0.5 σ wide
    np.clip(tex, 0.0, 1.0, out=tex)
    tex *= np.float32(1.0 - film)
    tex += np.float32(film)
    return upsample(tex, (h - y0, w), out=out)
