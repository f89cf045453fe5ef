"""Entry point of the agriculture plugin: registers its transforms (imported lazily by domaug)."""

from __future__ import annotations

import importlib

from domaug import hookimpl

from .demo import register_demos  # noqa: F401  (hookimpl: ``domaug demo``)

#: registry name → "module:Class" inside domaug_agriculture
TRANSFORMS: dict[str, str] = {
    "agriculture.SeasonShift": "season_shift:SeasonShift",
    "agriculture.CropStage": "crop_stage:CropStage",
    "agriculture.SoilMoisture": "soil_moisture:SoilMoisture",
    "agriculture.SunAngle": "sun_angle:SunAngle",
    "agriculture.CloudShadow": "cloud_shadow:CloudShadow",
    "agriculture.AltitudeChange": "altitude_change:AltitudeChange",
    "agriculture.FlightMotionBlur": "flight_motion_blur:FlightMotionBlur",
    "agriculture.BandMisalignment": "band_misalignment:BandMisalignment",
}


@hookimpl
def register_transforms(register):
    for name, ref in TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug_agriculture.{module_name}")
        register(getattr(module, class_name), name=name)
