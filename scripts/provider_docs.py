"""Write the key table of each built-in provider's page (its description's ``docs_page`` in
docs/providers/) from the provider's description. The table sits between the two KEYS
markers; the rest of the page is prose. ``--check`` changes nothing and exits 1 if a page
is out of date.

    python scripts/provider_docs.py          # rewrite the tables
    python scripts/provider_docs.py --check  # what tests/providers/test_descriptions.py runs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xtstore.catalog import BUILTIN_DESCRIPTIONS, builtin_description
from xtstore.describe import ProviderDescription

DOCS = Path(__file__).resolve().parent.parent / "docs" / "providers"
BEGIN = "<!-- KEYS: written by scripts/provider_docs.py from the provider's description -->"
END = "<!-- /KEYS -->"

def pages() -> dict[str, ProviderDescription]:
    """Each built-in provider's page in docs/providers/ and its description."""
    found = {}
    for name in BUILTIN_DESCRIPTIONS:
        description = builtin_description(name)
        if description is None or description.docs_page is None:
            raise ValueError(f"built-in provider {name} names no docs_page in its description")
        found[description.docs_page] = description
    return found


def key_table(description: ProviderDescription) -> str:
    """The Markdown table of ``description``'s keys."""
    if not description.keys:
        return "No keys besides `type`, `provider`, `name` and `retry`."
    lines = ["| key | type | default | secret | meaning |", "|---|---|---|---|---|"]
    for key in description.keys:
        name = f"`{key.name}`" + (" (required)" if key.required else "")
        kind = key.type + (": " + ", ".join(f"`{c}`" for c in key.choices) if key.choices else "")
        default = "" if key.default is None else f"`{key.default}`"
        lines.append(f"| {name} | {kind} | {default} | {'yes' if key.secret else ''} |"
                     f" {key.help} |")
    return "\n".join(lines)


def page_with_table(text: str, description: ProviderDescription) -> str:
    """``text`` with the part between the markers replaced by the current table."""
    before, begin, rest = text.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page of {description.name} has no {BEGIN} ... {END} markers")
    return f"{before}{BEGIN}\n{key_table(description)}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    check = parser.parse_args(argv).check
    stale = []
    for page, description in pages().items():
        path = DOCS / page
        text = path.read_text(encoding="utf-8")
        wanted = page_with_table(text, description)
        if wanted != text:
            stale.append(str(path))
            if not check:
                path.write_text(wanted, encoding="utf-8")
    if stale:
        verb = "out of date" if check else "rewritten"
        print(f"{verb}: {', '.join(stale)}", file=sys.stderr)
        return 1 if check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
