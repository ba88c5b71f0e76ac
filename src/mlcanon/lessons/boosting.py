"""Lessons on boosting: GBDT step by step, XGBoost's second-order trees and its missing-value
rule, AdaBoost vs GBDT vs XGBoost, and when logistic regression beats GBDT."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from mlcanon.ensemble import (
    AdaBoostClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    XGBClassifier,
    XGBRegressor,
)
from mlcanon.lessons import Context, lesson

from . import _boosting_knobs as knobs


def _log_loss(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


# --- GBDT step by step -------------------------------------------------------------------------


@lesson("gbdt")
def gbdt(ctx: Context) -> None:
    from sklearn import ensemble as ske

    ctx.say("""
        Gradient boosting builds F_M(x) = F_0 + nu sum_m h_m(x) one tree at a time. F_0 is the
        best constant (the mean for squared error). At stage m every sample gets a
        pseudo-residual r_i = -dL(y_i, F)/dF at F = F_{m-1}(x_i) (for squared error L = (y -
        F)^2 / 2 this is just y_i - F_{m-1}(x_i)); a small regression tree is fit to the r_i;
        each leaf then gets the value that best lowers the loss of its samples (for squared
        error, the mean residual in the leaf); and F moves by the learning rate nu times the
        tree. Six points, stumps, nu = 0.5, two stages, every number below can be checked by
        hand:
        """)
    x = np.arange(1.0, 7.0)
    y = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 30.0])
    X = x[:, None]
    kw = dict(n_estimators=2, max_depth=1, learning_rate=0.5)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    stages = list(ours.staged_predict(X))
    F0 = np.full_like(y, ours.init_[0])
    r1, r2 = y - F0, y - stages[0]
    rows = [
        [
            x[i],
            y[i],
            F0[i],
            r1[i],
            stages[0][i] - F0[i],
            stages[0][i],
            r2[i],
            stages[1][i] - stages[0][i],
            stages[1][i],
        ]
        for i in range(6)
    ]
    ctx.table(
        "squared error, stumps, learning rate 0.5",
        [
            "x",
            "y",
            "F0 = mean",
            "r1 = y - F0",
            "0.5 * tree 1",
            "F1",
            "r2 = y - F1",
            "0.5 * tree 2",
            "F2",
        ],
        rows,
    )
    t1, t2 = (ours.estimators_[m][0].tree_ for m in (0, 1))
    ctx.say(f"""
        Stage 1 splits at x <= {t1.threshold[0]:g}: the left leaf is the mean of the residuals
        on that side, {t1.value[1, 0, 0]:.4g}, the right one {t1.value[2, 0, 0]:.4g}. The big
        residual of the last point dominates. Stage 2 fits what is left and splits at x <=
        {t2.threshold[0]:g}. Each split is the one with the largest drop in the residuals' sum
        of squares.
        """)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    for m, (a, b) in enumerate(zip(stages, ref.staged_predict(X), strict=True)):
        ctx.check(
            f"F_{m + 1} on the worked example",
            a,
            b,
            rtol=1e-12,
            ref="sklearn GradientBoostingRegressor",
        )
    _gbdt_classification(ctx)
    _gbdt_on_diabetes(ctx)


def _gbdt_classification(ctx: Context) -> None:
    from sklearn import ensemble as ske

    ctx.say("""
        Classification (two classes) boosts the log-odds F with the log-loss
        L = -y F + log(1 + e^F). F_0 is the log-odds of the class prior, the residuals are
        r = y - p with p = sigmoid(F), and a leaf takes one Newton step on its samples:
        gamma = sum r / sum p(1 - p).
        """)
    x = np.arange(1.0, 7.0)
    y = np.array([0, 0, 1, 0, 1, 1])
    kw = dict(n_estimators=1, max_depth=1, learning_rate=1.0)
    ours = GradientBoostingClassifier(**kw).fit(x[:, None], y)
    tree = ours.estimators_[0][0].tree_
    p0 = expit(ours.init_[0])
    left = x <= tree.threshold[0]
    gamma_l = np.sum((y - p0)[left]) / np.sum(left * p0 * (1 - p0))
    gamma_r = np.sum((y - p0)[~left]) / np.sum(~left * p0 * (1 - p0))
    F1 = ours.init_[0] + np.where(left, gamma_l, gamma_r)
    rows = [
        [x[i], y[i], p0, y[i] - p0, "left" if left[i] else "right", F1[i], expit(F1[i])]
        for i in range(6)
    ]
    ctx.table(
        f"log-loss, one stump (split x <= {tree.threshold[0]:g}), learning rate 1",
        ["x", "y", "p0", "r = y - p0", "leaf", "F1", "p1"],
        rows,
    )
    ctx.check(
        "leaf values = sum r / sum p(1-p) (by hand)",
        tree.value[1:, 0, 0],
        [gamma_l, gamma_r],
        rtol=1e-12,
        ref="definition",
    )
    ref = ske.GradientBoostingClassifier(**kw).fit(x[:, None], y)
    ctx.check(
        "F1 on the worked example",
        ours.decision_function(x[:, None]),
        ref.decision_function(x[:, None]),
        rtol=1e-12,
        ref="sklearn GradientBoostingClassifier",
    )


def _gbdt_on_diabetes(ctx: Context) -> None:
    from sklearn import ensemble as ske
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    kw = dict(n_estimators=200, learning_rate=0.05, max_depth=3, random_state=0)
    ours = GradientBoostingRegressor(**kw).fit(Xtr, ytr)
    ref = ske.GradientBoostingRegressor(**kw).fit(Xtr, ytr)
    ctx.check(
        "200 stages on diabetes: training-set predictions",
        ours.predict(Xtr),
        ref.predict(Xtr),
        rtol=1e-6,
        ref="sklearn GradientBoostingRegressor",
    )
    test_mse = [np.mean((yte - p) ** 2) for p in ours.staged_predict(Xte)]
    with ctx.figure("stages", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        ax.plot(ours.train_score_, label="train MSE")
        ax.plot(test_mse, label="test MSE")
        ax.set(xlabel="stage", ylabel="mean squared error", title="GBDT on diabetes")
        ax.legend()
    best = int(np.argmin(test_mse))
    ctx.claim(
        "training error keeps falling, test error bottoms out earlier",
        bool(ours.train_score_[-1] < ours.train_score_[best] and best < 199),
        f"test MSE lowest at stage {best + 1} ({test_mse[best]:.0f}); "
        f"{test_mse[-1]:.0f} at stage 200",
    )


# --- XGBoost: second order ---------------------------------------------------------------------


@lesson("xgboost")
def xgboost_lesson(ctx: Context) -> None:
    ctx.say("""
        XGBoost expands the loss to second order around the current margins F:
        L(F + f) ~ sum_i [l(y_i, F_i) + g_i f(x_i) + h_i f(x_i)^2 / 2] + gamma T
        + lambda/2 sum_j w_j^2, with g_i and h_i the first and second derivatives of the loss.
        For a fixed tree with leaves I_j (G_j = sum g, H_j = sum h) the objective is a sum of
        independent quadratics in the leaf values, minimized at w_j = -G_j / (H_j + lambda),
        where it equals -1/2 sum_j G_j^2 / (H_j + lambda) + gamma T. Splitting a leaf is worth
        1/2 [G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda)] - gamma.

        Why second order? (1) The leaf value is a Newton step, so it has the right size for any
        loss: a tree fit to the residuals with mean-residual leaves takes a step off by the
        curvature p(1-p) for the log-loss. Friedman's GBDT repairs the leaf values afterwards
        with a per-leaf line search (one Newton step, see the gbdt lesson) but still chooses
        the splits by squared error on the gradients; XGBoost chooses the splits by the
        second-order gain itself. (2) Any loss with a gradient and a hessian
        plugs in without changing the tree code: grad and hess are all the booster sees.
        (3) The split gain and the leaf value come from the same quadratic, with the
        regularization (lambda, gamma, min_child_weight on H) built in.
        """)
    _formulas_against_models(ctx)
    _newton_vs_gradient(ctx)
    _against_references(ctx)
    _parameters(ctx)
    knobs.histogram_vs_exact(ctx)
    knobs.shrinkage(ctx)
    knobs.column_subsampling(ctx)
    knobs.parallelism(ctx)


def _small_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=120)
    return X, y


def _formulas_against_models(ctx: Context) -> None:
    X, y = _small_regression()
    lam, base = 2.0, float(y.mean())
    kw = dict(n_estimators=1, max_depth=2, learning_rate=1.0, reg_lambda=lam, base_score=base)
    m = XGBRegressor(**kw).fit(X, y)
    nd = m.nodes_
    g, h = base - y, np.ones_like(y)  # squared error at the base margin
    # route the training rows through the fitted tree, then apply the formulas by hand
    node_of = np.zeros(len(y), int)
    gains, leaves = [], []
    for node in range(len(nd["left"])):
        rows = node_of == node
        G, H = g[rows].sum(), h[rows].sum()
        if nd["left"][node] == -1:
            leaves.append(-G / (H + lam))
            continue
        go_left = X[rows, nd["feature"][node]] <= nd["threshold"][node]
        GL, HL = g[rows][go_left].sum(), h[rows][go_left].sum()
        GR, HR = G - GL, H - HL
        gains.append(GL**2 / (HL + lam) + GR**2 / (HR + lam) - G**2 / (H + lam))
        idx = np.flatnonzero(rows)
        node_of[idx[go_left]] = nd["left"][node]
        node_of[idx[~go_left]] = nd["right"][node]
    split = nd["left"] != -1
    ctx.check(
        "split gains G_L^2/(H_L+l) + G_R^2/(H_R+l) - G^2/(H+l) (by hand)",
        nd["gain"][split],
        gains,
        rtol=1e-10,
        ref="formula",
    )
    ctx.check(
        "leaf values -G/(H+lambda) (by hand)",
        nd["value"][~split],
        leaves,
        rtol=1e-10,
        ref="formula",
    )

    def xgb_nodes():
        import json

        import xgboost as xgb

        ref = xgb.XGBRegressor(**kw, tree_method="hist").fit(X, y)
        tree = json.loads(ref.get_booster().get_dump(dump_format="json", with_stats=True)[0])
        out, stack = {}, [tree]
        while stack:
            node = stack.pop()
            out[node["nodeid"]] = node
            stack.extend(node.get("children", []))
        return out

    try:
        ref = xgb_nodes()
    except ModuleNotFoundError as exc:
        ctx.skip("xgboost's fitted tree", f"{exc.name} missing", ref="xgboost")
        return
    ids = sorted(ref)
    ctx.check(
        "xgboost's gains for the same tree",
        nd["gain"][split],
        [ref[i]["gain"] for i in ids if "leaf" not in ref[i]],
        rtol=1e-5,
        ref="xgboost (float32)",
    )
    ctx.check(
        "xgboost's leaf values",
        nd["value"][~split],
        [ref[i]["leaf"] for i in ids if "leaf" in ref[i]],
        rtol=1e-5,
        ref="xgboost (float32)",
    )
    ctx.say("""
        Note the factor 1/2: xgboost reports (and compares gamma with) G_L^2/(H_L+lambda) +
        G_R^2/(H_R+lambda) - G^2/(H+lambda) without it, i.e. twice the objective decrease.
        Its gamma is therefore twice the paper's gamma for the same trees. We follow xgboost so
        that a gamma value means the same in both:
        """)
    gain = nd["gain"][0]
    kept = len(XGBRegressor(**kw, gamma=0.99 * gain).fit(X, y).nodes_["left"]) > 1
    cut = len(XGBRegressor(**kw, gamma=1.01 * gain).fit(X, y).nodes_["left"]) == 1
    ctx.claim(
        "a split is kept iff its reported gain reaches gamma (no factor 1/2)",
        bool(kept and cut),
        f"root gain {gain:.4g}: kept with gamma = 0.99 x gain, removed with 1.01 x gain",
        ref="xgboost semantics",
    )


def _newton_vs_gradient(ctx: Context) -> None:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    one = dict(
        n_estimators=1,
        max_depth=2,
        learning_rate=1.0,
        reg_lambda=0.0,
        min_child_weight=0.0,
        base_score=0.5,
    )
    newton = XGBClassifier(**one).fit(X, y)
    nd = newton.nodes_
    p0 = 0.5
    leaves = np.flatnonzero(nd["left"] == -1)
    # the same tree, leaves set to the mean residual (a gradient step of size 1)
    leaf_of = _leaf_index(newton, X)
    grad_leaf = {leaf: np.mean((y - p0)[leaf_of == leaf]) for leaf in leaves}
    F_grad = np.array([grad_leaf[leaf] for leaf in leaf_of])
    F_newton = newton.decision_function_raw(X)[:, 0]
    rows = [
        ["start (p = 0.5)", _log_loss(y, np.full(len(y), p0))],
        ["leaf = mean residual (first order)", _log_loss(y, expit(F_grad))],
        ["leaf = -G/H (second order, Newton)", _log_loss(y, expit(F_newton))],
    ]
    ctx.table(
        "one depth-2 tree on breast cancer, same splits: training log-loss",
        ["leaf values", "log-loss"],
        rows,
    )
    ctx.claim(
        "the Newton leaf lowers the log-loss more than the gradient leaf",
        rows[2][1] < rows[1][1],
        f"{rows[2][1]:.4f} vs {rows[1][1]:.4f}",
    )


def _leaf_index(model: XGBRegressor | XGBClassifier, X: np.ndarray) -> np.ndarray:
    """Leaf reached by each row in the first tree (a readable Python walk of the arrays)."""
    nd = model.nodes_
    out = np.empty(len(X), int)
    for i, row in enumerate(X):
        node = 0
        while nd["left"][node] != -1:
            x = row[nd["feature"][node]]
            left = nd["default_left"][node] if np.isnan(x) else x <= nd["threshold"][node]
            node = nd["left"][node] if left else nd["right"][node]
        out[i] = node
    return out


def _against_references(ctx: Context) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    kw = dict(n_estimators=100, learning_rate=0.1, max_depth=3)
    auc = roc_auc_score(yte, XGBClassifier(**kw).fit(Xtr, ytr).predict_proba(Xte)[:, 1])

    def ref_auc(name):
        def run():
            if name == "xgboost":
                import xgboost as xgb

                model = xgb.XGBClassifier(**kw, tree_method="hist")
            elif name == "lightgbm":
                import lightgbm as lgb

                model = lgb.LGBMClassifier(**kw, num_leaves=8, min_child_samples=1, verbose=-1)
            else:
                from sklearn.ensemble import HistGradientBoostingClassifier

                model = HistGradientBoostingClassifier(
                    max_iter=100, learning_rate=0.1, max_depth=3, early_stopping=False
                )
            return roc_auc_score(yte, model.fit(Xtr, ytr).predict_proba(Xte)[:, 1])

        return run

    for name in ("xgboost", "lightgbm", "sklearn HistGradientBoosting"):
        ctx.check(
            f"held-out AUC on breast cancer vs {name}", auc, ref_auc(name), atol=0.005, ref=name
        )


def _parameters(ctx: Context) -> None:
    ctx.table(
        "parameters (xgboost's names)",
        ["parameter", "role"],
        [
            ["n_estimators, learning_rate", "number of trees; shrinkage of each tree"],
            ["max_depth", "tree size (trees are grown level by level)"],
            ["reg_lambda, reg_alpha", "L2 / L1 penalty on leaf values: w = -T_alpha(G)/(H+lambda)"],
            ["gamma", "minimum gain for a split (prunes weak splits)"],
            [
                "min_child_weight",
                "minimum hessian sum H in a child (a sample-count floor for squared error)",
            ],
            ["subsample, colsample_bytree", "rows / features drawn per tree (variance reduction)"],
            ["max_bin", "quantile bins per feature for the histogram split search"],
            ["early_stopping_rounds", "stop when the validation metric stops improving"],
        ],
    )


# --- missing values in XGBoost -----------------------------------------------------------------


_PROBE = np.array([[-0.9], [2.9], [np.nan]])  # far left, far right, missing


def _nan_side(name: str, X: np.ndarray, y: np.ndarray) -> str:
    """Fit a one-split model with library ``name``; report where a NaN row ends up."""
    pred = _one_split(name, X, y, _PROBE)
    return "left" if abs(pred[2] - pred[0]) < abs(pred[2] - pred[1]) else "right"


def _sides(name: str, X: np.ndarray, y: np.ndarray, probe: np.ndarray) -> list[str]:
    """Which child of ``name``'s one-split model each row of ``probe`` reaches."""
    pred = _one_split(name, X, y, np.r_[_PROBE[:2], probe])
    return ["left" if abs(p - pred[0]) < abs(p - pred[1]) else "right" for p in pred[2:]]


def _one_split(name: str, X: np.ndarray, y: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Predictions on ``probe`` of a one-split model fitted with library ``name``."""
    one = dict(n_estimators=1, max_depth=1, learning_rate=1.0)
    if name == "ours":
        pred = XGBRegressor(**one, base_score=0.0).fit(X, y).predict(probe)
    elif name == "xgboost":
        import xgboost as xgb

        pred = xgb.XGBRegressor(**one, base_score=0.0, tree_method="hist").fit(X, y)
        pred = pred.predict(probe)
    elif name == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMRegressor(**one, num_leaves=2, min_child_samples=1, verbose=-1)
        pred = model.fit(X, y).predict(probe)
    elif name == "sklearn HistGradientBoosting":
        from sklearn.ensemble import HistGradientBoostingRegressor

        model = HistGradientBoostingRegressor(
            max_iter=1, max_depth=1, learning_rate=1.0, early_stopping=False
        )
        pred = model.fit(X, y).predict(probe)
    else:  # our CART tree
        from mlcanon.tree import DecisionTreeRegressor

        pred = DecisionTreeRegressor(max_depth=1).fit(X, y).predict(probe)
    return pred


LIBRARIES = ("ours", "xgboost", "lightgbm", "sklearn HistGradientBoosting", "our CART tree")


@lesson("xgboost-missing")
def xgboost_missing(ctx: Context) -> None:
    ctx.say("""
        Sparsity-aware split finding: at every split XGBoost scans the non-missing values only
        and tries two versions of each threshold, one with all the samples whose value is
        missing sent left and one with them sent right; the better one is stored as the
        split's default direction. At predict time a missing value follows that default.
        What if a split saw no missing value in training? Then both versions score the same.
        The notes say XGBoost then sends NaN to the right. We measure it, with one split on
        x ~ U(-1, 3), no NaN at fit, and a NaN probe at predict time, in two layouts: the left
        child smaller (threshold at 0.5) and the left child larger (threshold at 2.0). Zero
        lies on the left in both.
        """)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 3, size=(1000, 1))
    layouts = {
        "left smaller (x > 0.5)": 10.0 * (X[:, 0] > 0.5),
        "left larger (x > 2.0)": 10.0 * (X[:, 0] > 2.0),
    }
    sides: dict[tuple[str, str], str] = {}
    rows = []
    for lib in LIBRARIES:
        row = [lib]
        for name, y in layouts.items():
            try:
                sides[lib, name] = _nan_side(lib, X, y)
            except ModuleNotFoundError as exc:
                sides[lib, name] = f"({exc.name} missing)"
            row.append(sides[lib, name])
        rows.append(row)
    ctx.table(
        "no NaN in training: where does a NaN go at predict time?", ["library", *layouts], rows
    )
    for name in layouts:
        ctx.check(
            f"ours sends NaN where xgboost does ({name})",
            sides["ours", name],
            lambda name=name: _nan_side("xgboost", X, layouts[name]),
            ref="xgboost",
        )
    hgb = "sklearn HistGradientBoosting"
    larger = []
    for y in layouts.values():
        train_sides = _sides(hgb, X, y, X)
        larger.append(max(("left", "right"), key=train_sides.count))
    ctx.claim(
        "scikit-learn's HistGradientBoosting: NaN follows the child with more training samples",
        [sides[hgb, n] for n in layouts] == larger,
        f"NaN went {[sides[hgb, n] for n in layouts]}; the larger children (counted by "
        f"routing the training rows) are {larger}",
        ref=hgb,
    )
    try:
        lgb_nan = [sides["lightgbm", n] for n in layouts]
        lgb_zero = [_sides("lightgbm", X, y, np.zeros((1, 1)))[0] for y in layouts.values()]
    except ModuleNotFoundError as exc:
        ctx.skip(
            "LightGBM: an unseen NaN goes where x = 0 goes", f"{exc.name} missing", ref="lightgbm"
        )
    else:
        ctx.claim(
            "LightGBM: an unseen NaN goes where x = 0 goes",
            lgb_nan == lgb_zero,
            f"NaN went {lgb_nan}; a row with x = 0 went {lgb_zero}",
            ref="lightgbm",
        )
    try:
        import xgboost

        xgb_sides = [sides["xgboost", n] for n in layouts]
        ctx.claim(
            "the notes: xgboost sends an unseen NaN to the right child",
            xgb_sides == ["right", "right"],
            f"xgboost {xgboost.__version__}: {xgb_sides} in the two layouts",
            ref="notes' claim, measured",
        )
    except ModuleNotFoundError:
        ctx.skip("the notes: xgboost sends an unseen NaN right", "xgboost missing", ref="xgboost")
    ctx.say("""
        So XGBoost's rule (the right child, whichever is larger, as measured in the claims
        below the table) is a convention, not a law: LightGBM maps an unseen NaN to 0 and lets
        0 decide, scikit-learn (histogram boosting and its trees) sends it to the child that
        received more training samples. Three libraries, three answers for the same data.

        With missing values in training the direction is learned. Below NaN marks rows whose
        label behaves like small x, and the table shows where each library sends them.
        """)
    _learned_direction(ctx)


def _learned_direction(ctx: Context) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 600)
    y = 10.0 * (x > 0.5)
    missing = rng.random(600) < 0.3
    x[missing] = np.nan
    y[missing] = 0.0  # missing behaves like the left side
    X = x[:, None]
    rows = []
    for lib in LIBRARIES:
        try:
            rows.append([lib, _nan_side(lib, X, y)])
        except ModuleNotFoundError as exc:
            rows.append([lib, f"({exc.name} missing)"])
    ctx.table(
        "NaN in training (labels like the left side): learned direction",
        ["library", "NaN goes"],
        rows,
    )
    ctx.check(
        "learned direction: ours vs xgboost",
        rows[0][1],
        lambda: _nan_side("xgboost", X, y),
        ref="xgboost",
    )
    ctx.check(
        "learned direction: ours vs LightGBM",
        rows[0][1],
        lambda: _nan_side("lightgbm", X, y),
        ref="lightgbm",
    )
    ctx.check(
        "learned direction: ours vs scikit-learn HistGradientBoosting",
        rows[0][1],
        lambda: _nan_side("sklearn HistGradientBoosting", X, y),
        ref="sklearn HistGradientBoosting",
    )


# --- AdaBoost vs GBDT vs XGBoost ---------------------------------------------------------------


@lesson("adaboost-gbdt-xgboost")
def adaboost_gbdt_xgboost(ctx: Context) -> None:
    from sklearn import ensemble as ske
    from sklearn.datasets import make_classification

    ctx.say("""
        All three add weak trees one at a time; they differ in what the next tree is fit to.
        AdaBoost (SAMME) keeps the labels and changes the sample weights: after each round the
        weights of misclassified samples are multiplied by e^alpha, so the next learner
        concentrates on them; a learner's vote alpha = log((1 - err)/err) + log(K - 1) grows
        with its accuracy. It is forward stagewise fitting of the exponential loss. GBDT keeps
        the weights and changes the targets: each tree fits the negative gradient of a chosen
        loss (residuals for squared error). XGBoost fits the same additive model with a
        second-order expansion (Newton leaves -G/(H + lambda)), regularized leaves, a split
        gain derived from the same objective, histogram split search and learned missing-value
        directions. One data set, three boosters, checked against their references:
        """)
    X, y = make_classification(1200, 10, n_informative=5, flip_y=0.05, random_state=0)
    Xtr, Xte, ytr, yte = X[:800], X[800:], y[:800], y[800:]
    ada = AdaBoostClassifier(n_estimators=150, random_state=0).fit(Xtr, ytr)
    ada_ref = ske.AdaBoostClassifier(n_estimators=150, random_state=0).fit(Xtr, ytr)
    ctx.check(
        "AdaBoost votes alpha_m",
        ada.estimator_weights_,
        ada_ref.estimator_weights_,
        rtol=1e-10,
        ref="sklearn AdaBoostClassifier",
    )
    gb_kw = dict(n_estimators=150, max_depth=3, min_samples_leaf=15, random_state=0)
    gb = GradientBoostingClassifier(**gb_kw).fit(Xtr, ytr)
    gb_ref = ske.GradientBoostingClassifier(**gb_kw).fit(Xtr, ytr)
    ctx.check(
        "GBDT probabilities",
        gb.predict_proba(Xte),
        gb_ref.predict_proba(Xte),
        atol=1e-6,
        ref="sklearn GradientBoostingClassifier",
    )
    xg = XGBClassifier(n_estimators=150, max_depth=3, learning_rate=0.1).fit(Xtr, ytr)
    rounds = [1, 5, 20, 50, 150]
    curves = {
        "AdaBoost": [np.mean(p == yte) for p in ada.staged_predict(Xte)],
        "GBDT": [np.mean(p == yte) for p in gb.staged_predict(Xte)],
    }
    xgb_curve = [np.mean((xg.decision_function_raw(Xte, (0, m))[:, 0] > 0) == yte) for m in rounds]
    rows = [
        [m, curves["AdaBoost"][m - 1], curves["GBDT"][m - 1], xgb_curve[i]]
        for i, m in enumerate(rounds)
    ]
    ctx.table(
        "held-out accuracy after m rounds",
        ["m", "AdaBoost (stumps)", "GBDT (depth 3)", "XGBoost (depth 3)"],
        rows,
    )
    _adaboost_weights(ctx, Xtr, ytr)


def _adaboost_weights(ctx: Context, X: np.ndarray, y: np.ndarray) -> None:
    """Replay SAMME's weight updates and look at where the weight went."""
    ada = AdaBoostClassifier(n_estimators=60, random_state=0).fit(X, y)
    w = np.full(len(y), 1 / len(y))
    alphas = ada.estimator_weights_[: len(ada.estimators_)]  # 0 for rounds not run
    for learner, alpha in zip(ada.estimators_, alphas, strict=True):
        w *= np.exp(alpha * (learner.predict(X) != y))
        w /= w.sum()
    margin = ada.decision_function(X) * np.where(y == ada.classes_[1], 1, -1)
    top = np.argsort(w)[-len(w) // 20 :]  # the 5% heaviest samples
    share = float(w[top].sum())
    ctx.claim(
        "AdaBoost concentrates the weight on the hard samples",
        bool(share > 0.2 and np.median(margin[top]) < np.median(margin)),
        f"after 60 rounds the heaviest 5% of samples carry {share:.0%} of the weight; "
        f"their median margin {np.median(margin[top]):.3f} vs {np.median(margin):.3f} "
        "overall",
    )


# --- LR vs GBDT --------------------------------------------------------------------------------


def _sparse_rare(seed: int, n: int = 1500, levels: int = 300, words: int = 300):
    """Signal spread over rare columns: a 300-level one-hot id (about 3 training rows per level,
    each level its own effect) and 300 bag-of-words columns present in 0.2% to 5% of the rows,
    half of them informative. The label thresholds the sum of the effects plus Gaussian noise
    (a probit, not a logistic, link: logistic regression is not the true model)."""
    rng = np.random.default_rng(seed)
    onehot = np.eye(levels)[rng.integers(0, levels, n)]
    rate = np.exp(rng.uniform(np.log(0.002), np.log(0.05), words))
    bow = (rng.random((n, words)) < rate).astype(float)
    w = np.r_[rng.normal(0, 1.0, levels), rng.normal(0, 1.5, words) * (rng.random(words) < 0.5)]
    X = np.hstack([onehot, bow])
    score = X @ w
    return X, (score + rng.normal(0, 1.0, n) > np.median(score)).astype(int), w


def _dense_nonlinear(seed: int, n: int = 1500):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    f = np.sin(2 * X[:, 0]) * np.cos(2 * X[:, 1]) + (X[:, 2] * X[:, 3] > 0.5)
    return X, (f + 0.2 * rng.normal(size=n) > 0.5).astype(int), None


_SEEDS = range(5)
_TRAIN = 1000


@lesson("lr-vs-gbdt")
def lr_vs_gbdt(ctx: Context) -> None:
    from sklearn.metrics import roc_auc_score

    from mlcanon.linear_model import LogisticRegression

    ctx.say("""
        Logistic regression is a linear model of the log-odds: cheap, convex, easy to read and
        to parallelize, but it only sees the interactions you engineer. GBDT builds feature
        interactions and thresholds itself, but each tree is greedy and its penalty counts
        leaves, not weights. The notes' claim: on high-dimensional sparse data LR (with L2)
        beats GBDT. The reason has two parts. (1) A rare binary column is worth a split only
        if its handful of rows is pure enough to beat every common column at that node, and
        when it does win the split rests on a few rows; L2-penalized LR instead gives every
        column a small, shrunk weight at once. (2) A tree of depth 3 holds 7 splits; summing
        hundreds of weak effects takes hundreds of splits spread over many rounds, while LR
        adds them in one linear term.

        The sparse data below put the signal in rare columns: a 300-level one-hot id (about 3
        training rows per level) and 300 bag-of-words columns present in 0.2% to 5% of rows,
        the label a thresholded sum of their effects plus Gaussian noise. For contrast, dense
        data with 4 features and a non-linear boundary. Each over 5 seeds, 1,000 training and
        500 test rows, held-out AUC, mlcanon's LogisticRegression (L2, C = 1) and second-order
        booster (depth 3, 100 rounds, learning rate 0.1).
        """)
    auc: dict[str, list] = {}
    usage = []
    for kind, make in (("sparse", _sparse_rare), ("dense", _dense_nonlinear)):
        for seed in _SEEDS:
            X, y, w = make(seed)
            Xtr, ytr, Xte, yte = X[:_TRAIN], y[:_TRAIN], X[_TRAIN:], y[_TRAIN:]
            lr = LogisticRegression(C=1.0, tol=1e-6, max_iter=5000).fit(Xtr, ytr)
            gb = XGBClassifier(n_estimators=100, learning_rate=0.1, max_depth=3, max_bin=16)
            gb.fit(Xtr, ytr)
            auc.setdefault(kind, []).append(
                (
                    roc_auc_score(yte, lr.predict_proba(Xte)[:, 1]),
                    roc_auc_score(yte, gb.predict_proba(Xte)[:, 1]),
                )
            )
            if seed == 0:
                ctx.check(
                    f"{kind}, seed 0: our logistic regression's probabilities",
                    lr.predict_proba(Xte)[:, 1],
                    _sklearn_lr(Xtr, ytr, Xte),
                    atol=1e-4,
                    ref="sklearn LogisticRegression",
                )
            if kind == "sparse":
                usage.append(_feature_usage(Xtr, w, lr, gb))
    rows = []
    for kind, vals in auc.items():
        a = np.array(vals)
        rows.append(
            [
                kind,
                *(f"{a[:, j].mean():.3f} ± {a[:, j].std():.3f}" for j in (0, 1)),
                f"{int(np.sum(a[:, 0] > a[:, 1]))} of {len(a)}",
            ]
        )
    ctx.table(
        "held-out AUC over 5 seeds (mean ± std)",
        ["data", "logistic regression (L2)", "GBDT (second order)", "seeds where LR wins"],
        rows,
    )
    sparse, dense = np.array(auc["sparse"]), np.array(auc["dense"])
    ctx.claim(
        "sparse data with the signal in rare columns: L2 logistic regression beats GBDT "
        "on every seed",
        bool(np.all(sparse[:, 0] > sparse[:, 1])),
        "AUC differences " + ", ".join(f"{d:+.3f}" for d in sparse[:, 0] - sparse[:, 1]),
        ref="notes' claim, measured",
    )
    ctx.claim(
        "dense non-linear data: GBDT beats logistic regression by > 0.1 on every seed",
        bool(np.all(dense[:, 1] > dense[:, 0] + 0.1)),
        "AUC differences " + ", ".join(f"{d:+.3f}" for d in dense[:, 1] - dense[:, 0]),
    )
    _usage_table(ctx, usage)
    _sharded_gradient(ctx)


def _feature_usage(X: np.ndarray, w: np.ndarray, lr, gb) -> dict[str, np.ndarray]:
    """Per column group (by training rows where the column is 1): true signal, LR's fitted
    signal and GBDT's split gain and split count, each as a share of its total."""
    rows = X.sum(0)
    freq = rows / len(X)
    groups = {
        "<= 3 rows": rows <= 3,
        "4-20 rows": (rows > 3) & (rows <= 20),
        "> 20 rows": rows > 20,
    }
    var = freq * (1 - freq)
    true = w**2 * var  # each column's contribution to the variance of the score
    fitted = lr.coef_.ravel() ** 2 * var
    nd = gb.nodes_
    split = nd["left"] != -1
    gain = np.bincount(nd["feature"][split], weights=nd["gain"][split], minlength=X.shape[1])
    count = np.bincount(nd["feature"][split], minlength=X.shape[1])
    out = {}
    for name, g in groups.items():
        informative = g & (w != 0)
        used = np.mean(count[informative] > 0) if np.any(informative) else 0.0
        shares = [v[g].sum() / v.sum() for v in (true, fitted, gain, count)]
        out[name] = np.array([g.sum(), *shares, used])
    return out


def _usage_table(ctx: Context, usage: list[dict[str, np.ndarray]]) -> None:
    mean = {k: np.mean([u[k] for u in usage], axis=0) for k in usage[0]}
    ctx.table(
        "where the signal is and where each model looks (sparse data, mean over 5 seeds)",
        [
            "columns present in",
            "columns",
            "share of true signal",
            "share of LR's fitted signal",
            "share of GBDT split gain",
            "share of GBDT splits",
            "informative columns GBDT ever splits on",
        ],
        [[k, *v] for k, v in mean.items()],
    )
    rare, mid, common = mean["<= 3 rows"], mean["4-20 rows"], mean["> 20 rows"]
    ctx.say(f"""
        The columns present in at most 3 training rows hold {rare[1]:.0%} of the true signal;
        LR puts {rare[2]:.0%} of its fitted signal there, GBDT {rare[3]:.0%} of its split gain.
        Here the booster cannot split on them at all: min_child_weight = 1 (xgboost's default)
        asks for a hessian sum of 1 in each child, and with p(1 - p) <= 1/4 per row that is at
        least 4 rows. The columns on 4-20 rows hold {mid[1]:.0%} of the signal; GBDT splits on
        {mid[5]:.0%} of the informative ones even once in 100 rounds (against {common[5]:.0%} of
        the common ones), because at each node a split on a few rows must beat the best
        common column. LR's L2 penalty lets every column contribute a shrunk weight at once.
        This is the mechanism behind the AUC gap.
        """)
    ctx.claim(
        "GBDT's share of split gain on the rarest columns is below their share of the true "
        "signal, and below LR's share",
        rare[3] < rare[1] and rare[3] < rare[2],
        f"GBDT {rare[3]:.3f}, true {rare[1]:.3f}, LR {rare[2]:.3f}",
    )


def _sharded_gradient(ctx: Context) -> None:
    """The log-loss gradient is a sum over rows, so shards' gradients add up to the full one."""
    import torch

    X, y, _ = _sparse_rare(0)
    w = np.random.default_rng(1).normal(0, 0.1, X.shape[1])
    shards = np.array_split(np.arange(len(y)), 4)
    summed = sum(
        X[s].T @ (expit(X[s] @ w) - y[s]) for s in shards
    )  # each worker: X_s^T (p_s - y_s)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(X) @ wt, torch.tensor(y, dtype=torch.float64), reduction="sum"
    )
    loss.backward()
    ctx.check(
        "sum over 4 row shards of X_s^T (p_s - y_s) = gradient of the full log-loss",
        summed,
        wt.grad.numpy(),
        rtol=1e-10,
        atol=1e-10,
        ref="torch autograd",
    )
    ctx.say("""
        Why LR parallelizes easily: the log-loss and its gradient X^T (p - y) are sums over
        rows, so each worker computes the gradient of its own shard and one all-reduce adds
        them (checked above, 4 shards against torch's gradient of the full loss). Every
        optimizer step of the data-parallel fit is then the single-machine step. GBDT is
        sequential across trees (tree m fits the gradients left by trees 1..m-1) and
        parallelizes only inside a tree, over features or row blocks of the split search.
        """)


def _sklearn_lr(X, y, X_test):
    def run():
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000)
        return model.fit(X, y).predict_proba(X_test)[:, 1]

    return run
