"""Every relative link in README.md and docs/ leads somewhere: to a file of the repository and,
for a ``#anchor``, to a heading of that file (GitHub's anchor for it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

# [text](target) and [text](target "title"); images too. Reference-style links are not used.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None:
            if stripped.startswith(fence):
                fence = None
        else:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: its text in lower case, with markup and punctuation
    other than ``-`` and ``_`` dropped and each space turned into ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in ``page``, numbered as GitHub numbers repeated ones."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(page.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """The relative links of ``page`` (no scheme, no ``mailto:``), with their line numbers."""
    return [(number, target)
            for number, line in prose_lines(page.read_text(encoding="utf-8"))
            for target in LINK.findall(CODE_SPAN.sub("", line))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """One line per link of ``page`` that leads nowhere, naming the page (relative to
    ``root``), the line and the target."""
    problems = []
    for number, target in links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{where}: no heading with that anchor in "
                            f"{destination.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_checker_sees_links_anchors_and_breakage(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text(
        "# Other\n\n## `store-file` (the default)\n\n## XT's retry\n", encoding="utf-8")
    page.write_text(
        "# Title\n\nSee [other](other.md#store-file-the-default), [retry](other.md#xts-retry),\n"
        "[here](#title), [gone](missing.md), [bad](other.md#nope), [web](https://example.com).\n"
        "`[in code](missing-too.md)`\n\n```\n[fenced](missing-three.md)\n```\n",
        encoding="utf-8")
    found = [target for _, target in links(page)]
    assert found == ["other.md#store-file-the-default", "other.md#xts-retry", "#title",
                     "missing.md", "other.md#nope"]
    assert broken_links(page, tmp_path) == [
        "page.md:4: missing.md: no such file",
        "page.md:4: other.md#nope: no heading with that anchor in other.md"]
