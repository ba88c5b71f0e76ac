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

    imbalanced-learn draws from a legacy RandomState and we from a numpy Generator, so the same
    seed cannot give the same draws; what must agree is which rows are kept for certain, which
    rows can be drawn, and how often each is drawn over many seeds.
    """
    import imblearn.over_sampling as over
    import imblearn.under_sampling as under
    from scipy.stats import chi2_contingency

    X, y = d.X_tr, d.y_tr
    n, minority, majority = len(y), np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    seeds = range(30)
    dup = {"ours": np.zeros(n), "imbalanced-learn": np.zeros(n)}
    kept = {"ours": np.zeros(n), "imbalanced-learn": np.zeros(n)}
    repeats = {"ours": 0, "imbalanced-learn": 0}  # rows drawn twice in one under-sampling
    for seed in seeds:
        for who, o, u in (
            ("ours", RandomOverSampler(random_state=seed), RandomUnderSampler(random_state=seed)),
            (
                "imbalanced-learn",
                over.RandomOverSampler(random_state=seed),
                under.RandomUnderSampler(random_state=seed),
            ),
        ):
            o.fit_resample(X, y)
            u.fit_resample(X, y)
            if seed == 0:
                first = (
                    o.sample_indices_[:n],
                    np.sort(u.sample_indices_[y[u.sample_indices_] == 1]),
                )
                if who == "ours":
                    ours_first = first
                else:
                    ref = "imbalanced-learn sample_indices_"
                    ctx.check(
                        "over-sampling keeps every original row, in order",
                        ours_first[0],
                        first[0],
                        ref=ref,
                    )
                    ctx.check(
                        "under-sampling keeps every minority row", ours_first[1], first[1], ref=ref
                    )
            dup[who] += np.bincount(o.sample_indices_[n:], minlength=n)
            kept[who] += np.bincount(u.sample_indices_, minlength=n)
            repeats[who] = max(repeats[who], len(u.sample_indices_) - len(set(u.sample_indices_)))
    rows = []
    for who in dup:
        rows.append(
            [
                who,
                int(dup[who][majority].sum()),
                dup[who][minority].mean(),
                dup[who][minority].std(),
                kept[who][majority].mean() / len(seeds),
                repeats[who],
            ]
        )
    ctx.table(
        f"random over/under-sampling over {len(seeds)} seeds",
        [
            "sampler",
            "majority rows copied",
            "copies per minority row (mean)",
            "(std)",
            "share of majority rows kept",
            "rows drawn twice in one under-sampling",
        ],
        rows,
    )
    p_over = chi2_contingency([dup["ours"][minority], dup["imbalanced-learn"][minority]]).pvalue
    # times each majority row was kept over the seeds: histogram 0, 1, 2, 3+ for each library
    hist = [np.bincount(np.minimum(kept[w][majority], 3).astype(int), minlength=4) for w in kept]
    p_under = chi2_contingency(hist).pvalue
    ctx.claim(
        "same distribution of copies per minority row as imbalanced-learn (chi-square "
        "homogeneity, p > 0.001)",
        p_over > 1e-3 and rows[0][1] == rows[1][1] == 0,
        f"p = {p_over:.3f}; no majority row copied by either",
    )
    ctx.claim(
        "under-sampling: same distribution of how often a majority row is kept (p > "
        "0.001), never the same row twice in one draw",
        p_under > 1e-3 and rows[0][5] == rows[1][5] == 0,
        f"p = {p_under:.3f}; kept 0/1/2/3+ times: ours {hist[0].tolist()}, "
        f"imbalanced-learn {hist[1].tolist()}",
    )


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
    under = table["random under-sampling"][4]
    ctx.claim(
        "under-sampling, which discards data, has the lowest PR-AUC of all the fits",
        under == min(r[4] for r in rebalanced),
        f"{under:.3f}",
    )
    ctx.claim(
        "threshold moving matches the best rebalanced F1 within 0.05",
        moved[3] >= max(r[3] for r in rebalanced) - 0.05,
        f"moved F1 {moved[3]:.3f}; rebalanced F1 " + ", ".join(f"{r[3]:.3f}" for r in rebalanced),
    )
