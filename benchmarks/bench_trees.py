"""Trees and ensembles vs their references (2 threads each where they thread); the booster has
its own benchmark (bench_booster.py).

- random forest, 100 trees: vs scikit-learn (n_jobs=2 both); target <= 1.5;
- one CART tree (fully grown): vs scikit-learn; target <= 2.0.
"""

from __future__ import annotations

from sklearn.datasets import make_classification

from benchmarks._harness import compare
from mlcanon.ensemble import RandomForestClassifier
from mlcanon.tree import DecisionTreeClassifier

THREADS = 2


def main() -> None:
    from sklearn.ensemble import RandomForestClassifier as SkForest
    from sklearn.tree import DecisionTreeClassifier as SkTree

    X, y = make_classification(120_000, 50, n_informative=20, n_redundant=10,
                               random_state=0)  # fmt: skip
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


if __name__ == "__main__":
    main()
