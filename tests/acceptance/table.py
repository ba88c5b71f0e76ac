"""Per-file counts of the upstream tests run against mlcanon (see conftest.py in this folder).

    python tests/acceptance/table.py              # the fast files (those in `make test`)
    python tests/acceptance/table.py --all        # fast and slow files
    python tests/acceptance/table.py --json F     # only print the table of an earlier run
    python tests/acceptance/table.py --save F     # run, print, and keep the results in F
    python tests/acceptance/table.py --all --files test_ridge,test_logistic   # only these files

A test counts only if mlcanon code ran in it. Columns: pass (including a test that upstream
marks as a known failure of its own, non-strict, and that passes against mlcanon), xfail (listed
in expected_failures/ with its reason), fail (anything else: a failure, an error, or a listed
test that now passes), and the pass rate pass / (pass + xfail + fail).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(include_slow: bool, workers: str, files: str = "") -> dict:
    out = Path(tempfile.mkdtemp()) / "acceptance.json"
    env = dict(os.environ, MLCANON_ACCEPTANCE_JSON=str(out), MLCANON_ACCEPTANCE_FILES=files)
    env.setdefault("PYTHONPATH", str(ROOT / "src"))
    cmd = [sys.executable, "-m", "pytest", "tests/acceptance", "-q", "-p", "no:cacheprovider"]
    cmd += ["-n", workers, "-o", "addopts=--strict-markers --import-mode=importlib"]
    cmd += ["-m", "" if include_slow else "not slow", "--tb=no", "-q", "--no-header", "-rN"]
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False)
    return json.loads(out.read_text())


def table(rows: dict) -> str:
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows.values():
        outcome = row.get("outcome", "error")
        if outcome == "skipped" or (outcome == "passed" and not row.get("ran", False)):
            continue
        key = {"passed": "pass", "xpass": "pass", "xfail": "xfail"}.get(outcome, "fail")
        counts[row["file"]][key] += 1
    lines = [
        f"| {'upstream file':<72} | pass | xfail | fail | pass rate |",
        "|" + "-" * 74 + "|------|-------|------|-----------|",
    ]
    total: Counter = Counter()
    for name in sorted(counts):
        c = counts[name]
        total.update(c)
        lines.append(_row(name, c))
    lines.append(_row("total", total))
    return "\n".join(lines)


def _row(name: str, c: Counter) -> str:
    n = c["pass"] + c["xfail"] + c["fail"]
    rate = f"{100 * c['pass'] / n:.1f}%" if n else "-"
    return f"| {name:<72} | {c['pass']:>4} | {c['xfail']:>5} | {c['fail']:>4} | {rate:>9} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="include the slow files")
    parser.add_argument("--json", type=Path, help="results of an earlier run")
    parser.add_argument("--save", type=Path, help="also write this run's results here")
    parser.add_argument("-n", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("--files", default="", help="comma-separated parts of upstream paths")
    args = parser.parse_args()
    rows = json.loads(args.json.read_text()) if args.json else run(args.all, args.n, args.files)
    if args.save:
        args.save.write_text(json.dumps(rows, indent=0))
    print(table(rows))


if __name__ == "__main__":
    main()
