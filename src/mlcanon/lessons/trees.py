"""Lessons on trees and averaging ensembles: CART, random forests (parameters, missing values,
parallel and distributed fits) and the families of ensemble methods."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from mlcanon.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
    XGBClassifier,
)
from mlcanon.lessons import Context, lesson
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text


def _split(name: str, seed: int = 0):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)


# --- decision trees ----------------------------------------------------------------------------


@lesson("decision-tree")
def decision_tree(ctx: Context) -> None:
    from sklearn import tree as sk

    ctx.say("""
        CART grows a binary tree greedily. At a node with samples S it tries every feature and
        every threshold halfway between two consecutive distinct values, and keeps the split
        that most decreases the weighted impurity of the children, w_L I(L) + w_R I(R). For
        classification the impurity is the Gini index 1 - sum_k p_k^2 (the chance that two
        random draws from the node disagree) or the entropy -sum_k p_k log2 p_k; for regression
        it is the variance of y in the node, and a leaf predicts its mean. It stops at max_depth,
        below min_samples_split samples, when a child would hold fewer than min_samples_leaf
        samples, or when the best decrease is under min_impurity_decrease: these are the
        pre-pruning knobs.
        """)
    Xtr, Xte, ytr, _ = _split("digits")
    p = np.bincount(ytr) / len(ytr)
    root_by_hand = {
        "gini": ("1 - sum p_k^2", 1 - np.sum(p**2)),
        "entropy": ("-sum p_k log2 p_k", -np.sum(p * np.log2(p))),
    }
    trees = {}
    for criterion, (formula, root) in root_by_hand.items():
        kw = dict(criterion=criterion, max_depth=3, random_state=0)
        ours, ref = DecisionTreeClassifier(**kw).fit(Xtr, ytr), sk.DecisionTreeClassifier(**kw)
        ref.fit(Xtr, ytr)
        trees[criterion] = ours
        for attr in ("feature", "threshold", "n_node_samples", "impurity"):
            ctx.check(
                f"{criterion}, depth 3 on digits: {attr} of every node",
                getattr(ours.tree_, attr),
                getattr(ref.tree_, attr),
                rtol=1e-12 if attr == "impurity" else 0.0,  # the structure exactly
                ref="sklearn DecisionTreeClassifier",
            )
        ctx.check(
            f"{criterion}: predicted probabilities on the test set",
            ours.predict_proba(Xte),
            ref.predict_proba(Xte),
            atol=1e-12,
            ref="sklearn DecisionTreeClassifier",
        )
        root_impurity = ours.tree_.impurity[0]
        ctx.check(
            f"root {criterion} = {formula} (by hand)",
            root_impurity,
            root,
            rtol=1e-12,
            ref="definition",
        )
    ours, ent = trees["gini"], trees["entropy"]
    same = int(
        np.sum(
            (ours.tree_.feature == ent.tree_.feature)
            & (ours.tree_.threshold == ent.tree_.threshold)
            & (ours.tree_.feature >= 0)
        )
    )
    n_splits = int(np.sum(ours.tree_.feature >= 0))
    ctx.say(f"""
        Gini and entropy are both concave in p and agree at the extremes, but on ten classes
        they weigh impure nodes differently: in these two depth-3 trees on digits {same} of
        the {n_splits} split nodes of the Gini tree have the same feature and threshold in the
        entropy tree (a node's position also depends on the splits above it).
        """)
    ctx.say("""
        A caveat when comparing with scikit-learn on other data: when two features cut a node
        into exactly the same two groups (common in small nodes and with rounded values), the
        criterion ties and scikit-learn takes the first in a random feature order. Both trees
        are then equally good; the test suite checks that every disagreement is such a tie.
        """)
    names = [f"x{j}" for j in range(Xtr.shape[1])]
    rules = export_text(ours, feature_names=names, show_missing=True).rstrip("\n").split("\n")
    ctx.table(
        "the fitted tree (export_text; '(NaN)' marks where missing values go)",
        ["rule"],
        [[r] for r in rules],
    )
    _depth_curves(ctx, *_split("breast_cancer"))
    _regression_tree(ctx)


def _depth_curves(ctx: Context, Xtr, Xte, ytr, yte) -> None:
    depths = [1, 2, 3, 4, 6, 8, None]
    rows, acc = [], {}
    for crit in ("gini", "entropy"):
        for d in depths:
            t = DecisionTreeClassifier(criterion=crit, max_depth=d, random_state=0).fit(Xtr, ytr)
            acc[crit, d] = (t.score(Xtr, ytr), t.score(Xte, yte), t.get_n_leaves())
    for d in depths:
        rows.append([str(d), *acc["gini", d], acc["entropy", d][1]])
    ctx.table(
        "depth as pre-pruning (breast cancer)",
        ["max_depth", "train acc (gini)", "test acc (gini)", "leaves", "test acc (entropy)"],
        rows,
    )
    full, best = acc["gini", None], max(acc["gini", d][1] for d in depths)
    ctx.claim(
        "a fully grown tree fits the training set perfectly but does not test best",
        bool(full[0] == 1.0 and full[1] <= best),
        f"full tree: train {full[0]:.3f}, test {full[1]:.3f}; best test accuracy over "
        f"depths {best:.3f}",
    )
    leaf_rows = []
    for leaf in (1, 5, 20, 50):
        t = DecisionTreeClassifier(min_samples_leaf=leaf, random_state=0).fit(Xtr, ytr)
        leaf_rows.append([leaf, t.get_n_leaves(), t.get_depth(), t.score(Xte, yte)])
    ctx.table(
        "min_samples_leaf as pre-pruning",
        ["min_samples_leaf", "leaves", "depth", "test acc"],
        leaf_rows,
    )
    gap = max(abs(acc["gini", d][1] - acc["entropy", d][1]) for d in depths)
    low, high = min(acc["gini", d][1] for d in depths), max(acc["gini", d][1] for d in depths)
    ctx.say(f"""
        On breast cancer the two criteria's test accuracies differ by at most {gap:.3f} at any
        depth, while the depth moves the Gini tree's test accuracy between {low:.3f} and
        {high:.3f}.
        """)
    with ctx.figure("depth", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        xs = range(len(depths))
        ax.plot(xs, [acc["gini", d][0] for d in depths], "o-", label="train")
        ax.plot(xs, [acc["gini", d][1] for d in depths], "s-", label="test")
        ax.set_xticks(list(xs), [str(d) for d in depths])
        ax.set(xlabel="max_depth", ylabel="accuracy", title="deeper trees overfit")
        ax.legend()


def _regression_tree(ctx: Context) -> None:
    from sklearn import tree as sk

    Xtr, Xte, ytr, _ = _split_regression()
    ours = DecisionTreeRegressor(max_depth=4, random_state=0).fit(Xtr, ytr)
    ref = sk.DecisionTreeRegressor(max_depth=4, random_state=0).fit(Xtr, ytr)
    ctx.check(
        "regression tree (squared error, depth 4) on diabetes: test predictions",
        ours.predict(Xte),
        ref.predict(Xte),
        rtol=1e-12,
        ref="sklearn DecisionTreeRegressor",
    )
    ctx.check(
        "root impurity = variance of y",
        ours.tree_.impurity[0],
        np.var(ytr),
        rtol=1e-10,
        ref="numpy var",
    )


def _split_regression(seed: int = 0):
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=seed)


# --- random forests ----------------------------------------------------------------------------


@lesson("random-forest")
def random_forest(ctx: Context) -> None:
    from sklearn import ensemble as ske

    ctx.say("""
        A random forest is bagging of decorrelated trees: each tree is grown (deep, unpruned) on
        a bootstrap sample of the rows, and each node searches only max_features random
        features (sqrt(d) for classification by default). The forest averages the trees'
        class distributions. The main parameters: n_estimators (more trees never hurt accuracy,
        they only cost time), max_features (smaller means less correlated but weaker trees),
        max_depth / min_samples_leaf (tree size), bootstrap and max_samples (the resampling),
        oob_score. A row is left out of a bootstrap sample with probability (1 - 1/n)^n ~ 1/e,
        so each row is predicted by the ~37% of trees that never saw it: the out-of-bag (OOB)
        score, a free estimate of the test score.
        """)
    Xtr, Xte, ytr, yte = _split("breast_cancer")
    kw = dict(n_estimators=150, oob_score=True, random_state=0)
    ours = RandomForestClassifier(**kw).fit(Xtr, ytr)
    ref = ske.RandomForestClassifier(**kw).fit(Xtr, ytr)
    _against_sklearn_over_seeds(ctx, Xtr, Xte, ytr, yte)
    ctx.claim(
        "the OOB score estimates the held-out score",
        abs(ours.oob_score_ - ours.score(Xte, yte)) < 0.04,
        f"OOB {ours.oob_score_:.3f} vs held-out {ours.score(Xte, yte):.3f}",
    )
    corr = np.corrcoef(ours.feature_importances_, ref.feature_importances_)[0, 1]
    ctx.claim(
        "impurity importances agree with scikit-learn's",
        corr > 0.9,
        f"correlation {corr:.3f} over the 30 features",
        ref="sklearn",
    )
    from sklearn.datasets import make_classification

    _parallel_fits(ctx, *make_classification(4000, 20, n_informative=8, random_state=0))
    _forest_missing(ctx, Xtr, Xte, ytr, yte)
    _notes_pros_and_cons(ctx, Xtr, Xte, ytr, yte)


def _parallel_fits(ctx: Context, Xtr, ytr) -> None:
    ctx.say("""
        Can a forest be trained in parallel? Yes: the trees are independent given their random
        seeds. We draw every tree's seed up front, then hand the tree fits to joblib: threads by
        default (the numba tree builder releases the GIL), worker processes, or a Dask cluster
        through joblib's Dask backend, without changing the model code. Because each tree's
        randomness comes only from its own seed, every backend returns the same forest.
        """)
    seq = RandomForestClassifier(n_estimators=40, random_state=0)
    t0 = time.perf_counter()
    seq.fit(Xtr, ytr)
    t_seq = time.perf_counter() - t0
    par = RandomForestClassifier(n_estimators=40, n_jobs=2, random_state=0)
    t0 = time.perf_counter()
    par.fit(Xtr, ytr)
    t_par = time.perf_counter() - t0
    ctx.claim(
        "n_jobs=2 (threads) builds the same forest as n_jobs=1",
        bool(np.array_equal(par.predict_proba(Xtr), seq.predict_proba(Xtr))),
        "training-set probabilities equal bit for bit",
    )
    rows = [["in process, n_jobs=1", t_seq], ["in process, n_jobs=2 (threads)", t_par]]
    try:
        import dask.distributed  # noqa: F401
    except ModuleNotFoundError:
        ctx.skip("fit on a Dask cluster of processes", "dask.distributed missing", ref="dask")
    else:
        _on_dask_processes(ctx, Xtr, ytr, seq, rows)
    ctx.table(
        f"fit time of 40 trees, {len(ytr):,} x {Xtr.shape[1]} (seconds; {os.cpu_count()} CPU "
        "cores that other jobs may share: indicative)",
        ["backend", "seconds"],
        rows,
    )


def _on_dask_processes(ctx: Context, Xtr, ytr, seq, rows: list) -> None:
    """Fit on a LocalCluster of two worker processes, then of one; draw the task stream."""
    import joblib
    from dask.distributed import Client, LocalCluster, get_task_stream

    def fit(client):
        with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            t0 = time.perf_counter()
            model = RandomForestClassifier(n_estimators=40, n_jobs=2, random_state=0)
            model.fit(Xtr, ytr)
            seconds = time.perf_counter() - t0
        return model, seconds, tasks.data

    # started here, inside the lesson function: worker processes re-import mlcanon, nothing
    # of the caller's module-level state. No dashboard; the scheduler's small HTTP server takes
    # any free port (its default, 8787, warns when another cluster on the machine holds it).
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )
    with cluster, Client(cluster) as client:
        # silence_logs quiets a worker only while it runs: a closing worker logged "Connection
        # to <scheduler> has been closed" to stderr at INFO
        client.run(_quiet_dask_logs)
        fit(client)  # warm-up: imports and numba's cached kernels load in each worker
        two, t_two, stream = fit(client)
        pids = client.run(os.getpid)
        # the cluster stops the second worker through its nanny, which tells the process to
        # stop; retire_workers(close_workers=True) made the worker close itself behind the
        # nanny's back, which could close its end of the stop queue first, and the worker
        # printed "Worker process died unexpectedly" with a traceback
        cluster.scale(1)
        deadline = time.monotonic() + 60
        while len(client.nthreads()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        one, t_one, _ = fit(client)
    rows += [["Dask, 2 worker processes", t_two], ["Dask, 1 worker process", t_one]]
    ctx.claim(
        "the forest fitted on 2 worker processes equals the in-process one",
        bool(np.array_equal(two.predict_proba(Xtr), seq.predict_proba(Xtr))),
        "training-set probabilities equal bit for bit",
    )
    ctx.claim(
        "... and on 1 worker process",
        bool(np.array_equal(one.predict_proba(Xtr), seq.predict_proba(Xtr))),
        "training-set probabilities equal bit for bit",
    )
    workers = sorted({t["worker"] for t in stream})
    ctx.claim(
        "the trees were fitted in two separate worker processes",
        len(set(pids.values())) == 2 and os.getpid() not in pids.values() and len(workers) == 2,
        f"worker pids {sorted(pids.values())}, this process "
        f"{os.getpid()}; {len(stream)} tasks over {len(workers)} workers",
    )
    ctx.say(f"""
        The same 40-tree fit on a local Dask cluster of worker processes took {t_two:.2f} s
        with two workers and {t_one:.2f} s with one ({t_one / t_two:.2f}x; this machine has
        {os.cpu_count()} CPU cores, which other jobs may share, so take the ratio as
        indicative). The task stream below shows when each batch of tree fits ran, in each of
        the two processes.
        """)
    t0 = min(ss["start"] for t in stream for ss in t["startstops"])
    with ctx.figure("dask-task-stream", figsize=(6.5, 2.4)) as fig:
        ax = fig.subplots()
        for t in stream:
            for ss in t["startstops"]:
                if ss["action"] == "compute":
                    ax.barh(
                        workers.index(t["worker"]),
                        ss["stop"] - ss["start"],
                        left=ss["start"] - t0,
                        height=0.6,
                        edgecolor="white",
                    )
        ax.set_yticks(range(len(workers)), [f"worker {i + 1}" for i in range(len(workers))])
        ax.set(xlabel="seconds", title="Dask task stream: tree-fitting tasks per worker process")


def _quiet_dask_logs() -> None:
    """Run in each Dask worker process: log only errors."""
    logging.getLogger("distributed").setLevel(logging.ERROR)


def _against_sklearn_over_seeds(ctx: Context, Xtr, Xte, ytr, yte) -> None:
    """Forests are random: compare ours and scikit-learn's as distributions over seeds."""
    from scipy.stats import ttest_ind
    from sklearn import ensemble as ske

    stats = {"ours": [], "scikit-learn": []}
    for seed in range(10):
        for name, cls in (
            ("ours", RandomForestClassifier),
            ("scikit-learn", ske.RandomForestClassifier),
        ):
            f = cls(n_estimators=30, oob_score=True, random_state=seed).fit(Xtr, ytr)
            leaves = np.mean([t.get_n_leaves() for t in f.estimators_])
            stats[name].append([f.score(Xte, yte), f.oob_score_, leaves])
    a, b = np.array(stats["ours"]), np.array(stats["scikit-learn"])
    names = ["held-out accuracy", "OOB accuracy", "leaves per tree"]
    pvals = [ttest_ind(a[:, j], b[:, j], equal_var=False).pvalue for j in range(3)]
    ctx.table(
        "30-tree forests on breast cancer over 10 seeds (mean ± std)",
        ["statistic", "ours", "scikit-learn", "Welch t-test p"],
        [
            [
                n,
                f"{a[:, j].mean():.4f} ± {a[:, j].std():.4f}",
                f"{b[:, j].mean():.4f} ± {b[:, j].std():.4f}",
                pvals[j],
            ]
            for j, n in enumerate(names)
        ],
    )
    ctx.claim(
        "same distribution over seeds as scikit-learn's forest: no statistic's means "
        "differ at p < 0.01",
        min(pvals) > 0.01,
        ", ".join(f"{n}: p = {p:.2f}" for n, p in zip(names, pvals, strict=True)),
        ref="sklearn RandomForestClassifier",
    )


def _forest_missing(ctx: Context, Xtr, Xte, ytr, yte) -> None:
    from sklearn import ensemble as ske

    from mlcanon.preprocessing import SimpleImputer

    ctx.say("""
        How does a random forest handle missing values? Breiman's original answer was to fill
        them (a rough median fill, then a proximity-weighted refill from the forest itself).
        Trees that learn a side for NaN at every split (as ours and scikit-learn's >= 1.4 do)
        make that unnecessary: missing values become a signal of their own. Below, 20% of the
        values of breast cancer are removed at random.
        """)
    rng = np.random.default_rng(0)
    Ntr, Nte = Xtr.copy(), Xte.copy()
    Ntr[rng.random(Ntr.shape) < 0.2] = np.nan
    Nte[rng.random(Nte.shape) < 0.2] = np.nan
    native = RandomForestClassifier(n_estimators=100, random_state=0).fit(Ntr, ytr)
    ref = ske.RandomForestClassifier(n_estimators=100, random_state=0).fit(Ntr, ytr)
    imp = SimpleImputer(strategy="median").fit(Ntr)
    filled = RandomForestClassifier(n_estimators=100, random_state=0)
    filled.fit(imp.transform(Ntr), ytr)
    ctx.check(
        "accuracy with NaN routed by the trees",
        native.score(Nte, yte),
        ref.score(Nte, yte),
        atol=0.02,
        ref="sklearn RandomForestClassifier",
    )
    complete = RandomForestClassifier(100, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    rows = [
        ["no missing values", complete],
        ["NaN routed at each split (ours)", native.score(Nte, yte)],
        ["NaN routed at each split (scikit-learn)", ref.score(Nte, yte)],
        ["median imputation, then forest", filled.score(imp.transform(Nte), yte)],
    ]
    ctx.table(
        "20% of values missing (breast cancer, held-out accuracy)", ["approach", "accuracy"], rows
    )
    ctx.claim(
        "routing NaN at each split needs no fill: it scores at least as well as median imputation",
        rows[1][1] >= rows[3][1],
        f"NaN routed {rows[1][1]:.3f}, median fill {rows[3][1]:.3f}, "
        f"no missing values {rows[0][1]:.3f}",
    )


def _notes_pros_and_cons(ctx: Context, Xtr, Xte, ytr, yte) -> None:
    ctx.say("""
        The notes list "strong randomness, hard to overfit, insensitive to noise and outliers",
        "fast on high-dimensional data" and "interpretable tree structure" under cons, and
        "does not focus on hard samples, so performance is limited" under pros. The labels are
        swapped: the first are the forest's advantages, the last is its weakness. We measure
        them. (The interpretability point is the weakest: a forest of hundreds of trees is far
        harder to read than one tree.)
        """)
    sizes = [1, 5, 25, 100, 300]
    accs = [
        RandomForestClassifier(n_estimators=b, random_state=0).fit(Xtr, ytr).score(Xte, yte)
        for b in sizes
    ]
    ctx.table(
        "more trees do not overfit",
        ["n_estimators", "test acc"],
        [[b, a] for b, a in zip(sizes, accs, strict=True)],
    )
    ctx.claim(
        "advantage: test accuracy does not fall as trees are added",
        min(accs[2:]) >= max(accs[2:]) - 0.02,
        f"accuracies {np.round(accs, 3).tolist()} for {sizes} trees",
    )
    rng = np.random.default_rng(1)
    noisy = ytr.copy()
    flip = rng.random(len(noisy)) < 0.15
    noisy[flip] = 1 - noisy[flip]
    tree_acc = DecisionTreeClassifier(random_state=0).fit(Xtr, noisy).score(Xte, yte)
    rf_acc = RandomForestClassifier(200, random_state=0).fit(Xtr, noisy).score(Xte, yte)
    ctx.claim(
        "advantage: robust to label noise (15% of training labels flipped)",
        rf_acc > tree_acc + 0.03,
        f"forest {rf_acc:.3f} vs single tree {tree_acc:.3f}",
    )
    from sklearn.datasets import make_classification

    X, y = make_classification(1500, 20, n_informative=6, flip_y=0.0, class_sep=0.6, random_state=2)
    rf = RandomForestClassifier(300, random_state=0).fit(X[:1000], y[:1000])
    gb = XGBClassifier(n_estimators=300, learning_rate=0.1, max_depth=4).fit(X[:1000], y[:1000])
    acc_gb, acc_rf = gb.score(X[1000:], y[1000:]), rf.score(X[1000:], y[1000:])
    ctx.claim(
        "weakness: on a hard, noise-free problem boosting (which concentrates on the "
        "errors) beats the forest",
        acc_gb > acc_rf,
        f"boosting {acc_gb:.3f} vs forest {acc_rf:.3f} (held-out accuracy)",
    )


# --- ensemble methods --------------------------------------------------------------------------


@lesson("ensembles")
def ensembles(ctx: Context) -> None:
    from sklearn import ensemble as ske
    from sklearn.model_selection import StratifiedKFold
    from sklearn.naive_bayes import GaussianNB

    ctx.say("""
        Four ways to combine models. Bagging fits one unstable learner on bootstrap samples and
        averages (variance goes down, bias stays); a random forest is bagging of trees with
        random feature subsets. Boosting fits learners one after another, each on what the
        previous ones got wrong (AdaBoost reweights samples, gradient boosting fits the negative
        gradient): bias goes down. Voting averages different models' votes or probabilities.
        Stacking learns the combination: a final model is fit on the base models' out-of-fold
        predictions.
        """)
    Xtr, Xte, ytr, yte = _split("breast_cancer")
    members = [
        ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ("nb", GaussianNB()),
        ("forest", RandomForestClassifier(50, random_state=0)),
    ]
    models = {
        "single tree": DecisionTreeClassifier(random_state=0),
        "bagging (50 trees)": BaggingClassifier(n_estimators=50, random_state=0),
        "random forest": RandomForestClassifier(100, random_state=0),
        "AdaBoost (stumps)": AdaBoostClassifier(n_estimators=100, random_state=0),
        "gradient boosting": GradientBoostingClassifier(n_estimators=100, random_state=0),
        "second-order boosting": XGBClassifier(n_estimators=100, learning_rate=0.1, max_depth=3),
        "soft voting (tree, NB, forest)": VotingClassifier(members, voting="soft"),
        "stacking (tree, NB, forest)": StackingClassifier(members, cv=StratifiedKFold(5)),
    }
    rows = [[name, m.fit(Xtr, ytr).score(Xte, yte)] for name, m in models.items()]
    ctx.table("held-out accuracy on breast cancer", ["method", "accuracy"], rows)
    vote = ske.VotingClassifier(members, voting="soft").fit(Xtr, ytr)
    ctx.check(
        "soft voting probabilities",
        models["soft voting (tree, NB, forest)"].predict_proba(Xte),
        vote.predict_proba(Xte),
        rtol=1e-12,
        ref="sklearn VotingClassifier",
    )
    from sklearn.linear_model import LogisticRegression

    final = LogisticRegression()
    ours = StackingClassifier(members, final_estimator=final, cv=StratifiedKFold(5)).fit(Xtr, ytr)
    ref = ske.StackingClassifier(members, final_estimator=final, cv=StratifiedKFold(5))
    ref.fit(Xtr, ytr)
    ctx.check(
        "stacking: out-of-fold features and final probabilities",
        ours.predict_proba(Xte),
        ref.predict_proba(Xte),
        rtol=1e-9,
        ref="sklearn StackingClassifier",
    )
    ada, ada_ref = (
        models["AdaBoost (stumps)"],
        ske.AdaBoostClassifier(n_estimators=100, random_state=0),
    )
    ctx.check(
        "AdaBoost (boosting) test probabilities",
        ada.predict_proba(Xte),
        ada_ref.fit(Xtr, ytr).predict_proba(Xte),
        atol=1e-10,
        ref="sklearn AdaBoostClassifier",
    )
    _variance_reduction(ctx, Xtr, Xte, ytr)


def _variance_reduction(ctx: Context, Xtr, Xte, ytr) -> None:
    """Refit on 8 random halves of the training set: how much do test predictions move?"""
    rng = np.random.default_rng(0)
    preds = {"single tree": [], "bagging": []}
    for _ in range(8):
        rows = rng.choice(len(ytr), len(ytr) // 2, replace=False)
        tree = DecisionTreeClassifier(random_state=0).fit(Xtr[rows], ytr[rows])
        bag = BaggingClassifier(n_estimators=30, random_state=0).fit(Xtr[rows], ytr[rows])
        preds["single tree"].append(tree.predict_proba(Xte)[:, 1])
        preds["bagging"].append(bag.predict_proba(Xte)[:, 1])
    var = {k: float(np.mean(np.var(v, axis=0))) for k, v in preds.items()}
    ctx.claim(
        "bagging reduces the variance of the predictions",
        var["bagging"] < var["single tree"] / 2,
        f"mean variance of P(y=1|x) across 8 training halves: tree "
        f"{var['single tree']:.4f}, bagged trees {var['bagging']:.4f}",
    )
