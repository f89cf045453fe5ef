"""Entry point of the driving plugin: registers its transforms (imported lazily by domaug)."""

from __future__ import annotations

import importlib

from domaug import hookimpl

#: registry name → "module:Class" inside domaug_driving
TRANSFORMS: dict[str, str] = {}


@hookimpl
def register_transforms(register):
    for name, ref in TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug_driving.{module_name}")
        register(getattr(module, class_name), name=name)
