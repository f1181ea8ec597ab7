"""cli/plan.py: what sync copies, skips and deletes, and what check reports, from two
listings alone (pure: no store, no file)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xtstore.cli.plan import Copy, compare, plan, same_time, undecided
from xtstore.cli.tree import Entry

S = 1_000_000_000
T = 1_700_000_000 * S + 123_456_789


def local(size: int = 10, mtime: int = T, **checksums: str) -> Entry:
    return Entry("f", size, mtime, checksums=checksums)


def blob(size: int = 10, mtime: int = T, *, stated: bool = True, precision: int = 1,
         complete: bool = True, **checksums: str) -> Entry:
    return Entry("b", size, mtime, stated=stated, precision_ns=precision, checksums=checksums,
                 complete=complete)


def test_missing_and_resized_files_are_copied_matching_ones_skipped() -> None:
    result = plan({"new": local(), "grown": local(11), "same": local()},
                  {"grown": blob(10), "same": blob()})
    assert result.copies == [Copy("grown", 11, "size"), Copy("new", 10, "missing")]
    assert result.skips == ["same"]
    assert result.deletes == []


def test_a_stated_mtime_must_match() -> None:
    assert plan({"f": local()}, {"f": blob(mtime=T + 1)}).copies == [Copy("f", 10, "time")]
    # An older stated time differs too: sync makes DEST match SOURCE.
    assert plan({"f": local()}, {"f": blob(mtime=T - S)}).copies == [Copy("f", 10, "time")]


def test_times_compare_at_the_coarser_precision() -> None:
    # A side that keeps seconds: the same second is the same time.
    assert plan({"f": local()}, {"f": blob(mtime=T // S * S, precision=S)}).skips == ["f"]
    assert plan({"f": local()}, {"f": blob(mtime=T // S * S + S, precision=S)}).copies
    assert same_time(local(mtime=T), local(mtime=T))
    assert not same_time(local(mtime=T), local(mtime=T + 1))


def test_a_blob_without_mtime_counts_as_unchanged_when_written_after_the_file() -> None:
    written = {"f": blob(mtime=T + 5 * S, stated=False, precision=S)}
    assert plan({"f": local()}, written).skips == ["f"]
    # Written before the file last changed: copied.
    earlier = {"f": blob(mtime=T - 5 * S, stated=False, precision=S)}
    assert plan({"f": local()}, earlier).copies == [Copy("f", 10, "time")]


def test_a_last_modified_cut_to_the_second_is_not_taken_for_after_the_file() -> None:
    # Written in the same second as the file changed: which came first is unknown, so copy.
    same_second = {"f": blob(mtime=T // S * S, stated=False, precision=S)}
    assert plan({"f": local()}, same_second).copies == [Copy("f", 10, "time")]


def test_checksum_compares_hashes_not_times() -> None:
    source = {"f": local(md5="aa"), "g": local(md5="bb")}
    dest = {"f": blob(mtime=T - 9 * S, md5="aa"), "g": blob(md5="cc")}
    result = plan(source, dest, checksum=True)
    assert result.skips == ["f"]
    assert result.copies == [Copy("g", 10, "checksum")]


def test_checksum_uses_a_hash_both_sides_have() -> None:
    source = {"f": local(sha256="11", crc32c="22")}
    assert plan(source, {"f": blob(md5="x", sha256="11")}, checksum=True).skips == ["f"]
    assert plan(source, {"f": blob(crc32c="22")}, checksum=True).skips == ["f"]
    # No common hash: the copy is made rather than assumed equal.
    assert plan(source, {"f": blob(md5="x")}, checksum=True).copies == [
        Copy("f", 10, "checksum")]


def test_delete_only_when_asked_and_only_what_source_lacks() -> None:
    source = {"keep": local()}
    dest = {"keep": blob(), "extra": blob(), "sub/extra": blob()}
    assert plan(source, dest).deletes == []
    assert plan(source, dest, delete=True).deletes == ["extra", "sub/extra"]


def test_undecided_names_equal_sizes_whose_metadata_was_not_read() -> None:
    source = {"a": local(), "b": local(5), "c": local(), "d": local()}
    dest = {"a": blob(complete=False), "b": blob(complete=False), "c": blob(),
            "d": blob(complete=False, md5="m")}
    assert undecided(source, dest) == ["a", "d"]
    # With checksum a hash both listings gave already decides.
    assert undecided({**source, "d": local(md5="m")}, dest, checksum=True) == ["a"]


def test_compare_reports_each_kind_of_difference() -> None:
    source = {"same": local(md5="1"), "changed": local(md5="1"), "resized": local(3),
              "only-source": local()}
    dest = {"same": blob(md5="1"), "changed": blob(md5="2"), "resized": blob(4),
            "only-dest": blob()}
    found = compare(source, dest)
    assert found.matching == ["same"]
    assert found.differ == ["changed", "resized"]
    assert found.missing_on_dest == ["only-source"]
    assert found.missing_on_source == ["only-dest"]
    assert not found.clean
    assert compare(source, dest, size_only=True).differ == ["resized"]
    assert compare({"x": local(md5="1")}, {"x": blob(md5="1")}).clean


_names = st.text(alphabet="abc/", min_size=1, max_size=4)
_entries = st.dictionaries(_names, st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=8)


@given(_entries, _entries, st.booleans())
def test_every_path_gets_exactly_one_action(source_spec: dict[str, tuple[int, int]],
                                            dest_spec: dict[str, tuple[int, int]],
                                            delete: bool) -> None:
    source = {path: local(size, T + mtime * S) for path, (size, mtime) in source_spec.items()}
    dest = {path: blob(size, T + mtime * S) for path, (size, mtime) in dest_spec.items()}
    result = plan(source, dest, delete=delete)
    copied = [copy.path for copy in result.copies]
    assert sorted(copied + result.skips) == sorted(source)
    assert set(result.deletes) == (set(dest) - set(source) if delete else set())
    # Applying the plan leaves nothing to do: a re-run is a no-op.
    after = {path: dest[path] for path in dest if path not in result.deletes}
    after.update({path: blob(source[path].size, source[path].mtime_ns) for path in copied})
    rerun = plan(source, after, delete=delete)
    assert rerun.copies == [] and rerun.deletes == []
