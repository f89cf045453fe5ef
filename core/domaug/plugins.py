"""Plugin loading: one PluginManager, entry points loaded lazily, built-ins through the same hook.

Environment:
- ``DOMAUG_PLUGINS``: comma list of entry-point or distribution names to load (``""`` = none).
- ``DOMAUG_DISABLE_PLUGINS``: comma list of entry-point or distribution names never to load.
- ``DOMAUG_TRACE_PLUGINS``: print every hook call (debugging).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from types import ModuleType
from typing import Any, Mapping

import pluggy

from . import hookspecs
from .errors import PluginError

pm = pluggy.PluginManager("domaug")
pm.add_hookspecs(hookspecs)

BUILTIN_PLUGINS = (
    "domaug.default_plugins.core_transforms",
    "domaug.default_plugins.core_formats",
    "domaug.default_plugins.core_demo",
)
ENTRY_POINT_GROUP = "domaug"

#: plugin name → distribution label ("domaug-medical 0.1.0", "domaug", "module my.mod")
owners: dict[str, str] = {}
#: plugin name → what went wrong with it (failed to load, a hook that raised, a bad item)
plugin_errors: dict[str, str] = {}
#: hook name → plugins whose hook already ran
_collected: dict[str, set[str]] = {}
_builtins_loaded = False
_all_loaded = False

if os.environ.get("DOMAUG_TRACE_PLUGINS"):
    pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg))
    pm.enable_tracing()


def _names(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def entry_points() -> list:
    """The ``domaug`` entry points allowed by DOMAUG_PLUGINS / DOMAUG_DISABLE_PLUGINS."""
    selected, disabled = _names("DOMAUG_PLUGINS"), _names("DOMAUG_DISABLE_PLUGINS") or set()
    found = []
    from importlib import metadata  # imported lazily: it costs ~30 ms at start-up

    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ""
        if ep.name in disabled or dist in disabled:
            continue
        if selected is not None and ep.name not in selected and dist not in selected:
            continue
        found.append(ep)
    return sorted(found, key=lambda ep: ep.name)


def load_builtins() -> None:
    """Register the core's own plugins (idempotent)."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    for module_name in BUILTIN_PLUGINS:
        if pm.get_plugin(module_name) is None:
            pm.register(importlib.import_module(module_name), name=module_name)
            owners[module_name] = "domaug"


def _load_entry_point(ep) -> None:
    if pm.get_plugin(ep.name) is not None or ep.name in plugin_errors:
        return
    dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ep.value
    try:
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
        pm.check_pending()
    except Exception as exc:  # a broken plugin must not break the others
        if pm.get_plugin(ep.name) is not None:
            pm.unregister(name=ep.name)
        report_broken(ep.name, f"plugin {ep.name!r} from {dist} failed to load: {type(exc).__name__}: {exc}")
        return
    owners[ep.name] = dist


def load_plugins(namespace: str | None = None) -> None:
    """Load built-ins, then the entry point named ``namespace`` (or all of them)."""
    global _all_loaded
    load_builtins()
    if _all_loaded:
        return
    eps = entry_points()
    if namespace is not None:
        eps = [ep for ep in eps if ep.name == namespace]
    else:
        _all_loaded = True
    for ep in eps:
        _load_entry_point(ep)


def load_plugin_module(module_name: str) -> ModuleType:
    """Import a module by dotted name (``--plugin my.transforms``) and register it.

    The module may implement hooks (``@domaug.hookimpl``) or simply use
    ``@domaug.register_transform`` at import time.
    """
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}") from exc
    if pm.get_plugin(module_name) is None and pm.is_registered(module) is False:
        pm.register(module, name=module_name)
        owners[module_name] = f"module {module_name}"
    return module


def distributions() -> dict[str, str]:
    """Plugin name → "distribution version" for every loaded plugin (for run records)."""
    load_plugins()
    return dict(owners)


def register_table(register: Any, table: Mapping[str, str]) -> None:
    """Register a plugin's transforms from one table: registry name → ``"module:Class"``.

    >>> TRANSFORMS = {"lab.Sepia": "lab_plugin.sepia:Sepia"}
    >>> @hookimpl
    ... def register_transforms(register):
    ...     register_table(register, TRANSFORMS)

    Each module is imported when the plugin's transforms are first asked for.
    """
    for name, ref in table.items():
        module_name, _, class_name = ref.partition(":")
        if not class_name:
            raise PluginError(f"transform {name!r}: {ref!r} is not 'module:Class'")
        register(getattr(importlib.import_module(module_name), class_name), name=name)


# -- collecting what plugins offer: one failure policy for every hook --------------------
def namespace_of(plugin_name: str) -> str:
    """The namespace a plugin's items get (its entry-point name; a module's last part)."""
    return plugin_name.rsplit(".", 1)[-1]


def report_broken(plugin_name: str, message: str) -> None:
    """Record what went wrong with one plugin (shown by ``domaug plugins``) and warn once."""
    key = namespace_of(plugin_name)
    previous = plugin_errors.get(key)
    if previous is not None and message in previous:
        return
    plugin_errors[key] = message if previous is None else f"{previous}; {message}"
    warnings.warn(f"domaug: {message}", stacklevel=4)


def _hookimpls(hook: str, fresh_only: bool) -> list[tuple[Any, str]]:
    done = _collected.setdefault(hook, set())
    found = []
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if fresh_only and impl.plugin_name in done:
            continue
        done.add(impl.plugin_name)
        found.append((impl, owners.get(impl.plugin_name, impl.plugin_name)))
    return found


def collect(hook: str, add: Any, *, again: bool = False) -> None:
    """Run ``hook`` of every loaded plugin not yet asked (every one with ``again``), with a
    ``register`` callback.

    ``add(plugin_name, owner, *args, **kwargs)`` checks and stores one item (a transform, a
    format, a target, a demo) and raises to refuse it. The one failure policy: a refused
    item, or a hook that raises (a module that fails to import), is reported with the
    plugin's distribution (:func:`report_broken`) and skipped; every other item of every
    plugin, that plugin's own included, still registers.
    """
    for impl, owner in _hookimpls(hook, fresh_only=not again):
        plugin = impl.plugin_name

        def register(*args: Any, _plugin: str = plugin, _owner: str = owner, **kwargs: Any) -> None:
            try:
                add(_plugin, _owner, *args, **kwargs)
            except Exception as exc:  # one bad item must not stop the others
                report_broken(_plugin, f"{_owner} registered a bad item in {hook}: {type(exc).__name__}: {exc}")

        _run_hook(impl, owner, hook, register=register)


def call_each(hook: str, **kwargs: Any) -> None:
    """Call ``hook`` of every loaded plugin (e.g. ``register_commands(cli=...)``), same policy."""
    for impl, owner in _hookimpls(hook, fresh_only=False):
        _run_hook(impl, owner, hook, **kwargs)


def _run_hook(impl: Any, owner: str, hook: str, **kwargs: Any) -> None:
    try:
        impl.function(**kwargs)
    except Exception as exc:  # a broken plugin must not break the others
        what = hook.removeprefix("register_")
        report_broken(impl.plugin_name, f"plugin {namespace_of(impl.plugin_name)!r} from {owner} "
                                        f"failed to register its {what}: {type(exc).__name__}: {exc}")
