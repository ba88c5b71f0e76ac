"""Regenerate expected_failures/ from a run without the lists, one block per reason.

    MLCANON_ACCEPTANCE_IGNORE_EXPECTED=1 python tests/acceptance/table.py --all --save run.json
    python tests/acceptance/expected.py run.json

Each upstream file that ran gets its own list, ``expected_failures/<path with / as .>.txt``;
the lists of files that did not run are left as they are, so a run of one upstream file
(``--files``, see table.py) regenerates only that file's list.

The reason of each failing test is read from its failure (a missing parameter, sparse input, a
private internal the test reads, a message worded differently, ...). Reasons written by hand in
the current list (blocks whose reason starts with ``[kept]``) are carried over unchanged.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
PREFIX = "tests/acceptance/upstream.txt::"

RULES = [
    (
        r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'",
        "missing parameter: {0}({1}=...) is not implemented",
    ),
    (
        r"(\w+)\(\) got an unexpected keyword argument '(\w+)'",
        "missing parameter: {0}({1}=...) is not implemented",
    ),
    (
        r"Invalid parameter '(\w+)' for estimator (\w+)",
        "missing parameter: {1}({0}=...) is not implemented",
    ),
    (r"solver must be one of .*; got '([\w-]+)'", "solver {0!r} is not implemented"),
    (
        r"sparse input is not supported|got csr_|got csc_|types \['cs[rc]_",
        "scipy.sparse input is not supported",
    ),
    (
        r"fetch_|download|urlopen|HTTP",
        "needs a dataset download (nothing is downloaded at run time)",
    ),
    (r"algorithm must be one of .*; got '([\w-]+)'", "algorithm {0!r} is not implemented"),
    (r"object has no attribute '(_\w+)'", "the test reads the reference's private internal {0}"),
    (r"'(\w+)' object has no attribute '(\w+)'", "{0}.{1} is not implemented"),
    (r"average must be one of .*got 'samples'", "average='samples' is not implemented"),
    (
        r"must be 1-D, got 2-D|must be N-D, got N-D|y should be a 1d array",
        "multilabel or multi-output (2-D) targets are not supported",
    ),
    (r"Regex pattern did not match", "an error or warning message is worded differently"),
    (r"DID NOT RAISE", "the reference raises an error here; mlcanon does not"),
    (r"DID NOT WARN", "the reference warns here; mlcanon does not"),
    (r"float32|float64|dtype", "float32 input is computed (or returned) in float64"),
    (
        r"Not equal to tolerance|Arrays are not|Mismatched elements|assert ",
        "the result differs from the values the upstream test expects (not yet analysed)",
    ),
]


def reason_of(error: str) -> str:
    for pattern, text in RULES:
        m = re.search(pattern, error)
        if m:
            return text.format(*m.groups())
    return "fails with: " + re.sub(r"\s+", " ", error)[:120]


def list_path(upstream_file: str) -> Path:
    return HERE / "expected_failures" / (upstream_file.replace("/", ".") + ".txt")


def kept_blocks(path: Path) -> dict[str, str]:
    kept, reason = {}, None
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        if line.startswith("# reason:"):
            reason = line.removeprefix("# reason:").strip()
        elif line.strip() and not line.startswith("#") and reason and reason.startswith("[kept]"):
            kept[line.strip()] = reason
    return kept


def write_list(upstream_file: str, failed: list[tuple[str, str]]) -> None:
    path = list_path(upstream_file)
    kept = kept_blocks(path)
    blocks: dict[str, list[str]] = defaultdict(list)
    for test_id, error in failed:
        blocks[kept.get(test_id) or reason_of(error)].append(test_id)
    text = [
        f"# Upstream tests of {upstream_file} expected to fail against mlcanon, grouped under",
        "# the reason they fail. Each line is a test id (upstream file::test name[parameters]);",
        "# a line ending in `*` covers every id that starts with it. They are strict xfails: a",
        "# test that starts passing must leave the list. Regenerate with expected.py.",
    ]
    for reason in sorted(blocks, key=lambda r: (-len(blocks[r]), r)):
        text += ["", f"# reason: {reason}".rstrip(), *blocks[reason]]
    path.write_text("\n".join(text) + "\n")


def main() -> None:
    rows = json.loads(Path(sys.argv[1]).read_text())
    if any(row.get("outcome") == "xfail" for row in rows.values()):
        sys.exit(
            "expected.py: this run used the lists; rerun with MLCANON_ACCEPTANCE_IGNORE_EXPECTED=1"
        )
    failed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for nodeid, row in sorted(rows.items()):
        test_id = nodeid.removeprefix(PREFIX)
        upstream_file = test_id.split("::")[0]
        failed.setdefault(upstream_file, [])
        if row.get("outcome") in ("failed", "error"):
            failed[upstream_file].append((test_id, row.get("error", "")))
    for upstream_file, tests in failed.items():
        write_list(upstream_file, tests)


if __name__ == "__main__":
    main()
