"""Entry point of the driving plugin: registers its transforms (imported lazily by domaug)."""

from __future__ import annotations

import importlib

from domaug import hookimpl

from .demo import register_demos  # noqa: F401  (hookimpl: ``domaug demo``)

#: registry name → "module:Class" inside domaug_driving
TRANSFORMS: dict[str, str] = {
    "driving.Fog": "fog:Fog",
    "driving.Night": "night:Night",
    "driving.Rain": "rain:Rain",
    "driving.Snow": "snow:Snow",
    "driving.SunGlare": "sun_glare:SunGlare",
    "driving.LensDroplets": "lens_droplets:LensDroplets",
    "driving.MotionBlur": "motion_blur:MotionBlur",
    "driving.Exposure": "exposure:Exposure",
}


@hookimpl
def register_transforms(register):
    for name, ref in TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug_driving.{module_name}")
        register(getattr(module, class_name), name=name)
