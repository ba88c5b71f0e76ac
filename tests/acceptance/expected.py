"""Regenerate expected_failures.txt from a run without it, one block per reason.

    MLCANON_ACCEPTANCE_IGNORE_EXPECTED=1 python tests/acceptance/table.py --all --save run.json
    python tests/acceptance/expected.py run.json > tests/acceptance/expected_failures.txt

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


def kept_blocks() -> dict[str, str]:
    kept, reason = {}, None
    for line in (HERE / "expected_failures.txt").read_text().splitlines():
        if line.startswith("# reason:"):
            reason = line.removeprefix("# reason:").strip()
        elif line.strip() and not line.startswith("#") and reason and reason.startswith("[kept]"):
            kept[line.strip()] = reason
    return kept


def main() -> None:
    rows = json.loads(Path(sys.argv[1]).read_text())
    blocks: dict[str, list[str]] = defaultdict(list)
    kept = kept_blocks()
    for nodeid, row in sorted(rows.items()):
        if row.get("outcome") not in ("failed", "error"):
            continue
        test_id = nodeid.removeprefix(PREFIX)
        blocks[kept.get(test_id) or reason_of(row.get("error", ""))].append(test_id)
    print("# Upstream tests expected to fail against mlcanon, grouped under the reason they fail.")
    print("# Each line is a test id (upstream file::test name[parameters]); a line ending in `*`")
    print("# covers every id that starts with it. They are strict xfails: a test that starts")
    print("# passing must leave the list. Regenerate with expected.py (see its docstring).")
    for reason in sorted(blocks, key=lambda r: (-len(blocks[r]), r)):
        print(f"\n# reason: {reason}")
        print("\n".join(blocks[reason]))


if __name__ == "__main__":
    main()
