"""The transform contract: a random draw, a per-call context, a deterministic application.

One idiom for every transform (core and plugins):

1. ``__init__`` validates the parameters (units in their names);
2. ``make_params(rng, sample)`` draws everything random, as plain JSON values: the record;
3. ``prepare(sample, params) -> ctx`` computes once per call what every target shares (a
   sampler, linear-light planes, a footprint); never recorded, it may hold any object;
4. ``apply_to_<kind>(value, params, ctx)`` applies ``params`` to one target of that kind
   (image, mask, bboxes, keypoints, field, valid, meta) without randomness and without
   mutating its input.

Because the application sees only ``params`` (never ``self``'s configuration), a recorded
draw replays bit-for-bit with :func:`domaug.replay` on a default-constructed instance
(TorchIO's random/deterministic split, kept in one class).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from .dtypes import finish
from .errors import RegistrationError, UnsupportedInputError
from .ops.masked import finish_keeping
from .params import check_probability
from .plain import plain
from .targets import KINDS, Layout, kind_of, layout_of, validate_sample, valid_of

ALL_KINDS = frozenset(KINDS)


class _on_first_use:
    """A derived fact of the context: computed on first access, then a plain attribute (no
    lock and no descriptor call on later reads, unlike ``functools.cached_property`` on 3.11)."""

    def __init__(self, make: Callable[[Any], Any], name: str | None = None) -> None:
        self.make = make
        self.name = name or make.__name__
        self.__doc__ = make.__doc__

    def __get__(self, ctx: Any, owner: type | None = None) -> Any:
        if ctx is None:
            return self
        value = ctx.__dict__[self.name] = self.make(ctx)
        return value


class Context(dict):
    """One call's working state: made by :meth:`Transform.prepare` after the draw, passed to
    every ``apply_to_<kind>`` of that call, then dropped (never recorded).

    It reads as the call's input sample (``ctx["image"]``, ``ctx.get("meta")``: a shallow
    copy, so helpers that take a sample take it). ``prepare`` attaches what the targets
    share as attributes (``ctx.sampler = ...``). Derived facts are computed on first use:
    ``ctx.layout`` (spatial axes and channels), ``ctx.valid`` (the nodata mask or None),
    ``ctx.meta`` (``{}`` when absent). Targets a call creates (a cloud mask, a
    transmission map) go into ``ctx.new_targets`` and are added to the output. A
    ``prepare`` that finds the draw changes nothing sets ``ctx.unchanged``: every target
    then comes back as an exact copy. A pixel transform that leaves some pixels alone (the
    outside of a footprint, the plants a soil effect skips) sets ``ctx.untouched`` (H×W
    bool) and bands it never changes (alpha) in ``ctx.untouched_bands``: those come back
    bit-exact in the input dtype.
    """

    #: the defaults, as class attributes: a context costs one dict copy per call
    prefer_volume = False
    unchanged = False
    untouched: np.ndarray | None = None
    untouched_bands: tuple[int, ...] = ()

    @_on_first_use
    def layout(self) -> Layout:
        return layout_of(self, self.prefer_volume)

    valid = _on_first_use(valid_of, "valid")

    @_on_first_use
    def meta(self) -> dict:
        return self.get("meta") or {}

    @_on_first_use
    def new_targets(self) -> dict[str, Any]:
        return {}

    def __getattr__(self, name: str) -> Any:  # runs only for an attribute nobody set
        raise AttributeError(
            f"the context has no {name!r}: set it in prepare() (ctx.{name} = ...) before an "
            "apply_to_<kind> reads it"
        )


def as_generator(rng: Any) -> np.random.Generator:
    """``None`` → fresh entropy; int or SeedSequence → seeded; Generator → itself."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _unnamed(cls: type) -> str | None:
    return None


#: How a class finds its registry name. The registry sits above the contract and installs
#: its lookup here when it is imported (``import domaug`` always imports it).
_namer: Callable[[type], str | None] = _unnamed


def set_namer(namer: Callable[[type], str | None]) -> None:
    """Install the registry's class → name lookup (called by :mod:`domaug.registry`)."""
    global _namer
    _namer = namer


class Transform:
    """Base class of every domaug transform.

    Subclasses set ``targets`` (the target kinds they handle; a sample carrying any
    other kind is refused with a clear error), implement ``make_params``, optionally
    ``prepare``, and one ``apply_to_<kind>`` per kind they handle. :class:`PixelTransform`
    and :class:`SpatialTransform` give the defaults of the two common families.
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

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """This call's shared work, computed once after the draw (override: call ``super()``
        and attach attributes to the context it returns)."""
        ctx = Context(sample)
        if self.prefer_volume:
            ctx.prefer_volume = True
        return ctx

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        """Apply ``params`` to ``sample`` deterministically; return a new sample dict.

        ``prepare`` once, then each target through ``apply_to_<its kind>``; the image result
        goes through :meth:`finish_image`; targets the call created are added last.
        """
        ctx = self.prepare(sample, params)
        out = dict(sample)
        if ctx.unchanged:
            for name, value in sample.items():
                if isinstance(value, (np.ndarray, dict)):
                    out[name] = value.copy()
            return out
        for name, value in sample.items():
            if name == "applied":
                continue
            kind = kind_of(name)
            ctx.target = name  # which target an apply_to_<kind> is moving (e.g. a field resampled by nearest)
            result = getattr(self, "apply_to_" + kind)(value, params, ctx)
            out[name] = self.finish_image(result, value, ctx) if kind == "image" else result
        created = ctx.__dict__.get("new_targets")
        if created:
            out.update(created)
        return out

    def finish_image(self, result: np.ndarray, image: np.ndarray, ctx: Context) -> np.ndarray:
        """The image result as it leaves the call (identity here; pixel transforms restore
        the input dtype and nodata)."""
        return result

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_image")

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_mask")

    def apply_to_field(self, field: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_field")

    def apply_to_valid(self, valid: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_valid")

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_bboxes")

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements no apply_to_keypoints")

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        return dict(meta)

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
        return _namer(type(self)) or type(self).__name__

    def name_for_records(self) -> str:
        name = _namer(type(self))
        if name is None:
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

    Subclasses implement ``apply_to_image(image, params, ctx)`` returning a float array (or
    the input dtype); the base restores the dtype, puts nodata pixels back bit-exact and
    keeps valid pixels off the nodata value.
    """

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        if len(sample) == 1:  # the common call t(image=array): no per-target dispatch
            ctx = self.prepare(sample, params)
            image = sample["image"]
            if ctx.unchanged:
                return {"image": image.copy()}
            out = {"image": self.finish_image(self.apply_to_image(image, params, ctx), image, ctx)}
            created = ctx.__dict__.get("new_targets")
            if created:
                out.update(created)
            return out
        return super().apply(sample, params)

    def finish_image(self, result: np.ndarray, image: np.ndarray, ctx: Context) -> np.ndarray:
        if result is image:
            result = image.copy()
        elif result.ndim != image.ndim and result.shape == image.shape + (1,):
            result = result.reshape(image.shape)  # an H×W×1 working copy of an H×W image
        if ctx.untouched is None and not ctx.untouched_bands:
            return finish(result, ctx, ctx.valid)
        return finish_keeping(result, ctx, ctx.valid, ctx.untouched, ctx.untouched_bands)

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return mask

    def apply_to_field(self, field: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return field

    def apply_to_valid(self, valid: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return valid

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return bboxes

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return keypoints

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> Any:
        return meta


class SpatialTransform(Transform):
    """A transform that moves pixels: every spatial target moves with the image.

    Subclasses implement the ``apply_to_<kind>`` methods for the kinds in ``targets``
    (usually from a sampler built once in ``prepare``). Masks use nearest-neighbour (only
    input labels appear), boxes and keypoints follow the same geometry, and ``meta`` is
    updated when the grid changes (spacing, geotransform) or the transform refuses.
    """

    targets: ClassVar[frozenset[str]] = ALL_KINDS
