"""Registers the generic ``core.`` transforms."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..plugins import register_table

#: registry name → "module:Class" (imported when a core transform is first asked for)
CORE_TRANSFORMS = {
    "core.Flip": "domaug.transforms.flip:Flip",
    "core.Rotate90": "domaug.transforms.rotate90:Rotate90",
    "core.Affine": "domaug.transforms.affine:Affine",
    "core.RandomCrop": "domaug.transforms.random_crop:RandomCrop",
    "core.Resize": "domaug.transforms.resize:Resize",
    "core.ElasticDeformation": "domaug.transforms.elastic_deformation:ElasticDeformation",
    "core.GaussianBlur": "domaug.transforms.gaussian_blur:GaussianBlur",
    "core.MotionBlur": "domaug.transforms.motion_blur:MotionBlur",
    "core.BrightnessContrast": "domaug.transforms.brightness_contrast:BrightnessContrast",
    "core.Gamma": "domaug.transforms.gamma:Gamma",
    "core.GaussianNoise": "domaug.transforms.gaussian_noise:GaussianNoise",
    "core.JPEGCompression": "domaug.transforms.jpeg_compression:JPEGCompression",
    "core.CoarseDropout": "domaug.transforms.coarse_dropout:CoarseDropout",
    "core.ColorJitter": "domaug.transforms.color_jitter:ColorJitter",
    "core.HueSaturationValue": "domaug.transforms.hue_saturation_value:HueSaturationValue",
}


@hookimpl
def register_transforms(register):
    register_table(register, CORE_TRANSFORMS)
