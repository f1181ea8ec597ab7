"""``xtstore.testing``: the conformance suite, docs/contract.md §1 as pytest tests.

It needs pytest and psutil, the ``testing`` extra: ``pip install 'xtstore[testing]'``.

A provider's own test file is about ten lines::

    import pytest, xtstore
    from xtstore.testing import ConformanceSuite, SuiteOptions

    class TestFileConformance(ConformanceSuite):
        options = SuiteOptions()                  # defaults suit a local folder
        @pytest.fixture(scope="class")            # any scope; the fixture is named `store`
        def store(self, tmp_path_factory):
            root = tmp_path_factory.mktemp("store")
            return xtstore.get_storage("files", config={"external-services": {"files": {
                "type": "storage", "provider": "store-file", "path": str(root)}}})

Each test is one clause (e.g. ``test_list_blobs_folder_path_never_matches_sibling_prefix``)
and every failure message starts with the clause it quotes, then `` — `` and what was expected
and what came back. Each test creates its own ``xtc-<hex>`` containers and deletes
them afterwards. A clause is skipped only where ``store.capabilities()`` reports the feature
``Support.UNSUPPORTED``, and then only after checking that the call raises ``Unsupported``.

:class:`SuiteOptions` (frozen): ``large_blob_size`` (256 MiB; the blob streamed by the
bounded-memory clause), ``bounded_memory`` (True; False for stores holding blobs in memory),
``memory_limit`` (64 MiB; most the Python heap peak may grow while streaming, the resident size
may grow by this plus ``rss_slack``), ``processes`` (None: real processes when
``capabilities().shared_between_processes``, else threads; the store is pickled to ``spawn``
children), ``concurrency_timeout`` (seconds per concurrency clause), ``writer_size`` (None:
what the writable-blob clauses write to cross several parts, ``min(large_blob_size, 9 MiB)
+ 17``).

Programmatically (this is what ``xtstore check-provider CODE.PATH`` runs)::

    from xtstore.testing import run_conformance
    report = run_conformance(lambda: xtstore.get_storage("mine"), SuiteOptions(),
                             select="list_blobs")          # optional pytest -k expression
    for result in report.results:                          # ClauseResult
        print(result.outcome, result.clause, result.message)   # "passed"/"failed"/"skipped"
    assert report.ok

pytest runs in the calling process; the factory is called once and its store serves every
clause. The create-only race runs in threads, and in processes too when the store is
``shared_between_processes`` (it must then pickle, as a store from ``xtstore.get_storage``
does when its config holds no inline secret: open it from a config file, as
``check-provider`` does). Clauses about what a provider itself does (e.g. calling
``progress_callback``) call ``store.provider`` directly, so ``Store``'s own help does not hide
a provider's gap.
"""

from __future__ import annotations

try:
    import psutil  # noqa: F401  (the bounded-memory clause samples the resident size)
    import pytest  # noqa: F401
except ImportError as _missing:
    raise ImportError(
        f"xtstore.testing needs pytest and psutil ({_missing.name} is not installed): "
        "pip install 'xtstore[testing]'"
    ) from None

from xtstore.testing.options import SuiteOptions
from xtstore.testing.runner import ClauseResult, ConformanceReport, run_conformance
from xtstore.testing.suite import ConformanceSuite

__all__ = [
    "ClauseResult",
    "ConformanceReport",
    "ConformanceSuite",
    "SuiteOptions",
    "run_conformance",
]
