"""A tiny PNG codec for 16-bit colour images, which Pillow reduces to 8 bits.

Reads non-interlaced 16-bit RGB / RGBA / gray+alpha PNGs (all five row filters) and
writes them with the Sub filter and zlib level 6, plus ``tEXt`` chunks. Everything
else goes through Pillow (:mod:`domaug.formats.png`).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import FormatError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: colour type → channels
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def header(head: bytes) -> tuple[int, int, int, int, int] | None:
    """(width, height, bit_depth, colour_type, interlace) from a file's first bytes."""
    if len(head) < 33 or head[:8] != SIGNATURE or head[12:16] != b"IHDR":
        return None
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    return w, h, depth, ctype, interlace


def _chunks(data: bytes, path: Path):
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos: pos + 4])
        kind = data[pos + 4: pos + 8]
        body = data[pos + 8: pos + 8 + length]
        if len(body) < length or pos + 12 + length > len(data):
            raise FormatError(path, f"truncated PNG (chunk {kind.decode('latin-1')!r} cut short)")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return
    raise FormatError(path, "truncated PNG (no IEND chunk)")


def _unfilter(raw: np.ndarray, h: int, stride: int, bpp: int, path: Path) -> np.ndarray:
    rows = raw.reshape(h, stride + 1)
    out = np.zeros((h, stride), np.uint8)
    prior = np.zeros(stride, np.int32)
    for y in range(h):
        ftype = int(rows[y, 0])
        line = rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 1:
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 0xFF
        elif ftype == 2:
            cur = (line + prior) & 0xFF
        elif ftype in (3, 4):
            cur = line.copy()
            for x in range(stride):
                left = cur[x - bpp] if x >= bpp else 0
                up = prior[x]
                if ftype == 3:
                    pred = (left + up) >> 1
                else:
                    ul = prior[x - bpp] if x >= bpp else 0
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                cur[x] = (cur[x] + pred) & 0xFF
        else:
            raise FormatError(path, f"corrupt PNG (row filter {ftype})")
        out[y] = cur
        prior = cur
    return out


def read16(path: Path, data: bytes) -> tuple[np.ndarray, dict[str, str]]:
    """Decode a 16-bit PNG with alpha or colour; returns (H×W×C uint16, text chunks)."""
    idat, text, hdr = [], {}, None
    for kind, body in _chunks(data, path):
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tEXt" and b"\0" in body:
            key, value = body.split(b"\0", 1)
            text[key.decode("latin-1")] = value.decode("latin-1")
    if hdr is None:
        raise FormatError(path, "corrupt PNG (no IHDR chunk)")
    w, h, depth, ctype, _, _, interlace = hdr
    if interlace:
        raise FormatError(path, "interlaced 16-bit colour PNG is not supported; re-save it non-interlaced")
    channels = CHANNELS[ctype]
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise FormatError(path, f"corrupt PNG image data: {exc}") from None
    stride = w * channels * 2
    if len(raw) != h * (stride + 1):
        raise FormatError(path, f"truncated PNG ({len(raw)} of {h * (stride + 1)} image bytes)")
    pixels = _unfilter(np.frombuffer(raw, np.uint8), h, stride, channels * 2, path)
    image = pixels.view(">u2").reshape(h, w, channels).astype(np.uint16)
    return image, text


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write16(path: Path, image: np.ndarray, text: Mapping[str, str]) -> None:
    """Encode an H×W×C (C = 2, 3, 4) uint16 image as a 16-bit PNG."""
    h, w, c = image.shape
    ctype = {2: 4, 3: 2, 4: 6}[c]
    data = np.ascontiguousarray(image.astype(">u2")).view(np.uint8).reshape(h, w * c * 2)
    bpp = c * 2
    filtered = data.astype(np.int16)
    filtered[:, bpp:] = (filtered[:, bpp:] - data[:, :-bpp].astype(np.int16)) & 0xFF
    rows = np.concatenate([np.ones((h, 1), np.uint8), filtered.astype(np.uint8)], axis=1)
    body = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, ctype, 0, 0, 0))]
    for key, value in text.items():
        body.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1", "replace")))
    body.append(_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)))
    body.append(_chunk(b"IEND", b""))
    Path(path).write_bytes(b"".join(body))
