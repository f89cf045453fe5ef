"""Registers the generic ``core.`` transforms."""

from __future__ import annotations

import importlib

from ..hookspecs import hookimpl

#: registry name → "module:Class" inside domaug.transforms
CORE_TRANSFORMS = {
    "core.Flip": "flip:Flip",
    "core.Rotate90": "rotate90:Rotate90",
    "core.Affine": "affine:Affine",
    "core.RandomCrop": "random_crop:RandomCrop",
    "core.Resize": "resize:Resize",
    "core.ElasticDeformation": "elastic_deformation:ElasticDeformation",
    "core.GaussianBlur": "gaussian_blur:GaussianBlur",
    "core.MotionBlur": "motion_blur:MotionBlur",
    "core.BrightnessContrast": "brightness_contrast:BrightnessContrast",
    "core.Gamma": "gamma:Gamma",
    "core.GaussianNoise": "gaussian_noise:GaussianNoise",
    "core.JPEGCompression": "jpeg_compression:JPEGCompression",
    "core.CoarseDropout": "coarse_dropout:CoarseDropout",
    "core.ColorJitter": "color_jitter:ColorJitter",
    "core.HueSaturationValue": "hue_saturation_value:HueSaturationValue",
}


@hookimpl
def register_transforms(register):
    for name, ref in CORE_TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug.transforms.{module_name}")
        register(getattr(module, class_name), name=name)
