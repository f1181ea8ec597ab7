"""XT's storage-provider test logic, as XT calls a provider.

XT tests a storage provider (``tests/test_storage_provider.py`` and
``quick-test/code/storageProviderTests.py`` of microsoft/ExperimentTools) with one fixed
sequence of calls: service (retry function), container, then blob calls, each checked the way
XT checks it. This module is that sequence, rewritten here as a test of XT's calling
conventions: the same calls with the same arguments and the same assertions, on any object
``impl`` with XT's methods. Where XT's own assertion is weaker than what its callers rely on
(a retry function that must not be consulted for a conflict), the extra check says so.
"""

from __future__ import annotations

import datetime
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APPEND_BLOB",
    "APPEND_TEXT",
    "BLOB_TEXT",
    "NEST3_BLOB",
    "NEST_BLOB",
    "NEST_BLOB2",
    "QT_CONTAINER",
    "RETRY",
    "TEST_BLOB",
    "TEST_BLOB2",
    "TEST_BLOB3",
    "TEST_CONTAINER",
    "TEST_FILE",
    "RetryLog",
    "XtContainers",
    "blob_tests",
    "container_tests",
    "get_class_ctr",
    "make_retry_func",
    "service_tests",
    "setup",
    "teardown",
]

# XT's names and texts, as in its tests.
QT_CONTAINER = "storage-provider-test"
TEST_CONTAINER = "storage-test-container"
TEST_FILE = "test.txt"
TEST_BLOB = "__storage_test_blob__"
TEST_BLOB2 = "__storage_test_blob2__"
TEST_BLOB3 = "__storage_test_blob3__"
NEST_BLOB = "foo/blob1.txt"
NEST_BLOB2 = "foo/blob2.txt"
NEST3_BLOB = "foo/bar/ski/blob1.txt"
APPEND_BLOB = "__storage_test_append_blob__"
BLOB_TEXT = "this is the test blob!"
APPEND_TEXT = "this is the append text\n"
RETRY = 10

RetryLog = list[tuple[int, Any]]
"""What a retry function was asked: ``(context.count, context.response.status or None)``."""


def make_retry_func(
    max_retries: int = 8, log: RetryLog | None = None
) -> Callable[[Any], float | None]:
    """A retry function with the semantics of XT's ``utils.make_retry_func``: azure-storage 2.x
    style, it counts its own calls in ``context.count``, reads ``context.response.status`` when
    there is a response, and answers the seconds to wait, ``min(16, 2**count)``, or None once
    ``max_retries`` retries have been asked for. XT's also prints and appends to an error file;
    this one records each call in ``log`` instead."""

    def expo_retry(context: Any) -> float | None:
        context.count = context.count + 1 if hasattr(context, "count") else 1
        response = getattr(context, "response", None)
        status = response.status if response and response.status else None
        if log is not None:
            log.append((context.count, status))
        if context.count > max_retries:
            return None
        return min(16, 2**context.count)

    return expo_retry


def get_class_ctr(code_path: str) -> type:
    """The class a code path names, found as XT's ``utils.get_class_ctr`` finds it."""
    module_name, class_name = code_path.rsplit(".", 1)
    cls: type = getattr(importlib.import_module(module_name), class_name)
    return cls


@dataclass(frozen=True)
class XtContainers:
    """The two containers XT's tests use; on a server shared by the run they carry a suffix."""

    qt: str = QT_CONTAINER
    test: str = TEST_CONTAINER


def setup(impl: Any, names: XtContainers) -> None:
    if impl.does_container_exist(names.qt):
        impl.delete_container(names.qt)
    impl.create_container(names.qt)


def teardown(impl: Any, names: XtContainers) -> None:
    impl.delete_container(names.qt)


def service_tests(impl: Any) -> None:
    retry_func = make_retry_func(RETRY)
    impl.set_retry(retry_func)
    returned_func = impl.get_retry()
    assert retry_func == returned_func


def container_tests(impl: Any, names: XtContainers) -> None:
    assert impl.does_container_exist(names.qt) is True

    containers = impl.list_containers()
    assert names.qt in containers

    assert impl.does_container_exist("no-such-container") is False
    assert impl.does_container_exist(names.qt) is True

    if impl.does_container_exist(names.test):
        impl.delete_container(names.test)
    impl.create_container(names.test)
    containers = impl.list_containers()
    assert names.test in containers

    impl.delete_container(names.test)
    containers = impl.list_containers()
    assert names.test not in containers

    # XT: "these will be specific to the provider"; all it asks is a truthy value.
    result = impl.get_container_properties(names.qt)
    assert result

    md = impl.get_container_metadata(names.qt)
    assert isinstance(md, dict)


def blob_tests(impl: Any, names: XtContainers) -> None:
    """XT's blob calls; ``TEST_FILE`` is relative, so the caller picks the working folder."""
    c = names.qt

    blobs = impl.list_blobs(c)
    assert isinstance(blobs, list)

    assert impl.does_blob_exist(c, "__no_such_blob__") is False

    impl.create_blob(c, TEST_BLOB, BLOB_TEXT)
    assert impl.does_blob_exist(c, TEST_BLOB) is True

    blobs = impl.list_blobs(c)
    assert TEST_BLOB in blobs

    # CREATE BLOB - FAIL IF EXISTS, with retries set to 0 first, as XT does.
    asked: RetryLog = []
    impl.set_retry(make_retry_func(0, asked))
    got_failure = False
    try:
        impl.create_blob(c, TEST_BLOB, BLOB_TEXT, fail_if_exists=True)
    except BaseException:
        got_failure = True
    assert got_failure
    # Beyond XT's assertion: a conflict is not transient, so no retry was even considered.
    assert asked == []

    impl.create_blob(c, TEST_BLOB, BLOB_TEXT, fail_if_exists=False)
    assert TEST_BLOB in blobs

    impl.create_blob(c, NEST_BLOB, BLOB_TEXT)
    impl.create_blob(c, NEST_BLOB2, BLOB_TEXT)
    impl.create_blob(c, NEST3_BLOB, BLOB_TEXT)
    assert impl.does_blob_exist(c, NEST_BLOB) is True
    assert impl.does_blob_exist(c, NEST_BLOB2) is True
    assert impl.does_blob_exist(c, NEST3_BLOB) is True

    # LIST BLOBS NESTED PATH
    blobs = impl.list_blobs(c, "foo/bar/ski")
    assert len(blobs) == 1
    assert NEST3_BLOB in blobs

    # LIST BLOBS RECURSIVE
    blobs = impl.list_blobs(c, "foo")
    assert len(blobs) == 3
    assert "foo/bar/" not in blobs
    assert NEST3_BLOB in blobs

    # LIST BLOBS NON-RECURSIVE
    blobs = impl.list_blobs(c, "foo", recursive=False)
    assert len(blobs) == 3
    assert "foo/bar/" in blobs
    assert NEST_BLOB in blobs

    # LIST BLOBS RECURSIVE w/ PROPS
    blobs = impl.list_blobs(c, "foo", return_names=False)
    assert len(blobs) == 3
    blob_names = [blob.name for blob in blobs]
    assert NEST3_BLOB in blob_names
    assert NEST_BLOB in blob_names
    props = blobs[0].properties
    assert props.content_length == len(BLOB_TEXT)
    assert isinstance(props.last_modified, datetime.datetime)

    text = impl.get_blob_text(c, TEST_BLOB)
    assert text == BLOB_TEXT

    impl.get_blob_to_path(c, TEST_BLOB, TEST_FILE)
    assert os.path.exists(TEST_FILE)

    impl.create_blob_from_path(c, TEST_BLOB2, TEST_FILE)
    assert impl.does_blob_exist(c, TEST_BLOB2) is True

    props = impl.snapshot_blob(c, TEST_BLOB2)
    assert hasattr(props, "snapshot")

    impl.append_blob(c, APPEND_BLOB, APPEND_TEXT)
    impl.append_blob(c, APPEND_BLOB, APPEND_TEXT)
    text = impl.get_blob_text(c, APPEND_BLOB)
    lines = text.split("\n")
    assert len(lines) >= 2
    assert impl.does_blob_exist(c, APPEND_BLOB) is True
    blobs = impl.list_blobs(c)
    assert APPEND_BLOB in blobs

    result = impl.get_blob_properties(c, TEST_BLOB)
    assert result.properties.content_length == len(BLOB_TEXT)
    assert result.name == TEST_BLOB

    md = impl.get_blob_metadata(c, TEST_BLOB)
    assert isinstance(md, dict)

    impl.copy_blob(c, TEST_BLOB, c, TEST_BLOB3)
    assert impl.does_blob_exist(c, TEST_BLOB3) is True

    impl.delete_blob(c, TEST_BLOB)
    impl.delete_blob(c, APPEND_BLOB)
    assert impl.does_blob_exist(c, TEST_BLOB) is False
    blobs = impl.list_blobs(c)
    assert TEST_BLOB not in blobs
