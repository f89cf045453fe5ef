"""The transform registry: namespaced names (``core.Flip``, ``medical.RicianNoise``) → classes.

Plugins fill it through the ``register_transforms`` hook; users through the
:func:`register_transform` decorator. A plugin is imported only when a name in its
namespace (its entry-point name) is asked for, or when everything is listed.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from . import plugins
from .errors import RegistrationError, UnknownTransformError
from . import transform as _contract
from .transform import Transform

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")

_classes: dict[str, type[Transform]] = {}
_owner_of: dict[str, str] = {}
_name_of: dict[type, str] = {}
#: names two plugins claim → the error naming both (asking for one of them raises it)
_contested: dict[str, str] = {}


def _add(cls: Any, name: str | None, owner: str, namespace: str, *, from_plugin: bool = False) -> type[Transform]:
    if not (isinstance(cls, type) and issubclass(cls, Transform)):
        raise RegistrationError(
            f"{owner} registered {cls!r}, which is not a subclass of domaug.Transform"
        )
    name = name or f"{namespace}.{cls.__name__}"
    if not _NAME.match(name):
        raise RegistrationError(
            f"{owner} registered {cls.__qualname__} as {name!r}; names must be 'namespace.Name'"
        )
    existing = _classes.get(name)
    if existing is not None and existing is not cls:
        same_user_class = (
            _owner_of[name] == owner
            and existing.__module__ == cls.__module__
            and existing.__qualname__ == cls.__qualname__
        )
        if not same_user_class:
            message = (f"transform name {name!r} is claimed twice: by {_owner_of[name]} "
                       f"({existing.__module__}.{existing.__qualname__}) and by {owner} "
                       f"({cls.__module__}.{cls.__qualname__})")
            if from_plugin:  # two installed plugins: asking for the name refuses, naming both
                _contested[name] = message
            raise RegistrationError(message)
    _classes[name] = cls
    _owner_of[name] = owner
    _name_of.setdefault(cls, name)
    if existing is not None and existing is not cls:
        _name_of.pop(existing, None)
        _name_of[cls] = name
    return cls


def _add_from_plugin(plugin: str, owner: str, cls: Any, name: str | None = None) -> None:
    _add(cls, name, owner, plugins.namespace_of(plugin), from_plugin=True)


def _collect() -> None:
    """Ask every newly loaded plugin for its transforms (one failure policy: :func:`plugins.collect`)."""
    plugins.collect("register_transforms", _add_from_plugin)


def _ensure(namespace: str | None) -> None:
    plugins.load_plugins(namespace)
    _collect()


def register_transform(cls: Any = None, *, name: str | None = None) -> Any:
    """Register a transform class without packaging; default name ``user.<ClassName>``.

    >>> @domaug.register_transform
    ... class Sepia(domaug.PixelTransform): ...
    >>> @domaug.register_transform(name="lab.Sepia")
    ... class Sepia2(domaug.PixelTransform): ...

    Worker processes of ``domaug run`` see it when its module is passed as ``--plugin``.
    """
    if isinstance(cls, str):
        name, cls = cls, None

    def decorate(c: type) -> type:
        owner = f"user code ({getattr(c, '__module__', '?')})"
        return _add(c, name or f"user.{getattr(c, '__name__', c)}", owner, "user")

    return decorate(cls) if cls is not None else decorate


def unregister_transform(name: str) -> None:
    """Remove a registration (tests and notebooks)."""
    cls = _classes.pop(name, None)
    _owner_of.pop(name, None)
    if cls is not None and _name_of.get(cls) == name:
        del _name_of[cls]


def registered_name(cls: type) -> str | None:
    """The registry name of a class, or None when it was never registered."""
    if cls not in _name_of:
        _ensure("core")
    return _name_of.get(cls)


_contract.set_namer(registered_name)


def get_transform_class(name: str) -> type[Transform]:
    """The class registered under ``name``; loads its plugin on first use."""
    if name in _classes and name not in _contested:
        return _classes[name]
    namespace = name.split(".", 1)[0] if "." in name else None
    _ensure(namespace)
    if name not in _classes:
        _ensure(None)
    if name in _contested:
        raise RegistrationError(f"{_contested[name]}; uninstall one or disable it with DOMAUG_DISABLE_PLUGINS")
    if name not in _classes:
        raise UnknownTransformError(f"unknown transform {name!r}{_why_unknown(namespace)}{_did_you_mean(name)}")
    return _classes[name]


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, list(_classes), n=3, cutoff=0.6)
    if not close:
        tail = name.rsplit(".", 1)[-1].lower()
        close = [n for n in _classes if n.rsplit(".", 1)[-1].lower() == tail][:3]
    return f"; did you mean {', '.join(close)}?" if close else ""


def _why_unknown(namespace: str | None) -> str:
    """The plugin's failure, or that no plugin provides the namespace; "" when neither."""
    broken = plugins.plugin_errors.get(namespace or "")
    if broken:
        return f" ({broken})"
    if namespace and not any(n.startswith(namespace + ".") for n in _classes):
        return f" (no installed plugin provides the {namespace!r} namespace)"
    return ""


def get_transform(name: str, **params: Any) -> Transform:
    """Build a registered transform by name: ``get_transform("driving.Fog", visibility_m=200)``."""
    return get_transform_class(name)(**params)


def list_transforms(domain: str | None = None) -> list[str]:
    """Sorted names of every registered transform, or of one namespace (``"medical"``)."""
    _ensure(None)
    names = sorted(_classes)
    if domain is not None:
        names = [n for n in names if n.split(".", 1)[0] == domain]
    return names


def owner_of(name: str) -> str:
    """The distribution (or module) that registered ``name``."""
    get_transform_class(name)
    return _owner_of[name]
