"""Trees and ensembles vs their references (2 threads each where they thread).

- second-order booster, 100,000 x 50, 200 trees of depth 6, 256 bins: vs LightGBM and xgboost
  (hist), at equal held-out AUC (+-0.005); target ratio <= 3.0;
- random forest, 100 trees: vs scikit-learn (n_jobs=2 both); target <= 1.5;
- one CART tree (fully grown): vs scikit-learn; target <= 2.0.
"""

from __future__ import annotations

from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from benchmarks._harness import compare
from mlcanon.ensemble import RandomForestClassifier, XGBClassifier
from mlcanon.tree import DecisionTreeClassifier

THREADS = 2


def _booster(X, y, X_test, y_test) -> None:
    import lightgbm as lgb
    import xgboost as xgb

    kw = dict(n_estimators=200, max_depth=6, learning_rate=0.1, reg_lambda=1.0,
              min_child_weight=1.0, n_jobs=THREADS)  # fmt: skip
    models = {
        "ours": lambda: XGBClassifier(**kw, max_bin=256),
        "xgboost": lambda: xgb.XGBClassifier(**kw, max_bin=256, tree_method="hist"),
        "lightgbm": lambda: lgb.LGBMClassifier(
            **kw, num_leaves=64, max_bin=255, min_child_samples=1, verbose=-1
        ),
    }
    auc = {}
    for name, make in models.items():
        model = make().fit(X, y)
        auc[name] = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print("   held-out AUC: " + ", ".join(f"{k} {v:.4f}" for k, v in auc.items()), flush=True)
    for ref in ("lightgbm", "xgboost"):
        same = abs(auc["ours"] - auc[ref]) <= 0.005
        compare(
            f"booster 100k x 50, 200 trees d6 vs {ref}",
            lambda: models["ours"]().fit(X, y),
            lambda ref=ref: models[ref]().fit(X, y),
            ref_name=ref,
            target=3.0,
            repeat=2,
            note=f"AUC {auc['ours']:.4f} vs {auc[ref]:.4f} ({'equal' if same else 'DIFFERENT'})",
        )


def main() -> None:
    from sklearn.ensemble import RandomForestClassifier as SkForest
    from sklearn.tree import DecisionTreeClassifier as SkTree

    X, y = make_classification(120_000, 50, n_informative=20, n_redundant=10,
                               random_state=0)  # fmt: skip
    X, X_test, y, y_test = X[:100_000], X[100_000:], y[:100_000], y[100_000:]
    Xs, ys = X[:10_000, :20], y[:10_000]
    compare(
        "CART (fully grown), 10k x 20",
        lambda: DecisionTreeClassifier(random_state=0).fit(Xs, ys),
        lambda: SkTree(random_state=0).fit(Xs, ys),
        ref_name="sklearn",
        target=2.0,
        repeat=5,
    )
    compare(
        "random forest, 100 trees, 10k x 20",
        lambda: RandomForestClassifier(100, n_jobs=THREADS, random_state=0).fit(Xs, ys),
        lambda: SkForest(100, n_jobs=THREADS, random_state=0).fit(Xs, ys),
        ref_name="sklearn",
        target=1.5,
        repeat=3,
    )
    try:
        _booster(X, y, X_test, y_test)
    except ModuleNotFoundError as exc:
        print(f"   booster comparison skipped: {exc.name} missing")


if __name__ == "__main__":
    main()
