"""The camera's raw path at night: an RGGB Bayer mosaic, Poisson–Gaussian noise on it, a 12–16-bit
ADC, white balance, demosaicking, a mild ISP denoise and the output encoding.

Noise is added where a sensor makes it: one sample per photosite on the mosaic, before
demosaicking (EMVA 1288's linear camera model; Brooks et al., CVPR 2019, "Unprocessing images
for learned raw denoising"), so the demosaicked frame gets the spatial and chroma correlation of
a real pipeline. Pure kernels: no randomness except from explicit seeds.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module, linear_to_srgb8

from . import radiometry, sensor
from .scene import clip_max, clip_min
from .scratch import buffer

#: The photosites of the RGGB mosaic: (row offset, column offset, channel).
RGGB = ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 2))
#: Full scale of the 16-bit raw codes.
RAW_MAX = 65535.0
#: ISO 12232 saturation-based speed: a sensor of speed S saturates at the focal-plane exposure
#: H_sat = 78 / S lux·s; with H = q·L·t / N² (q = 0.65), the luminance at full scale is
#: L_sat = 78·N² / (q·t·S) cd/m².
SATURATION_CONSTANT = 78.0
LENS_Q = 0.65


def saturation_luminance(iso: float, exposure_s: float, f_number: float) -> float:
    """Scene luminance (cd/m²) that just saturates the sensor (ISO 12232 saturation speed)."""
    return SATURATION_CONSTANT * f_number**2 / (LENS_Q * exposure_s * iso)


def noise_of_iso(iso: float, full_well_e: float, read_noise_e: float) -> tuple[float, float]:
    """(shot, read) variances in full-scale units: at ISO ``iso`` the full scale holds
    ``full_well_e·100/iso`` electrons (gain ∝ ISO from a base ISO of 100), so the shot-noise
    variance per unit signal is the inverse of that and the read noise is referred to it."""
    electrons = full_well_e * 100.0 / max(iso, 1e-6)
    return 1.0 / electrons, (read_noise_e / electrons) ** 2


#: The camera's colour correction (camera RGB → linear sRGB after white balance; rows sum to 1):
#: a typical small-pixel CMOS sensor's, whose negative off-diagonals amplify and anti-correlate
#: the channels' noise as in a real pipeline.
CCM = np.array([[1.70, -0.55, -0.15], [-0.30, 1.60, -0.30], [0.00, -0.60, 1.60]], np.float32)
CCM_INV = np.linalg.inv(CCM.astype(np.float64)).astype(np.float32)


def mosaic(planes: list[np.ndarray], gains: np.ndarray) -> np.ndarray:
    """The RGGB mosaic (H×W float32 scratch) of three linear sRGB planes: each photosite sees its
    camera channel c = (CCM⁻¹·rgb)_c × ``gains[c]`` (the inverse colour correction, then the
    inverse white balance): Σ_j plane_j · K_j with per-site coefficient maps K_j."""
    h, w = planes[0].shape
    raw = buffer("raw_mosaic", (h, w))
    maps = _site_coefficients(h, w, tuple(float(g) for g in gains))
    cv2 = cv2_module()
    if cv2 is not None and raw.size and w < 2**20 and all(p.flags.c_contiguous for p in planes):
        tmp = buffer("raw_mosaic_tmp", (h, w))
        cv2.multiply(planes[0], maps[0], dst=raw)
        for j in (1, 2):
            cv2.multiply(planes[j], maps[j], dst=tmp)
            cv2.add(raw, tmp, dst=raw)
        return raw
    np.multiply(planes[0], maps[0], out=raw)
    for j in (1, 2):
        raw += planes[j] * maps[j]
    return raw


@functools.lru_cache(maxsize=2)
def _site_coefficients(h: int, w: int, gains: tuple) -> np.ndarray:
    """(3, H, W) float32: K_j at each photosite = CCM⁻¹[c, j]·gains[c] for the site's channel c
    (cached per frame size: building it costs more than using it)."""
    k = (CCM_INV * np.asarray(gains, np.float32)[:, None]).astype(np.float32)
    maps = np.empty((3, h, w), np.float32)
    for dr, dc, c in RGGB:
        maps[:, dr::2, dc::2] = k[c][:, None, None]
    maps.flags.writeable = False
    return maps


def expose(raw: np.ndarray, shot: float, read: float, seed: int) -> np.ndarray:
    """In place: the photosites saturate at full scale, then shot and read noise (one normal
    sample per photosite, :func:`sensor.add_poisson_gaussian`) and the ADC's floor at 0."""
    clip_max(raw, 1.0)
    if shot > 0 or read > 0:
        sensor.add_poisson_gaussian(raw, shot, read, seed)
    return clip_min(raw, 0.0)


def to_raw16(raw: np.ndarray, wb_gains: np.ndarray) -> np.ndarray:
    """White-balanced 16-bit codes (H×W uint16 scratch) of the mosaic: channel gains on its sites,
    rounded and saturated at :data:`RAW_MAX` (highlights clip to white, as in a camera)."""
    for dr, dc, c in RGGB:
        if wb_gains[c] != 1.0:
            sub = raw[dr::2, dc::2]
            sub *= np.float32(wb_gains[c])
    out = buffer("raw16", raw.shape, np.uint16)
    cv2 = cv2_module()
    if cv2 is not None and raw.size and raw.shape[1] < 2**20:
        cv2.multiply(raw, RAW_MAX, dst=out, dtype=cv2.CV_16U)  # rounds and saturates
        return out
    np.rint(np.clip(raw * np.float32(RAW_MAX), 0.0, RAW_MAX), out=raw)
    np.copyto(out, raw, casting="unsafe")
    return out


def demosaic(raw16: np.ndarray, method: str = "edge_aware") -> np.ndarray:
    """RGB (H×W×3 uint16) from the RGGB mosaic: OpenCV's bilinear or edge-aware Bayer
    conversion (into this thread's scratch: use it before the next call), else a
    normalised-convolution bilinear interpolation (numpy/scipy)."""
    cv2 = cv2_module()
    h, w = raw16.shape
    if cv2 is not None and h >= 2 and w >= 2 and max(h, w) < 32768:
        code = cv2.COLOR_BayerBG2RGB_EA if method == "edge_aware" else cv2.COLOR_BayerBG2RGB  # OpenCV names RGGB "BG"
        return cv2.cvtColor(raw16, code, dst=buffer("raw_rgb16", (h, w, 3), np.uint16))  # scratch: no page faults
    return _demosaic_bilinear(raw16)


def _demosaic_bilinear(raw16: np.ndarray) -> np.ndarray:
    """Bilinear demosaicking by normalised convolution: each channel is the weighted mean of
    its own samples in the 3×3 neighbourhood (native samples kept). Any size, even 1×1."""
    from scipy.ndimage import convolve

    h, w = raw16.shape
    raw = raw16.astype(np.float32)
    kern = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32)
    out = np.empty((h, w, 3), np.float32)
    for c in range(3):
        mask = np.zeros((h, w), np.float32)
        for dr, dc, cc in RGGB:
            if cc == c:
                mask[dr::2, dc::2] = 1.0
        num = convolve(raw * mask, kern, mode="constant")
        den = convolve(mask, kern, mode="constant")
        est = np.divide(num, den, out=raw.copy(), where=den > 0)  # no sample near: the site's own value
        out[..., c] = np.where(mask > 0, raw, est)
    return np.rint(out).astype(np.uint16)


#: Rec. 709 luma weights (the ISP's luma / chroma split).
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def colour_process(rgb16: np.ndarray, denoise: float, ccm: np.ndarray = CCM) -> np.ndarray:
    """The ISP's colour stage in place: the colour correction ``ccm`` (out-of-gamut values clip
    at 0 and full scale), and a mild chroma denoise: the chroma (each channel minus the luma)
    pulled toward its 4×-downsampled version by ``denoise`` (0..1), the luma kept — dash-cam
    ISPs smooth chroma noise far more than luma. ``out = (I − C)·M·x + C·M·lowpass(x)`` with
    ``C = s·(I − 1·Lᵀ)``, M the CCM."""
    h, w = rgb16.shape[:2]
    s = denoise if min(h, w) >= 8 else 0.0
    chroma = np.float32(s) * (np.eye(3, dtype=np.float32) - np.outer(np.ones(3, np.float32), LUMA))
    keep = (np.eye(3, dtype=np.float32) - chroma) @ ccm
    cv2 = cv2_module()
    if cv2 is None or max(h, w) >= 32768:
        x = rgb16.astype(np.float32)
        out = x @ keep.T
        if s > 0:
            from scipy.ndimage import uniform_filter

            out += uniform_filter(x, size=(5, 5, 1), mode="reflect") @ (chroma @ ccm).T
        np.clip(np.rint(out), 0.0, RAW_MAX, out=out)
        rgb16[...] = out
        return rgb16
    if s <= 0:
        cv2.transform(rgb16, keep, dst=rgb16)
        return rgb16
    small = rgb16
    for _ in range(2):  # two 2×2 block means (OpenCV's fast path) = one 4×4 block mean
        small = cv2.resize(small, (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    moved = cv2.transform(small, np.hstack([chroma @ ccm, np.full((3, 1), 32768.0, np.float32)]))  # offset: signed
    moved = cv2.resize(moved, (w, h), dst=buffer("isp_moved", (h, w, 3), np.uint16),
                       interpolation=cv2.INTER_LINEAR)  # linear: transform, then upsample
    kept = cv2.transform(rgb16, keep, dst=buffer("isp_kept", (h, w, 3), np.uint16))
    cv2.addWeighted(kept, 1.0, moved, 1.0, -32768.0, dst=rgb16)
    return rgb16


@functools.lru_cache(maxsize=1)
def _srgb8_of_raw16() -> np.ndarray:
    """uint8 sRGB code of each linear 16-bit code (65 536 entries; the core's encode table)."""
    table = linear_to_srgb8(np.arange(65536, dtype=np.float32) / np.float32(RAW_MAX))
    table.flags.writeable = False
    return table


def encode16(rgb16: np.ndarray, image: np.ndarray, meta: Mapping[str, Any] | None) -> np.ndarray:
    """The camera's linear 16-bit RGB in ``image``'s encoding: 8-bit sRGB by one table lookup
    (the display transfer the input used), else via linear float32 planes."""
    if radiometry.is_srgb8(image, meta):
        cv2 = cv2_module()
        table = _srgb8_of_raw16()
        if cv2 is not None and rgb16.size and rgb16.flags.c_contiguous and rgb16.size < 2**31:
            try:
                return cv2.LUT(rgb16.reshape(1, -1), table).reshape(rgb16.shape)
            except Exception:  # OpenCV 4.x: 8-bit indices only
                pass
        return np.take(table, rgb16)
    planes = [np.multiply(rgb16[..., c], np.float32(1.0 / RAW_MAX), dtype=np.float32) for c in range(3)]
    return radiometry.encode_planes(planes, image, meta)
