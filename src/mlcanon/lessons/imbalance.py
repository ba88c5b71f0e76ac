"""Section F lesson on imbalanced classes: resampling, class weights and threshold moving."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np

from mlcanon.lessons import Context, lesson
from mlcanon.preprocessing import SMOTE, RandomOverSampler, RandomUnderSampler, compute_class_weight


def _data() -> SimpleNamespace:
    """A 3%-positive problem split into train / validation / test halves and quarters."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(
        n_samples=8000,
        n_features=10,
        n_informative=4,
        n_clusters_per_class=1,
        weights=[0.97],
        class_sep=1.0,
        flip_y=0.0,
        random_state=0,
    )
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    X_val, X_te, y_val, y_te = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
    )
    return SimpleNamespace(X_tr=X_tr, y_tr=y_tr, X_val=X_val, y_val=y_val, X_te=X_te, y_te=y_te)


def _scores(y: np.ndarray, proba: np.ndarray, threshold: float) -> list[float]:
    from sklearn import metrics as skm

    pred = (proba >= threshold).astype(int)
    return [
        skm.accuracy_score(y, pred),
        skm.precision_score(y, pred, zero_division=0.0),
        skm.recall_score(y, pred),
        skm.f1_score(y, pred),
        skm.average_precision_score(y, proba),
    ]


def _best_f1_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[np.argmax(f1[:-1])])


@lesson("imbalance")
def imbalance(ctx: Context) -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small data: one thread avoids spin-waiting on a busy machine
        _imbalance(ctx)


def _imbalance(ctx: Context) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils import compute_class_weight as sk_class_weight

    d = _data()
    prevalence = d.y_tr.mean()
    ctx.say(f"""
        When one class is rare, accuracy stops meaning much. In the data below (a generated
        problem with 10 features), {prevalence:.1%} of the samples are positive: a model that
        always answers 'negative' is {1 - d.y_te.mean():.1%} accurate and useless. Judge instead
        by what the rare class needs: precision and recall at the chosen threshold, and, to
        compare models independently of any threshold, the area under the precision-recall
        curve (average precision, PR-AUC). Unlike ROC-AUC it is not padded by the many easy
        negatives: a random ranking scores the prevalence, not 0.5.
        """)

    def logreg(**kw):
        return LogisticRegression(max_iter=1000, **kw)

    classes = np.array([0, 1])
    weights = compute_class_weight("balanced", classes=classes, y=d.y_tr)
    ctx.check(
        "balanced class weights n / (K n_c)",
        weights,
        lambda: sk_class_weight("balanced", classes=classes, y=d.y_tr),
        rtol=1e-14,
        ref="sklearn compute_class_weight",
    )
    weighted = logreg().fit(d.X_tr, d.y_tr, sample_weight=weights[d.y_tr])
    ctx.check(
        "LR with those weights = LR(class_weight='balanced')",
        weighted.coef_,
        lambda: logreg(class_weight="balanced").fit(d.X_tr, d.y_tr).coef_,
        rtol=1e-6,
        ref="sklearn LogisticRegression",
    )

    samplers = {
        "random over-sampling": RandomOverSampler(random_state=0),
        "random under-sampling": RandomUnderSampler(random_state=0),
        "SMOTE (k = 5)": SMOTE(random_state=0),
    }
    resampled = {}
    for name, sampler in samplers.items():
        X_res, y_res = sampler.fit_resample(d.X_tr, d.y_tr)
        resampled[name] = (X_res, y_res)
        ctx.check(
            f"{name}: class counts",
            np.array(sorted(Counter(y_res.tolist()).items())),
            _imblearn_counts(type(sampler).__name__, d.X_tr, d.y_tr),
            ref="imbalanced-learn",
        )
    try:
        _against_imblearn(ctx, d, samplers)
    except ModuleNotFoundError as exc:
        ctx.skip(
            "resampled sets vs imbalanced-learn", f"{exc.name} missing", ref="imbalanced-learn"
        )
    _smote_geometry(ctx, d, resampled["SMOTE (k = 5)"])

    plain = logreg().fit(d.X_tr, d.y_tr)
    models = {"logistic regression": plain, "class_weight='balanced'": weighted}
    models |= {name: logreg().fit(*data) for name, data in resampled.items()}
    t_best = _best_f1_threshold(d.y_val, plain.predict_proba(d.X_val)[:, 1])
    rows = [["always 'negative'", *_scores(d.y_te, np.zeros(len(d.y_te)), 0.5)]]
    probas = {}
    for name, model in models.items():
        probas[name] = model.predict_proba(d.X_te)[:, 1]
        rows.append([name, *_scores(d.y_te, probas[name], 0.5)])
    rows.append(
        [
            f"plain LR, threshold {t_best:.2f} (best F1 on validation)",
            *_scores(d.y_te, probas["logistic regression"], t_best),
        ]
    )
    ctx.table(
        "test set (threshold 0.5 unless stated)",
        ["method", "accuracy", "precision", "recall", "F1", "PR-AUC"],
        rows,
    )
    _claims(ctx, rows)
    _seed_spread(ctx, d, samplers, logreg)
    with ctx.figure("pr-curves", figsize=(6, 4.5)) as fig:
        from sklearn.metrics import precision_recall_curve

        ax = fig.subplots()
        for name, p in probas.items():
            precision, recall, _ = precision_recall_curve(d.y_te, p)
            ax.plot(recall, precision, lw=1, label=name)
        ax.axhline(d.y_te.mean(), ls=":", c="gray", label="random ranking")
        ax.set(xlabel="recall", ylabel="precision", title="rebalancing barely moves the PR curve")
        ax.legend(fontsize=7)


def _imblearn_counts(name: str, X: np.ndarray, y: np.ndarray):
    def counts():
        import imblearn.over_sampling as over
        import imblearn.under_sampling as under

        cls = getattr(over, name, None) or getattr(under, name)
        _, y_res = cls(random_state=0).fit_resample(X, y)
        return np.array(sorted(Counter(y_res.tolist()).items()))

    return counts


def _against_imblearn(ctx: Context, d: SimpleNamespace, samplers: dict) -> None:
    """Compare the resampled sets themselves with imbalanced-learn's, not just their sizes.

    With an int seed our samplers draw from numpy's legacy RandomState with the calls
    imbalanced-learn makes, in its order (per class: the rows drawn, then the smoothed
    bootstrap's noise or SMOTE's gaps), so the same seed must give the same resampled set, row
    for row.
    """
    import imblearn.over_sampling as over
    import imblearn.under_sampling as under
    from sklearn.base import clone

    X, y = d.X_tr, d.y_tr
    seeds = (0, 1, 2)
    for name, sampler in samplers.items():
        ref_cls = getattr(over, type(sampler).__name__, None) or getattr(
            under, type(sampler).__name__
        )
        fitted = {"ours": [], "imbalanced-learn": []}
        for seed in seeds:
            for who, s in (
                ("ours", clone(sampler).set_params(random_state=seed)),
                ("imbalanced-learn", ref_cls(random_state=seed)),
            ):
                X_res, y_res = s.fit_resample(X, y)
                rows = getattr(s, "sample_indices_", np.full(len(y_res), -1))
                fitted[who].append(np.column_stack([X_res, y_res, rows]))
        ctx.check(
            f"{name}: resampled X, y (and sample_indices_), seeds {seeds}",
            np.stack(fitted["ours"]),
            np.stack(fitted["imbalanced-learn"]),
            ref="imbalanced-learn",
        )
    n_new = len(samplers["random over-sampling"].sample_indices_) - len(y)
    n_kept = len(samplers["random under-sampling"].sample_indices_)
    ctx.say(f"""
        The resampled sets are imbalanced-learn's own, not just sets of the same sizes: with an
        int seed (or a numpy RandomState, or None for numpy's global one) the samplers make
        imbalanced-learn's random calls in its order, so for each seed the same
        {n_new} minority rows are copied, the same {n_kept} rows are kept by under-sampling,
        and SMOTE picks the same (sample, neighbour) pairs and gaps. A numpy Generator as
        random_state draws from its own stream: the same distribution, other rows.
        """)


def _smote_geometry(ctx: Context, d: SimpleNamespace, smote: tuple[np.ndarray, np.ndarray]) -> None:
    minority = d.X_tr[d.y_tr == 1]
    synthetic = smote[0][len(d.y_tr) :]
    dist = np.linalg.norm(minority[:, None] - minority[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    fifth = np.sort(dist, axis=1)[:, 4]
    a_idx, b_idx = np.nonzero(dist <= fifth[:, None])  # every segment (sample, one of its 5-NN)
    a, ab = minority[a_idx], minority[b_idx] - minority[a_idx]
    ok, used = 0, set()
    for p in synthetic:
        # distance from p to each segment a + s (b - a), s in [0, 1]
        s = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
        gaps = np.linalg.norm(p - a - s[:, None] * ab, axis=1)
        ok += gaps.min() < 1e-9
        used.add((int(a_idx[gaps.argmin()]), int(b_idx[gaps.argmin()])))
    pairs = set(zip(a_idx.tolist(), b_idx.tolist(), strict=True))

    def imblearn_pairs():
        from imblearn.over_sampling import SMOTE as ImbSMOTE

        sm = ImbSMOTE(random_state=0, k_neighbors=5)
        sm.fit_resample(d.X_tr, d.y_tr)
        nn = sm.nn_k_.kneighbors(minority, return_distance=False)[:, 1:]  # drop the row itself
        return {(i, int(j)) for i, row in enumerate(nn) for j in row}

    try:
        ref_pairs = imblearn_pairs()
    except ModuleNotFoundError as exc:
        ctx.skip(
            "SMOTE neighbour sets vs imbalanced-learn",
            f"{exc.name} missing",
            ref="imbalanced-learn",
        )
    else:
        ctx.check(
            "5-NN pairs by the definition that imbalanced-learn's table lacks",
            len(pairs - ref_pairs),
            0,
            ref="imbalanced-learn SMOTE.nn_k_",
        )
        ctx.check(
            "segments our synthetic points lie on that are not (sample, one of its 5-NN) "
            "in imbalanced-learn's table",
            len(used - ref_pairs),
            0,
            ref="imbalanced-learn SMOTE.nn_k_",
        )
        ctx.say(f"""
            The {len(synthetic)} synthetic points lie on {len(used)} of the {len(ref_pairs)}
            (sample, neighbour) segments of imbalanced-learn's neighbour table, and on no
            other segment.
            """)
    ctx.say("""
        SMOTE makes new minority points by interpolation: pick a minority sample, pick one of
        its k nearest minority neighbours, and place a point at a uniform random fraction of
        the way between them. Unlike random over-sampling it adds no exact duplicates, but it
        also trusts that the space between two minority samples is minority territory.
        """)
    ctx.claim(
        "every SMOTE point lies on a segment to one of the 5 nearest minority neighbours",
        ok == len(synthetic),
        f"{ok} of {len(synthetic)} synthetic points",
    )


def _seed_spread(ctx: Context, d: SimpleNamespace, samplers: dict, logreg) -> None:
    """PR-AUC of the model fitted on each sampler's resampled set, over several seeds."""
    from sklearn.base import clone
    from sklearn.metrics import average_precision_score

    seeds = range(10)
    spread = {}
    for name, sampler in samplers.items():
        pr_auc = []
        for seed in seeds:
            X_res, y_res = clone(sampler).set_params(random_state=seed).fit_resample(d.X_tr, d.y_tr)
            proba = logreg().fit(X_res, y_res).predict_proba(d.X_te)[:, 1]
            pr_auc.append(average_precision_score(d.y_te, proba))
        spread[name] = (np.mean(pr_auc), np.std(pr_auc), np.min(pr_auc), np.max(pr_auc))
    ctx.table(
        f"test PR-AUC over {len(seeds)} seeds of the sampler",
        ["sampler", "mean", "std", "min", "max"],
        [[name, *values] for name, values in spread.items()],
    )
    under = spread["random under-sampling"][1]
    others = [v[1] for k, v in spread.items() if k != "random under-sampling"]
    ctx.say(f"""
        One seed's table says little about under-sampling: it fits on
        {2 * int(d.y_tr.sum())} of the {len(d.y_tr)} training samples, so which majority
        samples it keeps moves its PR-AUC from {spread["random under-sampling"][2]:.3f} to
        {spread["random under-sampling"][3]:.3f} over {len(seeds)} seeds, while the samplers
        that keep every sample hardly move.
        """)
    ctx.claim(
        "under-sampling, which discards data, is the least stable: the std of its PR-AUC "
        "over the seeds is more than 5 times that of over-sampling and SMOTE",
        all(under > 5 * other for other in others),
        f"std {under:.4f}; over-sampling, SMOTE " + ", ".join(f"{o:.4f}" for o in others),
    )


def _claims(ctx: Context, rows: list[list]) -> None:
    table = {r[0]: r[1:] for r in rows}
    acc = [v[0] for v in table.values()]
    rec = [v[2] for v in table.values()]
    base = table["logistic regression"]
    rebalanced = [
        table[k]
        for k in table
        if k not in ("always 'negative'", "logistic regression") and not k.startswith("plain LR")
    ]
    moved = next(v for k, v in table.items() if k.startswith("plain LR"))
    ctx.say("""
        Accuracy ranks the useless constant model first. Every rebalancing method raises recall
        at the default threshold 0.5 a lot, and pays for it in precision; PR-AUC, which looks at
        the ranking over all thresholds, does not improve. For logistic regression, reweighting
        the classes by a constant mostly moves the intercept, that is the threshold (exactly so
        for a correctly specified model, King & Zeng 2001); what it changes besides only
        perturbs the slopes, and under-sampling also throws majority samples away. Moving the
        threshold of the plain model (chosen on a validation split, never on the test set)
        reaches a comparable F1 without touching the data. Resampling pays off mainly when the
        learner itself is hurt by the imbalance: trees that never split off a rare class,
        mini-batches that contain no positive at all.
        """)
    ctx.claim(
        "the constant 'negative' model has the best accuracy and zero recall",
        acc[0] == max(acc) and rec[0] == 0.0,
        f"accuracy {acc[0]:.3f}, recall {rec[0]}",
    )
    ctx.claim(
        "rebalancing raises recall at threshold 0.5 by more than 0.2",
        all(r[2] > base[2] + 0.2 for r in rebalanced),
        f"plain {base[2]:.2f}; rebalanced " + ", ".join(f"{r[2]:.2f}" for r in rebalanced),
    )
    ctx.claim(
        "rebalancing pays for its recall in precision at threshold 0.5",
        all(r[1] < base[1] for r in rebalanced),
        f"plain {base[1]:.2f}; rebalanced " + ", ".join(f"{r[1]:.2f}" for r in rebalanced),
    )
    ctx.claim(
        "no rebalancing improves the ranking: PR-AUC never 0.01 above the plain model's",
        all(r[4] <= base[4] + 0.01 for r in rebalanced),
        f"plain {base[4]:.3f}; rebalanced " + ", ".join(f"{r[4]:.3f}" for r in rebalanced),
    )
    ctx.claim(
        "threshold moving matches the best rebalanced F1 within 0.05",
        moved[3] >= max(r[3] for r in rebalanced) - 0.05,
        f"moved F1 {moved[3]:.3f}; rebalanced F1 " + ", ".join(f"{r[3]:.3f}" for r in rebalanced),
    )
