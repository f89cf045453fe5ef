"""Driving transforms against Albumentations 2.0.8's weather ops on a real dash-cam frame.

The Udacity frame (``../shared/data/driving/udacity_test6.jpg``, MIT) is resized to
1024×1024 and 2048×1024 (W×H) RGB uint8, with the black car's box as a ``bboxes`` target;
a synthetic road frame is used when the shared data is absent (the note says so). Every
registered ``driving.*`` transform gets a case (``domaug.list_transforms("driving")``), so
transforms added later are picked up; the matched ones also time their nearest
Albumentations op. Albumentations' weather ops are image-space overlays with no depth
and no units, so a ratio compares cost, not effect.

Targets (issue 8): Fog ratio ≤ 0.1, SunGlare ≤ 0.2, Rain and Snow ≤ 2, and every driving
transform < 15 ms at 1024² (≥ 60 frames/s per core).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from harness import Case

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "driving" / "udacity_test6.jpg"

#: domaug name -> (label suffix, domaug params, Albumentations factory or None, note)
PEERS = {
    "Fog": ({"density_variation": 0.0}, lambda A: A.RandomFog(p=1.0), "homogeneous fog vs RandomFog"),
    "SunGlare": ({}, lambda A: A.RandomSunFlare(p=1.0), ""),
    "Rain": ({}, lambda A: A.RandomRain(p=1.0), ""),
    "Snow": ({}, lambda A: A.RandomSnow(method="texture", p=1.0), "RandomSnow method=texture"),
    "MotionBlur": ({}, lambda A: A.MotionBlur(blur_limit=(7, 15), p=1.0),
                   "domaug: radial ego-motion blur (varies per pixel); A.MotionBlur: one linear kernel"),
    "Night": ({}, lambda A: A.Compose([A.RandomBrightnessContrast(brightness_limit=(-0.6, -0.4), p=1.0),
                                       A.GaussNoise(std_range=(0.02, 0.05), p=1.0)]),
              "peer is a stand-in (RandomBrightnessContrast + GaussNoise), NOT equivalent: no lamps, "
              "no illuminant, no sensor noise model"),
    "LensDroplets": ({}, lambda A: A.Spatter(mode="rain", p=1.0), "A.Spatter mode=rain"),
    "Exposure": ({}, lambda A: A.RandomBrightnessContrast(p=1.0), "peer: RandomBrightnessContrast"),
}

#: Extra variants timed alone (label, domaug name, params).
VARIANTS = [("Fog-patchy", "Fog", {"density_variation": 0.3})]

#: Ratio targets vs Albumentations (issue 8).
TARGETS = {"Fog": 0.1, "SunGlare": 0.2, "Rain": 2.0, "Snow": 2.0}
ABS_TARGET_MS = 15.0  # every driving transform at 1024²


def road_frame(h: int, w: int) -> tuple[np.ndarray, bool]:
    """The dash-cam frame resized to h×w (and whether it is the real photo)."""
    try:
        from PIL import Image

        img = Image.open(SHARED).convert("RGB").resize((w, h), Image.BILINEAR)
        return np.ascontiguousarray(np.asarray(img)), True
    except (OSError, ImportError):
        yy, xx = np.mgrid[0:h, 0:w]
        sky = np.stack([140 + 0 * yy, 175 + 0 * yy, 230 + 0 * yy], -1)
        road = np.stack([70 + 60 * ((xx // 40) % 7 == 0)] * 3, -1)
        return np.where((yy < 0.58 * h)[..., None], sky, road).astype(np.uint8), False


def _raiser(msg: str):
    def fail():
        raise RuntimeError(msg)

    return fail


def _err(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


def cases(quick: bool = False) -> list[Case]:
    import domaug

    os.environ.setdefault("DOMAUG_NUM_THREADS", "1")  # single thread, like the peers
    try:
        import albumentations as A
    except ImportError:
        A = None
    names = [n.split(".", 1)[1] for n in domaug.list_transforms("driving")]
    jobs = [(n, n, PEERS.get(n, ({}, None, ""))[0]) for n in names]
    jobs += [(label, base, params) for label, base, params in VARIANTS if base in names]
    out = []
    for h, w in ([(1024, 1024)] if quick else [(1024, 1024), (1024, 2048)]):
        image, real = road_frame(h, w)
        boxes = np.array([[0.63 * w, 0.56 * h, 0.74 * w, 0.69 * h, 1]], float)  # the black car
        size = f"{w}x{h}x3 uint8"
        for label, name, params in jobs:
            _, make_peer, note = PEERS.get(name, ({}, None, ""))
            if label != name:
                make_peer, note = None, "variant, no peer"
            if not real:
                note = (note + "; synthetic frame (shared data absent)").strip("; ")
            targets = []
            if make_peer is not None and name in TARGETS:
                targets.append(f"ratio ≤ {TARGETS[name]:g}")
            if (h, w) == (1024, 1024):
                targets.append(f"< {ABS_TARGET_MS:g} ms")
            note = (note + "; target " + ", ".join(targets)).strip("; ")
            try:
                t = domaug.get_transform(f"driving.{name}", **params)
                rng = np.random.default_rng(0)
                ours = (lambda t=t, rng=rng, im=image, b=boxes: t(image=im, bboxes=b, rng=rng))
                ours()
            except Exception as exc:  # transform still being written: the case records the error
                ours = _raiser(_err(exc))
            peers = {}
            if A is not None and make_peer is not None:
                try:
                    albu = make_peer(A)
                    peers["albumentations"] = (lambda f=albu, im=image: f(image=im))
                except Exception as exc:
                    peers["albumentations"] = _raiser(_err(exc))
            out.append(Case(label, size, ours, peers, array=image, note=note))
    if not quick:  # 16-bit frames (HDR / 12-bit dash-cams, stored as full-range 16-bit sRGB): no peer
        image, real = road_frame(1024, 1024)
        image16 = image.astype(np.uint16) * np.uint16(257)
        boxes = np.array([[0.63 * 1024, 0.56 * 1024, 0.74 * 1024, 0.69 * 1024, 1]], float)
        for name in names:
            try:
                t = domaug.get_transform(f"driving.{name}", **PEERS.get(name, ({}, None, ""))[0])
                rng = np.random.default_rng(0)
                ours = (lambda t=t, rng=rng, im=image16, b=boxes: t(image=im, bboxes=b, rng=rng))
                ours()
            except Exception as exc:
                ours = _raiser(_err(exc))
            note = "16-bit sRGB frame, no peer" + ("" if real else "; synthetic frame (shared data absent)")
            out.append(Case(name, "1024x1024x3 uint16", ours, {}, array=image16, note=note))
    return out
