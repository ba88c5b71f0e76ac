"""The second-order histogram booster: rounds scaling, speed against LightGBM and xgboost, memory.

- rounds: fit time of 2,000 rounds over that of 200 (20k x 20, depth 4, one thread: on a
  shared machine every threaded launch may wait for a busy core, which swamps the ratio);
  linear growth gives 10x, the target is <= 11x;
- speed: 100,000 x 50, 200 trees of depth 6, 256 bins, one thread each, at equal held-out AUC
  (+-0.005); median over interleaved runs of the wall time and of the process CPU time (on a
  machine shared with other jobs the CPU time is the steadier of the two); target <= 1.2x;
- memory: peak resident memory of a 1,000,000 x 50 fit (20 trees) in a fresh process; target
  under 4 GB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from mlcanon.ensemble import XGBClassifier

KW = dict(max_depth=6, learning_rate=0.1, reg_lambda=1.0, min_child_weight=1.0, n_jobs=1)


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def rounds_scaling(repeat: int = 3) -> float:
    X, y = make_classification(20_000, 20, n_informative=10, random_state=0)
    kw = {**KW, "max_depth": 4}
    XGBClassifier(**{**kw, "n_estimators": 5}).fit(X, y)  # compile the kernels
    t200, t2000 = [], []
    for _ in range(repeat):
        t200.append(_timed(lambda: XGBClassifier(**kw, n_estimators=200).fit(X, y)))
        t2000.append(_timed(lambda: XGBClassifier(**kw, n_estimators=2000).fit(X, y)))
    wall = statistics.median(b[0] for b in t2000) / statistics.median(a[0] for a in t200)
    cpu = statistics.median(b[1] for b in t2000) / statistics.median(a[1] for a in t200)
    print(
        f"rounds 2000 / 200 (20k x 20, depth 4, 1 thread): wall {wall:.2f}x, CPU {cpu:.2f}x "
        f"(target <= 11: {'met' if max(wall, cpu) <= 11 else 'MISSED'})",
        flush=True,
    )
    return wall


def speed(repeat: int = 3) -> dict[str, tuple[float, float]]:
    import lightgbm as lgb
    import xgboost as xgb

    X, y = make_classification(120_000, 50, n_informative=20, n_redundant=10, random_state=0)
    X, X_test, y, y_test = X[:100_000], X[100_000:], y[:100_000], y[100_000:]
    kw = {**KW, "n_estimators": 200}
    models = {
        "ours": lambda: XGBClassifier(**kw, max_bin=256),
        "xgboost": lambda: xgb.XGBClassifier(**kw, max_bin=256, tree_method="hist"),
        "lightgbm": lambda: lgb.LGBMClassifier(
            **kw, num_leaves=64, max_bin=255, min_child_samples=1, verbose=-1
        ),
    }
    XGBClassifier(**{**kw, "n_estimators": 2}).fit(X[:10_000], y[:10_000])  # compile
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in models}
    auc = {}
    for _ in range(repeat):  # interleaved, so that a busy spell hits all three
        for name, make in models.items():
            fitted = []
            times[name].append(_timed(lambda make=make, fitted=fitted: fitted.append(
                make().fit(X, y))))  # fmt: skip
            auc[name] = roc_auc_score(y_test, fitted[0].predict_proba(X_test)[:, 1])
    med = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
           for k, v in times.items()}  # fmt: skip
    for ref in ("lightgbm", "xgboost"):
        same = abs(auc["ours"] - auc[ref]) <= 0.005
        w, c = med["ours"][0] / med[ref][0], med["ours"][1] / med[ref][1]
        print(
            f"booster 100k x 50, 200 trees d6, 1 thread vs {ref:<8}: ours {med['ours'][0]:.2f} s "
            f"(CPU {med['ours'][1]:.2f}), {ref} {med[ref][0]:.2f} s (CPU {med[ref][1]:.2f}); "
            f"ratio wall {w:.2f}, CPU {c:.2f} (target <= 1.2: {'met' if c <= 1.2 else 'MISSED'}); "
            f"AUC {auc['ours']:.4f} vs {auc[ref]:.4f} ({'equal' if same else 'DIFFERENT'})",
            flush=True,
        )
    return med


_BIG = """
import resource, time
import numpy as np
from mlcanon.ensemble import XGBClassifier
rng = np.random.default_rng(0)
X = rng.standard_normal((1_000_000, 50))
y = (X[:, :5].sum(1) + rng.standard_normal(1_000_000) > 0).astype(np.int64)
t = time.perf_counter()
XGBClassifier(n_estimators=20, max_depth=6, n_jobs=2).fit(X, y)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def memory() -> float:
    out = subprocess.run([sys.executable, "-c", _BIG], capture_output=True, text=True, check=True)
    seconds, peak_mb = map(float, out.stdout.split())
    print(
        f"1M x 50, 20 trees d6: {seconds:.1f} s, peak RSS {peak_mb / 1024:.2f} GB (data alone "
        f"{1_000_000 * 50 * 8 / 2**30:.2f} GB; target < 4 GB: "
        f"{'met' if peak_mb < 4096 else 'MISSED'})",
        flush=True,
    )
    return peak_mb


def main() -> None:
    rounds_scaling()
    try:
        speed()
    except ModuleNotFoundError as exc:
        print(f"   comparison skipped: {exc.name} missing")
    memory()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
