"""Every error domaug raises, as one tree.

    DomaugError
    ├── ParameterError(DomaugError, ValueError)      bad transform or pipeline parameter
    ├── TargetError(DomaugError, ValueError)         unknown, missing or inconsistent target
    ├── UnsupportedInputError(DomaugError, ValueError)  a transform cannot handle this input
    ├── UnknownTransformError(DomaugError, KeyError) name not in the registry
    ├── RegistrationError(DomaugError, TypeError)    a plugin registered something invalid
    ├── PluginError(DomaugError, ImportError)        a plugin failed to load
    ├── PipelineFileError(DomaugError, ValueError)   a pipeline file cannot be read
    └── FormatError(DomaugError, ValueError)         a file cannot be read or written

The CLI turns any of them into a single ``error: <file>: <reason>`` line.
"""

from __future__ import annotations


class DomaugError(Exception):
    """Root of every error raised by domaug and its plugins."""


class ParameterError(DomaugError, ValueError):
    """A parameter is out of range or of the wrong kind."""


class TargetError(DomaugError, ValueError):
    """A target (image, mask, bboxes, ...) is unknown, malformed or inconsistent."""


class UnsupportedInputError(DomaugError, ValueError):
    """The transform cannot handle this input (layout, band count, dtype)."""


class UnknownTransformError(DomaugError, KeyError):
    """No transform is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistrationError(DomaugError, TypeError):
    """A plugin registered an invalid or duplicate item."""


class PluginError(DomaugError, ImportError):
    """A plugin could not be loaded."""


class PipelineFileError(DomaugError, ValueError):
    """A pipeline file or dict is malformed."""


class FormatError(DomaugError, ValueError):
    """A file cannot be read or written in its format."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
