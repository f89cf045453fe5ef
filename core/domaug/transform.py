"""The transform contract: a random draw (`make_params`) and a deterministic `apply`.

A subclass validates its parameters in ``__init__``, draws everything random in
``make_params(rng, sample)`` as plain JSON values, and applies them in
``apply(sample, params)`` without randomness and without mutating its inputs. Because
``apply`` sees only ``params`` (never ``self``'s configuration), a recorded draw replays
bit-for-bit with :func:`domaug.replay` on a default-constructed instance (TorchIO's
random/deterministic split, kept in one class).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, ClassVar, Mapping

import numpy as np

from .dtypes import finish
from .errors import UnsupportedInputError
from .params import check_probability
from .plain import plain
from .targets import kind_of, validate_sample, valid_of

ALL_KINDS = frozenset({"image", "mask", "bboxes", "keypoints", "field", "valid", "meta"})


def as_generator(rng: Any) -> np.random.Generator:
    """``None`` → fresh entropy; int or SeedSequence → seeded; Generator → itself."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _registry() -> Any:
    """The registry module (imported on first use: it imports this module)."""
    global _REGISTRY
    if _REGISTRY is None:
        from . import registry

        _REGISTRY = registry
    return _REGISTRY


_REGISTRY: Any = None


class Transform:
    """Base class of every domaug transform.

    Subclasses set ``targets`` (the target kinds they handle; a sample carrying any
    other kind is refused with a clear error) and implement ``make_params`` and ``apply``.
    """

    #: Target kinds this transform handles.
    targets: ClassVar[frozenset[str]] = ALL_KINDS
    #: Treat a 3-D array without other hints as a D×H×W volume rather than H×W×C.
    prefer_volume: ClassVar[bool] = False
    _init_args: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args: Any, **kw: Any) -> None:
            if "_init_args" not in self.__dict__:  # outermost constructor records
                bound = signature.bind(self, *args, **kw)
                recorded: dict[str, Any] = {}
                for key, value in list(bound.arguments.items())[1:]:
                    if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                        recorded.update(value)
                    else:
                        recorded[key] = value
                self._init_args = recorded
            init(self, *args, **kw)

        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __init__(self, p: float = 1.0) -> None:
        self.p = check_probability(p)
        if "_init_args" not in self.__dict__:  # a subclass without an __init__ of its own
            self._init_args = {} if p == 1.0 else {"p": p}

    # -- the contract --------------------------------------------------------------
    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        """Draw this call's random parameters (plain JSON values)."""
        return {}

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        """Apply ``params`` to ``sample`` deterministically; return a new sample dict."""
        raise NotImplementedError

    def check_input(self, sample: Mapping[str, Any]) -> None:
        """Raise :class:`UnsupportedInputError` for inputs this transform cannot handle."""
        for name in sample:
            if name == "applied":
                continue
            kind = kind_of(name)
            if kind not in self.targets:
                raise UnsupportedInputError(
                    f"{self.name_for_errors()} does not support the {kind} target {name!r}"
                )

    # -- running -------------------------------------------------------------------
    def __call__(self, *, rng: Any = None, **targets: Any) -> dict:
        """Augment one sample: ``t(image=..., mask=..., meta=..., rng=seed_or_generator)``."""
        sample = validate_sample(targets)
        return self.run(sample, as_generator(rng))

    def run(self, sample: dict, rng: np.random.Generator) -> dict:
        """Draw with probability ``p``, then apply; ``sample`` is already validated."""
        if self.p < 1.0 and rng.random() >= self.p:
            out = dict(sample)
            out["applied"] = list(sample.get("applied", ()))
            return out
        self.check_input(sample)
        params = plain(self.make_params(rng, sample))
        out = self.apply(sample, params)
        record = {"name": self.name_for_records(), "params": params}
        before = sample.get("applied")
        out["applied"] = [*before, record] if before else [record]
        return out

    # -- naming and serialization ----------------------------------------------------
    def name_for_errors(self) -> str:
        return _registry().registered_name(type(self)) or type(self).__name__

    def name_for_records(self) -> str:
        name = _registry().registered_name(type(self))
        if name is None:
            from .errors import RegistrationError

            raise RegistrationError(
                f"{type(self).__qualname__} is not registered; decorate it with "
                "@domaug.register_transform so that its draws can be recorded and replayed"
            )
        return name

    def to_dict(self) -> dict:
        """``{"name": registry name, "params": the arguments given to __init__}``."""
        return {"name": self.name_for_records(), "params": plain(self._init_args)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in getattr(self, "_init_args", {}).items())
        return f"{type(self).__name__}({args})"


class PixelTransform(Transform):
    """A transform that changes intensities only: every other target passes through.

    Subclasses implement ``apply_to_image(image, params, sample)`` returning a float
    array (or the input dtype); the base restores the dtype, puts nodata pixels back
    bit-exact and keeps valid pixels off the nodata value.
    """

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        image = sample["image"]
        result = self.apply_to_image(image, params, sample)
        if result is image:
            result = image.copy()
        out = dict(sample)
        out["image"] = finish(result, sample, valid_of(sample))
        return out


class SpatialTransform(Transform):
    """A transform that moves pixels: every spatial target moves with the image.

    Subclasses implement the ``apply_to_<kind>`` methods for the kinds in ``targets``.
    Masks use nearest-neighbour (only input labels appear), boxes and keypoints follow
    the same geometry, and ``meta`` is updated when the grid changes (spacing,
    geotransform) or the transform refuses.
    """

    targets: ClassVar[frozenset[str]] = ALL_KINDS

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        out = dict(sample)
        for name, value in sample.items():
            if name == "applied":
                continue
            method = getattr(self, f"apply_to_{kind_of(name)}")
            out[name] = method(value, params, sample)
        return out

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], sample: Mapping[str, Any]) -> dict:
        return dict(meta)
