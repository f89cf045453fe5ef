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
    maps = site_coefficients(h, w, tuple(float(g) for g in gains))
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


def camera_matrix(gains) -> np.ndarray:
    """(3, 3) float32 K: camera channel c (rows) of linear sRGB (columns), CCM⁻¹[c, j]·gains[c]."""
    return (CCM_INV * np.asarray(gains, np.float32)[:, None]).astype(np.float32)


@functools.lru_cache(maxsize=2)
def site_coefficients(h: int, w: int, gains: tuple) -> np.ndarray:
    """(3, H, W) float32: K_j at each photosite = CCM⁻¹[c, j]·gains[c] for the site's channel c
    (cached per frame size: building it costs more than using it)."""
    k = camera_matrix(gains)
    maps = np.empty((3, h, w), np.float32)
    for dr, dc, c in RGGB:
        maps[:, dr::2, dc::2] = k[c][:, None, None]
    maps.flags.writeable = False
    return maps


@functools.lru_cache(maxsize=2)
def _site_gains(h: int, w: int, gains: tuple) -> np.ndarray:
    """(H, W) float32: ``gains[c]``·:data:`RAW_MAX` at each photosite of channel c (cached)."""
    out = np.empty((h, w), np.float32)
    for dr, dc, c in RGGB:
        out[dr::2, dc::2] = np.float32(gains[c] * RAW_MAX)
    out.flags.writeable = False
    return out


def expose(raw: np.ndarray, shot: float, read: float, seed: int, floor: bool = True) -> np.ndarray:
    """In place: the photosites saturate at full scale, then shot and read noise (one normal
    sample per photosite: x + N(0, shot·x⁺ + read), :func:`_add_noise_cv2`) and the ADC's
    floor at 0 (left to :func:`to_raw16`'s saturation when ``floor`` is False)."""
    clip_max(raw, 1.0)
    if (shot > 0 or read > 0) and raw.size:
        cv2 = cv2_module()
        if cv2 is not None and raw.ndim == 2 and raw.flags.c_contiguous and raw.size < 2**31 and raw.shape[1] < 2**20:
            _add_noise_cv2(cv2, raw, shot, read, seed)
        else:
            _add_noise_numpy(raw, shot, read, seed)
    return clip_min(raw, 0.0) if floor else raw


def _byte_normal_table(shot: float, read: float) -> np.ndarray:
    """256 N(0, 1) quantiles (unit variance) × √shot (× √read without shot noise)."""
    scale = np.sqrt(2.0 * shot) if shot > 0 else np.sqrt(2.0 * read)  # sensor's table is N(0, ½)
    return (sensor._half_normal_table() * np.float32(scale)).astype(np.float32)


def _noise_bytes(n: int, seed: int) -> np.ndarray:
    """``n`` random bytes from ``seed`` (raw PCG64 words)."""
    return np.random.PCG64(seed).random_raw(max(1, -(-n // 8))).view(np.uint8)[:n]


def _add_noise_numpy(raw: np.ndarray, shot: float, read: float, seed: int) -> None:
    """The numpy twin of :func:`_add_noise_cv2` (the same noise)."""
    nz = np.take(_byte_normal_table(shot, read), _noise_bytes(raw.size, seed)).reshape(raw.shape)
    if shot > 0:
        nz *= np.sqrt(np.maximum(raw, np.float32(0.0)) + np.float32(read / shot))
    raw += nz


def _add_noise_cv2(cv2, raw: np.ndarray, shot: float, read: float, seed: int) -> None:
    """``raw += √(shot·max(raw, 0) + read)·n`` in five OpenCV passes: n ~ N(0, 1) on the 256
    equiprobable quantiles of one random byte per photosite (unit variance exactly, tails at
    ±2.9σ: the shape of the noise is lost in the 16-bit codes and the demosaicking; half the
    draws and lookups of :func:`sensor.fast_normal`), √shot folded into its table and
    ``read/shot`` added before the square root."""
    h, w = raw.shape
    codes = _noise_bytes(raw.size, seed)
    table = _byte_normal_table(shot, read)
    nz, sd = buffer("noise", (h, w)), buffer("noise_sd", (h, w))
    cv2.LUT(codes.reshape(h, w), table, dst=nz)
    if shot <= 0:
        cv2.add(raw, nz, dst=raw)
        return
    cv2.threshold(raw, 0.0, 0.0, cv2.THRESH_TOZERO, dst=sd)  # negative signal counts as 0
    cv2.add(sd, float(read / shot), dst=sd)
    cv2.sqrt(sd, dst=sd)
    cv2.accumulateProduct(sd, nz, raw)


def to_raw16(raw: np.ndarray, wb_gains: np.ndarray) -> np.ndarray:
    """White-balanced 16-bit codes (H×W uint16 scratch) of the mosaic: channel gains on its sites,
    rounded and saturated at :data:`RAW_MAX` (highlights clip to white, as in a camera)."""
    out = buffer("raw16", raw.shape, np.uint16)
    cv2 = cv2_module()
    if cv2 is not None and raw.size and raw.shape[1] < 2**20 and raw.flags.c_contiguous:
        gains = _site_gains(raw.shape[0], raw.shape[1], tuple(float(g) for g in wb_gains))
        cv2.multiply(raw, gains, dst=out, dtype=cv2.CV_16U)  # rounds and saturates (negatives to 0)
        return out
    for dr, dc, c in RGGB:
        if wb_gains[c] != 1.0:
            sub = raw[dr::2, dc::2]
            sub *= np.float32(wb_gains[c])
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
        return _lookup16(cv2 if rgb16.size else None, rgb16, _srgb8_of_raw16())
    planes = [np.multiply(rgb16[..., c], np.float32(1.0 / RAW_MAX), dtype=np.float32) for c in range(3)]
    return radiometry.encode_planes(planes, image, meta)


#: Full scale of the signed 15-bit codes of :func:`develop`'s OpenCV path.
RAW15_MAX = 32767.0


def develop(raw: np.ndarray, wb_gains: np.ndarray, method: str, denoise: float, image: np.ndarray,
            meta: Mapping[str, Any] | None) -> np.ndarray:
    """The exposed mosaic (float32, floored at 0) through the camera's ISP to ``image``'s
    encoding: white balance and ADC, demosaicking, colour correction with the chroma denoise
    (:func:`colour_process`), output encoding. With OpenCV in signed 15-bit codes (0…32767,
    demosaicked as unsigned): the chroma term is signed, so its upsampling and addition are
    OpenCV's fast int16 passes, and a negative (out-of-gamut) value encodes to 0 by the table."""
    cv2 = cv2_module()
    h, w = raw.shape
    if cv2 is None or min(h, w) < 8 or max(h, w) >= 32768 or not raw.flags.c_contiguous:
        rgb16 = demosaic(to_raw16(raw, wb_gains), method)
        colour_process(rgb16, denoise)
        return encode16(rgb16, image, meta)
    codes = buffer("raw15", (h, w), np.int16)
    gains = _site_gains(h, w, tuple(float(g) * RAW15_MAX / RAW_MAX for g in wb_gains))
    cv2.multiply(raw, gains, dst=codes, dtype=cv2.CV_16S)  # rounds; saturates at 32767
    rgb = demosaic(codes.view(np.uint16), method).view(np.int16)
    _colour15(cv2, rgb, denoise)
    if radiometry.is_srgb8(image, meta):
        return _lookup16(cv2, rgb.view(np.uint16), _srgb8_of_raw15())
    lin = np.maximum(rgb, 0).astype(np.float32) * np.float32(1.0 / RAW15_MAX)
    return radiometry.encode_planes([np.ascontiguousarray(lin[..., c]) for c in range(3)], image, meta)


def _colour15(cv2, rgb: np.ndarray, denoise: float, ccm: np.ndarray = CCM) -> None:
    """:func:`colour_process` in place on signed 15-bit codes (H×W×3 int16, 0…32767 in)."""
    h, w = rgb.shape[:2]
    chroma = np.float32(denoise) * (np.eye(3, dtype=np.float32) - np.outer(np.ones(3, np.float32), LUMA))
    keep = (np.eye(3, dtype=np.float32) - chroma) @ ccm
    if denoise <= 0:
        cv2.transform(rgb, keep, dst=rgb)
        return
    small = rgb.view(np.uint16)
    for _ in range(2):  # two 2×2 block means = one 4×4 block mean
        small = cv2.resize(small, (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    moved = cv2.transform(small.view(np.int16), chroma @ ccm)  # signed chroma of the low-pass
    moved = cv2.resize(moved, (w, h), dst=buffer("isp_moved15", (h, w, 3), np.int16), interpolation=cv2.INTER_LINEAR)
    cv2.transform(rgb, keep, dst=rgb)
    cv2.add(rgb, moved, dst=rgb)


def _lookup16(cv2, codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[codes]`` for 16-bit codes (OpenCV's LUT where it takes 16-bit indices, else numpy)."""
    if cv2 is not None and codes.flags.c_contiguous and codes.size < 2**31:
        try:
            return cv2.LUT(codes.reshape(1, -1), table).reshape(codes.shape)
        except cv2.error:  # OpenCV 4.x: 8-bit indices only
            pass
    return np.take(table, codes)


@functools.lru_cache(maxsize=1)
def _srgb8_of_raw15() -> np.ndarray:
    """uint8 sRGB code of each signed 15-bit code read as unsigned (negative codes, ≥ 32768: 0)."""
    table = np.zeros(65536, np.uint8)
    table[:32768] = linear_to_srgb8(np.arange(32768, dtype=np.float32) / np.float32(RAW15_MAX))
    table.flags.writeable = False
    return table
