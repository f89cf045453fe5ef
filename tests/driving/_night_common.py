"""What the driving.Night tests share: the transform, the five frames, parameter sets and helpers."""

from __future__ import annotations

import copy

import numpy as np

import domaug
from domaug_driving import scene

Night = domaug.registry.get_transform_class("driving.Night")
FRAMES = ["udacity_test6.jpg", "udacity_straight_lines2.jpg", "udacity_solidWhiteRight.jpg",
          "comma2k19_rav4_2018-08-02_overcast.png", "boreas_camera_toronto_day.png"]
#: No noise, no ISP: the light alone.
CLEAN = dict(shot_noise=0.0, read_noise=0.0, isp_denoise=0.0)
DARK = dict(street_lights=0.0, headlights=False, vehicle_lights=False)


def _load(shared_data, name):
    from PIL import Image

    return np.asarray(Image.open(shared_data / "driving" / name).convert("RGB"))


def _coarse(img, params):
    c = scene.coarse_scene({"image": img}, params["camera"])
    c["camera"] = params["camera"]
    return c


def _replay(applied, img, **changes):
    """The recorded draw replayed with some params changed (e.g. the noise or a light off)."""
    a = copy.deepcopy(applied)
    a[0]["params"].update(changes)
    return domaug.replay(a, image=img)["image"]
