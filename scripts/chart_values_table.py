"""The values table of the chart README, from values.yaml and its `# --` comments.

`python scripts/chart_values_table.py` rewrites the table between the README's markers;
a test fails when the README and values.yaml disagree.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "charts" / "execution-operator"
BEGIN = "<!-- values-table:begin -->"
END = "<!-- values-table:end -->"
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z][A-Za-z0-9]*):")


def _descriptions(text: str) -> dict[str, str]:
    """Dotted key → the `# --` comment (with its continuation lines) right above it."""
    found: dict[str, str] = {}
    path: list[tuple[int, str]] = []
    comment: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# -- "):
            comment = [stripped[5:]]
        elif stripped.startswith("#") and comment is not None:
            comment.append(stripped.lstrip("# "))
        elif match := _KEY.match(line):
            indent = len(match["indent"])
            path = [(i, k) for i, k in path if i < indent] + [(indent, match["key"])]
            if comment is not None:
                found[".".join(k for _, k in path)] = " ".join(comment)
            comment = None
        else:
            comment = None
    return found


def _rows(values: dict[str, Any], documented: dict[str, str], prefix: str = "") -> list[str]:
    """One row a key; a map documented as a whole is one row, others one row a leaf."""
    rows: list[str] = []
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and dotted not in documented:
            rows += _rows(value, documented, dotted + ".")
        else:
            default = json.dumps(value, separators=(",", ":")).replace("|", "\\|")
            rows.append(f"| `{dotted}` | `{default}` | {documented.get(dotted, '')} |")
    return rows


def values_table() -> str:
    text = (CHART / "values.yaml").read_text()
    header = ["| Key | Default | Description |", "|---|---|---|"]
    rows = _rows(yaml.safe_load(text), _descriptions(text))
    return "\n".join(header + rows) + "\n"


def undocumented() -> list[str]:
    """Keys of values.yaml without a `# --` comment."""
    table = values_table()
    return [line.split("`")[1] for line in table.splitlines()[2:] if line.endswith("|  |")]


def readme_with_table(readme: str) -> str:
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{values_table()}{END}{tail}"


def main() -> None:
    path = CHART / "README.md"
    path.write_text(readme_with_table(path.read_text()))
    sys.stdout.write(f"wrote the values table of {path.name}\n")


if __name__ == "__main__":
    main()
