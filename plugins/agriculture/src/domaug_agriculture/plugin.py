"""Entry point of the agriculture plugin: registers its transforms, the MicaSense capture format and its demo
(imported lazily by domaug)."""

from __future__ import annotations

from domaug import hookimpl
from domaug.kit import register_table

#: registry name → "module:Class"
TRANSFORMS: dict[str, str] = {
    "agriculture.SeasonShift": "domaug_agriculture.season_shift:SeasonShift",
    "agriculture.CropStage": "domaug_agriculture.crop_stage:CropStage",
    "agriculture.SoilMoisture": "domaug_agriculture.soil_moisture:SoilMoisture",
    "agriculture.SunAngle": "domaug_agriculture.sun_angle:SunAngle",
    "agriculture.CloudShadow": "domaug_agriculture.cloud_shadow:CloudShadow",
    "agriculture.AltitudeChange": "domaug_agriculture.altitude_change:AltitudeChange",
    "agriculture.FlightMotionBlur": "domaug_agriculture.flight_motion_blur:FlightMotionBlur",
    "agriculture.BandMisalignment": "domaug_agriculture.band_misalignment:BandMisalignment",
}


@hookimpl
def register_transforms(register):
    register_table(register, TRANSFORMS)


@hookimpl
def register_formats(register):
    """MicaSense captures (one TIFF per band) read as one multi-band item, above the core's plain TIFF."""
    from .micasense_format import MicaSenseFormat

    register(MicaSenseFormat())


@hookimpl
def register_demos(register):
    """``domaug demo agriculture``: phenology and flight effects on a synthesised crop field."""
    from . import demo

    register("agriculture", demo.make_inputs, demo.pipeline_dict(TRANSFORMS))
