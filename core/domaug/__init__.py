"""domaug: domain-specific, physically grounded data augmentation.

>>> import domaug
>>> fog = domaug.get_transform("driving.Fog", visibility_m=(100, 600))
>>> out = domaug.Compose([fog, domaug.get_transform("core.Flip")], seed=7)(image=img, bboxes=boxes)
>>> again = domaug.replay(out["applied"], image=img, bboxes=boxes)   # bit-identical

Importing this package loads no plugin and no heavy library: plugins are imported
when a transform or format of theirs is first asked for.
"""

from __future__ import annotations

from .compose import Compose, OneOf, Pipeline, SomeOf, Sometimes
from .errors import (
    DomaugError,
    FormatError,
    ParameterError,
    PipelineFileError,
    PluginError,
    RegistrationError,
    TargetError,
    UnknownTransformError,
    UnsupportedInputError,
)
from .hookspecs import hookimpl
from .registry import get_transform, list_transforms, register_transform
from .replay import replay
from .serialize import from_dict, load, save, to_dict
from .targets import register_target
from .transform import PixelTransform, SpatialTransform, Transform

__version__ = "0.2.0"

__all__ = [
    "Compose",
    "DomaugError",
    "FormatError",
    "OneOf",
    "ParameterError",
    "Pipeline",
    "PipelineFileError",
    "PixelTransform",
    "PluginError",
    "RegistrationError",
    "SomeOf",
    "Sometimes",
    "SpatialTransform",
    "TargetError",
    "Transform",
    "UnknownTransformError",
    "UnsupportedInputError",
    "__version__",
    "from_dict",
    "get_transform",
    "hookimpl",
    "list_transforms",
    "load",
    "register_target",
    "register_transform",
    "replay",
    "save",
    "to_dict",
]
