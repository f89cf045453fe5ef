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
from .scene import scale_add
from .plane_ops import upsample
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
    code = np.where(labels != GROUND, rows * 8 + labels, -1).astype(np.int32)
    for i in range(1, hs):  # a running maximum down the columns (row by row: 3× numpy's accumulate on axis 0)
        np.maximum(code[i], code[i - 1], out=code[i])
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
    """A wet road on the layout's GROUND pixels, on the half-resolution grid (((H+1)//2)×
    ((W+1)//2), cell (i, j) = full pixels 2i…2i+1 × 2j…2j+1): the fields are smooth, and a
    composite upsamples them once, folded with its other smooth factors.

    A wet road pixel is ``plane·gain + mirror·weight`` with, per cell of the road rows
    (half rows ``y0``…h−1, ``h``, ``w`` the half grid's size):

    - ``weight = ground · R(θ) · cover``: Schlick's Fresnel term at the grazing angle of the
      road row (≈ 0.25 at 5 m, 0.72 at 20 m for a camera 1.3 m high) times ``cover``, the
      share of the surface under a smooth water film (0–1, e.g. a thin film plus puddles);
    - ``gain = 1 − ground·(1 − keep) − keep·weight``: off the road 1; on it the soaked asphalt's
      albedo ``keep`` (Lekner & Dorf 1988) times the light the film lets in, 1 − R·cover;
    - the mirror: the full-resolution pixel :func:`mirror_sources` gives, on every 2nd
      road row and every column of the half grid, blurred (see :meth:`coarse_mirror`) and
      repeated down (:meth:`add_mirror`).

    ``ground`` is the layout's ground share (coarse labels upsampled, 0 inside ``boxes``).
    Composites fold the terms into their own passes with :meth:`gain`, :meth:`weight` and
    :meth:`add_mirror`.
    """

    #: The mirror image is evaluated on every STEP-th full-resolution row (every 2nd half-grid row) …
    STEP = 4
    #: ... and on every COL_STEP-th column (one per half-grid column).
    COL_STEP = 2

    def __init__(self, shape: tuple[int, int], camera: Mapping[str, float], labels: np.ndarray, k: int, *,
                 wetness: float, cover: np.ndarray, film: float = 0.0, boxes: np.ndarray | None = None) -> None:
        fh, fw = shape
        self.full = (fh, fw)
        h, w = self.h, self.w = half_shape(shape)
        vh, f, ch = float(camera["horizon_row"]), float(camera["focal_length_px"]), float(camera["camera_height_m"])
        self.y0 = y0 = road_row0(vh, shape)
        self.active = y0 < h and wetness > 0 and bool((labels == GROUND).any())
        if not self.active:
            return
        labels = road_labels(_boxes_stand(labels, boxes, k))
        rows = 2.0 * np.arange(y0, h, dtype=np.float64) + 1.0  # the cells' centres, full-resolution rows
        z = f * ch / np.maximum(rows - vh, 1e-3)
        fresnel = schlick_fresnel(ch / np.hypot(ch, z)).astype(np.float32)[:, None]  # per road row
        ground = upsample((labels == GROUND).astype(np.float32), (h, w), out=buffer("wet_ground", (h, w)))[y0:]
        for r0, r1, c0, c1 in _road_rects(boxes, y0, h, w, scale=0.5):
            ground[r0:r1, c0:c1] = 0.0
        self.keep = np.float32(1.0 - 0.4 * wetness)
        sample_rows = np.minimum(2 * np.arange(y0, h, 2) + 2, fh - 1)  # the centres of 4 full rows
        self.src = mirror_sources(labels, k, vh, sample_rows, fw, fh, col_step=self.COL_STEP)
        self._src_half = None
        puddle = cover[::2] - np.float32(film)  # the puddles' share of the reflection
        self.puddle = np.clip(puddle / np.float32(max(1.0 - film, 1e-6)), 0.0, 1.0)
        wgt = cover  # (h − y0)×w, overwritten
        wgt *= fresnel
        wgt *= ground
        self._weight = wgt
        gain = np.multiply(ground, np.float32(self.keep - 1.0), out=ground)  # −ground·(1 − keep)
        gain += np.float32(1.0)
        scale_add(wgt, -float(self.keep), gain)
        self._gain = gain

    def gain(self, g: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """The road rows' gain (darkening and film transmission); ``out`` = g[y0:]·gain when
        ``g`` (half grid) is given."""
        if g is None:
            return self._gain
        return np.multiply(g[self.y0 :], self._gain, out=out)

    def weight(self, g_rows: np.ndarray | None = None) -> np.ndarray:
        """The reflection weight per road cell (kept; times ``g_rows`` in place when given)."""
        if g_rows is not None:
            self._weight *= g_rows
        return self._weight

    def coarse_mirror(self, plane: np.ndarray, factor: np.ndarray | None = None) -> np.ndarray:
        """The blurred mirror image of the full-resolution ``plane`` on every 2nd road row of
        the half grid (⌈(h − y0)/2⌉×w, a scratch buffer valid until the next call), times ``factor``
        (a half-grid field, e.g. a relighting, at each source) when given: the thin film over
        the asphalt's texture reflects a rough, long lobe (a box of 6 % of H down, 1 % of W
        across), puddles (rippled by the drops) a sharper one (1.5 % of H, 0.3 % of W), mixed
        by the puddles' share."""
        coarse = plane.ravel().take(self.src, out=buffer("mirror_rows", self.src.shape))
        if factor is not None:
            if self._src_half is None:
                fw = np.int32(self.full[1])
                src = self.src.astype(np.int32)
                row = src // fw
                src -= row * fw  # the column
                src >>= 1
                row >>= 1
                row *= np.int32(self.w)
                src += row
                self._src_half = src
            coarse *= factor.ravel().take(self._src_half, out=buffer("mirror_factor", self.src.shape))
        fh = self.full[0]
        rough = _box_blur(coarse, max(1, int(0.01 * self.w) | 1), max(3, int(0.06 * fh / self.STEP) | 1),
                          buffer("mirror_rough", coarse.shape))
        sharp = _box_blur(coarse, max(1, int(0.003 * self.w) | 1), max(1, int(0.015 * fh / self.STEP) | 1),
                          buffer("mirror_sharp", coarse.shape))
        sharp -= rough
        sharp *= self.puddle
        sharp += rough
        return sharp

    def add_mirror(self, plane: np.ndarray, weight: np.ndarray, out: np.ndarray,
                   factor: np.ndarray | None = None) -> np.ndarray:
        """In place: ``out += mirror(plane·factor)·weight`` on the road rows ((h − y0)×w,
        C-contiguous), each mirror row multiplying its 2 half rows by broadcasting."""
        mirror = self.coarse_mirror(plane, factor)
        n, w = out.shape
        pairs = n // 2
        if pairs:
            tmp = buffer("mirror_product", (pairs, 2, w))
            np.multiply(weight[: 2 * pairs].reshape(pairs, 2, w), mirror[:pairs, None, :], out=tmp)
            road = out[: 2 * pairs].reshape(pairs, 2, w)
            road += tmp
        if n % 2:
            out[n - 1] += weight[n - 1] * mirror[pairs]
        return out


def half_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The half-resolution grid of an H×W frame: ((H+1)//2, (W+1)//2)."""
    return (shape[0] + 1) // 2, (shape[1] + 1) // 2


def road_row0(horizon_row: float, shape: tuple[int, int]) -> int:
    """The first half-grid row holding road-plane pixels (full rows ≥ ⌈v_h + ½⌉)."""
    y0 = int(np.clip(np.ceil(horizon_row + 0.5), 0, shape[0]))
    return min(y0 // 2, half_shape(shape)[0])


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


def _road_rects(boxes: np.ndarray | None, y0: int, h: int, w: int,
                scale: float = 1.0) -> list[tuple[int, int, int, int]]:
    """Rectangles (rows relative to ``y0``) of the xyxy boxes (times ``scale``: on a grid of
    ``scale`` × the pixels) that reach below row ``y0``."""
    rects = []
    if boxes is not None and len(boxes):
        pad = 0.0 if scale == 1.0 else 0.5  # on a coarser grid: every cell a bilinear upsampling reads in the box
        for x0, b0, x1, b1 in np.asarray(boxes, dtype=np.float64)[:, :4] * scale:
            r0, r1 = int(np.clip(np.floor(b0 - pad), 0, h)), int(np.clip(np.ceil(b1 + pad), 0, h))
            c0, c1 = int(np.clip(np.floor(x0 - pad), 0, w)), int(np.clip(np.ceil(x1 + pad), 0, w))
            if max(r0, y0) < r1 and c0 < c1:
                rects.append((max(r0, y0) - y0, r1 - y0, c0, c1))
    return rects


def water_cover(shape: tuple[int, int], camera: Mapping[str, float], seed: int, *, film: float,
                puddle_fraction: float) -> np.ndarray:
    """The share of each road cell under a smooth water film on the half grid of an H×W frame
    ((h − y0)×w scratch, see :class:`WetRoad`): ``film`` everywhere (the film over soaked
    asphalt) plus puddles on ≈ ``puddle_fraction`` of the road, soft-edged patches ≈ 2 m × 4 m
    laid on the road plane (thresholded smooth noise, evaluated every 4th pixel and upsampled)."""
    h, w = half_shape(shape)
    y0 = road_row0(float(camera["horizon_row"]), shape)
    out = buffer("wet_cover", (h - y0, w))
    if y0 >= h:
        return out
    _, _, tex = road_texture(shape, camera, seed, patch_cells=12.0, grid=128, step=4)
    if not tex.size:  # a frame a row or two high: its road cell straddles the horizon
        out.fill(film)
        return out
    frac = float(np.clip(puddle_fraction, 1e-4, 1.0 - 1e-4))
    thr = NormalDist().inv_cdf(1.0 - frac)  # the noise is ≈ standard normal
    tex -= np.float32(thr - 0.25)
    tex *= np.float32(2.0)  # edges 0.5 σ wide
    np.clip(tex, 0.0, 1.0, out=tex)
    tex *= np.float32(1.0 - film)
    tex += np.float32(film)
    return upsample(tex, (h - y0, w), out=out)
