"""The hooks a domaug plugin can implement (each receives a ``register`` callback or the CLI)."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("domaug")
hookimpl = pluggy.HookimplMarker("domaug")


@hookspec
def register_transforms(register):
    """Register transform classes: call ``register(cls, name="plugin.Name")`` for each."""


@hookspec
def register_formats(register):
    """Register file formats: call ``register(format_object)`` for each reader/writer."""


@hookspec
def register_targets(register):
    """Declare extra target names: call ``register(name, kind)`` (kind: mask, field, ...)."""


@hookspec
def register_commands(cli):
    """Add click subcommands to the ``domaug`` command group ``cli``."""


@hookspec
def register_demos(register):
    """Register demos: ``register(name, make_inputs, pipeline_dict)``; ``make_inputs(folder)`` writes sample files."""


@hookspec
def register_gallery_panels(register):
    """Add gallery panels: ``register(namespace, panels_fn)``; ``panels_fn(sample)`` returns ``[(rgb_uint8, caption_lines)]``."""
