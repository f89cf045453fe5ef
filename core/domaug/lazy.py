"""Modules imported on first use, so that ``import domaug`` and ``domaug list`` stay fast.

``scipy.ndimage`` alone takes ~0.2 s to import (it pulls in ``scipy.special``); most runs
of most transforms never touch it. ``ndi = lazy_module("scipy.ndimage")`` at the top of a
module reads like the plain import and loads scipy the first time an attribute is used.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands in for module ``name`` until an attribute is first read, then forwards to it."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:  # only called for names not cached yet
        value = getattr(importlib.import_module(self.__dict__["_lazy_name"]), attr)
        self.__dict__[attr] = value  # later reads are plain attribute lookups
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``importlib.import_module(name)`` that imports on first attribute use."""
    return LazyModule(name)
