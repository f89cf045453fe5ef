"""File formats: readers and writers registered through the ``register_formats`` hook.

- :mod:`.base`: the :class:`~.base.Format` contract (and the optional windowed protocol)
- :mod:`.registry`: every registered format; choosing one by content, then extension
- :mod:`.sidecar`: masks/boxes next to an image (``x.mask.png``, ``x.boxes.json``)
- core formats: :mod:`.png` (+ :mod:`.png16`), :mod:`.jpeg`, :mod:`.tiff`, :mod:`.npy`
"""
