"""The batch engine behind ``domaug run``: plan, seed, execute, record.

- :mod:`.plan`: walk INPUT, choose formats, group items, name outputs, balance classes
- :mod:`.records`: the data passed between the steps (``Task``, ``RunConfig``, ``ManifestRecord``)
- :mod:`.seeding`: one ``SeedSequence`` per output, independent of order and workers
- :mod:`.worker`: read → augment → write one item (runs in worker processes)
- :mod:`.manifest`: ``run.json`` and the crash-safe ``manifest.jsonl``
- :mod:`.executors`: ``serial``, ``process`` (default) and ``dask``
- :mod:`.preflight`: every check before work starts (``prepare``) → a ``Job``
- :mod:`.runner`: the whole run (``execute``); :mod:`.replay`: regenerate outputs from a manifest
"""
