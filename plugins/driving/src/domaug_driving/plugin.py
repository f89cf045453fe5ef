"""Entry point of the driving plugin: registers its transforms and its demo (imported lazily by domaug)."""

from __future__ import annotations

from domaug import hookimpl
from domaug.kit import register_table

#: registry name → "module:Class"
TRANSFORMS: dict[str, str] = {
    "driving.Fog": "domaug_driving.fog:Fog",
    "driving.Night": "domaug_driving.night:Night",
    "driving.Rain": "domaug_driving.rain:Rain",
    "driving.Snow": "domaug_driving.snow:Snow",
    "driving.SunGlare": "domaug_driving.sun_glare:SunGlare",
    "driving.LensDroplets": "domaug_driving.lens_droplets:LensDroplets",
    "driving.MotionBlur": "domaug_driving.motion_blur:MotionBlur",
    "driving.Exposure": "domaug_driving.exposure:Exposure",
}


@hookimpl
def register_transforms(register):
    register_table(register, TRANSFORMS)


@hookimpl
def register_targets(register):
    """``depth`` (metres, checked; a sidecar in the KITTI, Cityscapes and float conventions; moved by
    nearest neighbour) and ``transmission`` (Fog's output, moved like any field)."""
    from .targets import NEAREST, SIDECARS, TARGETS

    for name, (kind, check) in TARGETS.items():
        register(name, kind, check=check, sidecar=SIDECARS.get(name), nearest=name in NEAREST)


@hookimpl
def register_demos(register):
    """``domaug demo``: fog and night on synthesised dash-cam road scenes (see :mod:`.demo`)."""
    from .demo import make_inputs, pipeline_dict

    register("driving", make_inputs, pipeline_dict(TRANSFORMS))


@hookimpl
def register_gallery_panels(register):
    """``domaug gallery driving``: the scene layout and distance beside each frame (see :mod:`.gallery_panels`)."""
    from .gallery_panels import panels

    register("driving", panels)
