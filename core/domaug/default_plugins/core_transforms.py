"""Registers the generic ``core.`` transforms."""

from __future__ import annotations

import importlib

from ..hookspecs import hookimpl

#: registry name → "module:Class" inside domaug.transforms
CORE_TRANSFORMS = {
    "core.Flip": "flip:Flip",
    "core.Rotate90": "rotate90:Rotate90",
}


@hookimpl
def register_transforms(register):
    for name, ref in CORE_TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug.transforms.{module_name}")
        register(getattr(module, class_name), name=name)
