"""Section A lessons on evaluation: precision and recall, ROC/AUC, cross-entropy, KL divergence."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np

from mlcanon import metrics as M
from mlcanon.lessons import Context, lesson


def _cancer() -> SimpleNamespace:
    """Breast-cancer test half (malignant = 1) with the scores of a logistic regression."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X, y = data.data, (data.target == 0).astype(int)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X_tr, y_tr)
    weak = X_te[:, list(data.feature_names).index("mean smoothness")]
    proba = model.predict_proba(X_te)[:, 1]
    return SimpleNamespace(y=y_te, logit=model.decision_function(X_te), proba=proba, weak=weak)


def _digits() -> SimpleNamespace:
    """Digits (10 classes) with the held-out predictions of Gaussian naive Bayes."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    nb = GaussianNB().fit(X_tr, y_tr)
    return SimpleNamespace(
        X=X,
        target=y,
        y=y_te,
        pred=nb.predict(X_te),
        proba=nb.predict_proba(X_te),
        joint_log=nb.predict_joint_log_proba(X_te),
    )


@lesson("precision-recall")
def precision_recall_lesson(ctx: Context) -> None:
    from sklearn import metrics as skm

    vs_sk = partial(ctx.check, rtol=1e-12, ref="sklearn.metrics")
    c = _cancer()
    y, proba = c.y, c.proba
    pred = (proba >= 0.5).astype(int)
    ctx.say("""
        A yes/no classifier makes two kinds of mistakes, and one number cannot show both. The
        confusion matrix counts them: rows are the truth, columns the prediction. Below, a
        logistic regression on the breast-cancer test half (malignant = positive), threshold
        0.5.

        Precision = TP / (TP + FP): of the tumours we flagged, how many were malignant?
        Recall = TP / (TP + FN): of the malignant tumours, how many did we flag? F1 is their
        harmonic mean, 2PR / (P + R) = 2TP / (2TP + FP + FN); it is pulled towards the smaller
        of the two, so a good F1 cannot be bought with one of them alone.
        """)
    cm = M.confusion_matrix(y, pred)
    ctx.table(
        "confusion matrix (threshold 0.5)",
        ["", "pred benign", "pred malignant"],
        [["benign", *cm[0]], ["malignant", *cm[1]]],
    )
    vs_sk("confusion_matrix", cm, lambda: skm.confusion_matrix(y, pred))
    vs_sk("binary precision", M.precision_score(y, pred), lambda: skm.precision_score(y, pred))
    vs_sk("binary recall", M.recall_score(y, pred), lambda: skm.recall_score(y, pred))
    vs_sk("binary F1", M.f1_score(y, pred), lambda: skm.f1_score(y, pred))
    rows = []
    for t in (0.1, 0.3, 0.5, 0.7, 0.9):
        scores = M.precision_recall_fscore_support(y, (proba >= t).astype(int), average="binary")
        rows.append([t, *scores[:3]])
    ctx.table(
        "moving the threshold trades recall for precision",
        ["threshold", "precision", "recall", "F1"],
        rows,
    )

    d = _digits()
    ctx.say("""
        With more classes, each class gets its own precision and recall (that class against the
        rest), and there are three ways to make one number of them. Macro: the plain mean over
        classes, so a rare class weighs as much as a common one. Weighted: the mean weighted by
        each class's support. Micro: add TP, FP and FN over all classes first, then divide.
        With one label per sample every mistake is one FP (for the predicted class) and one FN
        (for the true class), so micro precision = micro recall = micro F1 = accuracy. Below,
        Gaussian naive Bayes on the digits test half.
        """)
    rows = []
    for avg in ("micro", "macro", "weighted"):
        ours = np.array(M.precision_recall_fscore_support(d.y, d.pred, average=avg)[:3])
        ref = partial(skm.precision_recall_fscore_support, d.y, d.pred, average=avg)
        vs_sk(f"{avg} precision, recall, F1 (digits)", ours, lambda r=ref: np.array(r()[:3]))
        rows.append([avg, *ours])
    ctx.table("averages over the 10 digit classes", ["average", "precision", "recall", "F1"], rows)
    vs_sk("micro F1 = accuracy", rows[0][3], lambda: skm.accuracy_score(d.y, d.pred))

    precision, recall, _ = M.precision_recall_curve(y, proba)
    ap = M.average_precision_score(y, proba)
    coarse = np.round(proba, 1)  # 11 distinct scores: each threshold adds positives and negatives
    areas = {}
    for name, score in [("distinct scores", proba), ("rounded to 0.1", coarse)]:
        prec, rec, _ = M.precision_recall_curve(y, score)
        areas[name] = (M.average_precision_score(y, score), M.auc(rec, prec))
    ctx.say("""
        Sweeping the threshold over every distinct score traces the precision-recall curve.
        Average precision summarises it as a step function: each threshold's precision times
        the recall it adds, AP = sum_k (R_k - R_(k-1)) P_k. Why not trapezoids, as for ROC?
        Between two operating points that differ by a positives and b negatives, precision does
        not move along a straight line, so straight lines are not a valid interpolation in PR
        space. With distinct scores each recall step adds one positive and raises precision, and
        trapezoids come out slightly below AP; when a threshold admits positives and negatives
        together (ties, or sparse operating points) the straight line overstates the area.
        """)
    ctx.table(
        "AP vs trapezoids under the PR curve",
        ["scores", "AP (steps)", "trapezoids"],
        [[k, *v] for k, v in areas.items()],
    )
    ctx.claim(
        "trapezoids <= AP with distinct scores, > AP with ties",
        areas["distinct scores"][1] <= areas["distinct scores"][0]
        and areas["rounded to 0.1"][1] > areas["rounded to 0.1"][0],
        ", ".join(f"{k}: {a:.4f} vs {t:.4f}" for k, (a, t) in areas.items()),
    )
    vs_sk(
        "precision_recall_curve",
        np.concatenate([precision, recall]),
        lambda: np.concatenate(skm.precision_recall_curve(y, proba)[:2]),
    )
    vs_sk("average_precision_score", ap, lambda: skm.average_precision_score(y, proba))
    with ctx.figure("pr-curve", figsize=(10, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        ax1.step(recall, precision, where="post", label=f"logistic regression (AP = {ap:.3f})")
        ax1.axhline(y.mean(), color="grey", ls="--", label=f"always positive ({y.mean():.2f})")
        ax1.set(
            xlabel="recall", ylabel="precision", title="PR curve, breast cancer", ylim=(0, 1.02)
        )
        ax1.legend(loc="lower left")
        ax2.imshow(M.confusion_matrix(d.y, d.pred, normalize="true"), cmap="Blues")
        ax2.set(
            xlabel="predicted digit",
            ylabel="true digit",
            xticks=range(10),
            yticks=range(10),
            title="digits: rows normalised, recall on the diagonal",
        )


@lesson("auc")
def auc_lesson(ctx: Context) -> None:
    from scipy import stats
    from sklearn import metrics as skm

    vs_sk = partial(ctx.check, rtol=1e-12, ref="sklearn.metrics")
    c = _cancer()
    y, s = c.y, c.logit
    fpr, tpr, _ = M.roc_curve(y, s)
    area = M.roc_auc_score(y, s)
    ctx.say("""
        The ROC curve plots, for every threshold on the score, the true-positive rate (recall)
        against the false-positive rate (the share of negatives wrongly flagged). Lowering the
        threshold past a positive moves the curve up by 1/P; past a negative, right by 1/N.
        AUC is the area under it; the diagonal is a classifier that guesses.

        Why the area is a probability: the strip of the staircase above a negative has the
        height of the share of positives ranked above that negative. Adding these strips, each
        1/N wide, gives the share of (positive, negative) pairs ordered correctly: AUC =
        P(score of a random positive > score of a random negative). When a positive and a
        negative tie, the curve moves up and right at once, along a diagonal, and the trapezoid
        under it holds half of that pair's strip: a tie counts one half. The same count comes
        from ranks alone, as the Mann-Whitney statistic U = R+ - P(P + 1)/2 (R+ the rank sum
        of the positives, ties given their mean rank), divided by P x N.
        """)
    pos, neg = s[y == 1], s[y == 0]
    pairs = np.mean((pos[:, None] > neg) + 0.5 * (pos[:, None] == neg))
    mw = M.auc_mann_whitney(y, s)
    ctx.table(
        "one number, three ways (breast cancer, logistic regression)",
        ["method", "AUC"],
        [
            ["trapezoids under the ROC curve", area],
            ["Mann-Whitney ranks", mw],
            ["all P x N pairs", pairs],
        ],
    )
    vs_sk(
        "roc_curve (fpr, tpr)",
        np.concatenate([fpr, tpr]),
        lambda: np.concatenate(skm.roc_curve(y, s)[:2]),
    )
    vs_sk("roc_auc_score", area, lambda: skm.roc_auc_score(y, s))
    ctx.check(
        "Mann-Whitney AUC",
        mw,
        lambda: stats.mannwhitneyu(pos, neg).statistic / (pos.size * neg.size),
        rtol=1e-12,
        ref="scipy.stats.mannwhitneyu",
    )
    ctx.check("AUC by counting every pair", area, pairs, rtol=1e-12, ref="brute force")

    coarse = np.round(c.proba, 1)
    ctx.say(f"""
        Ties on purpose: rounding the probabilities to one decimal leaves
        {np.unique(coarse).size} distinct scores for {y.size} samples. Trapezoids and ranks
        still agree, because both count a tie as one half. Only the order of the scores
        matters: reversing it gives 1 - AUC, and probabilities rank like the logits they come
        from.
        """)
    ctx.check(
        "heavy ties: trapezoids and our Mann-Whitney both = Mann-Whitney U / (P N)",
        [M.roc_auc_score(y, coarse), M.auc_mann_whitney(y, coarse)],
        lambda: (
            [stats.mannwhitneyu(coarse[y == 1], coarse[y == 0]).statistic / (pos.size * neg.size)]
            * 2
        ),
        rtol=1e-12,
        ref="scipy.stats.mannwhitneyu (a tie counts 1/2)",
    )
    vs_sk(
        "heavy ties: roc_auc_score",
        M.roc_auc_score(y, coarse),
        lambda: skm.roc_auc_score(y, coarse),
    )
    vs_sk("AUC(-s) = 1 - AUC(s)", M.roc_auc_score(y, -s), lambda: 1.0 - skm.roc_auc_score(y, s))
    vs_sk(
        "AUC(probabilities) = AUC(logits)",
        M.roc_auc_score(y, c.proba),
        lambda: skm.roc_auc_score(y, s),
    )

    d = _digits()
    ovr = np.mean([M.roc_auc_score(d.y == k, d.proba[:, k]) for k in range(10)])
    ctx.say(f"""
        The notes say AUC only applies to two classes. One ROC curve needs a binary split, but
        a multiclass model is routinely scored one-vs-rest: one AUC per class, then averaged.
        On the digits, naive Bayes gets a macro one-vs-rest AUC of {ovr:.4f}, the number
        scikit-learn reports with multi_class='ovr'. (Hand and Till's one-vs-one average is
        the other common choice.)
        """)
    vs_sk(
        "one-vs-rest macro AUC (digits)",
        ovr,
        lambda: skm.roc_auc_score(d.y, d.proba, multi_class="ovr"),
    )
    weak_fpr, weak_tpr, _ = M.roc_curve(y, c.weak)
    with ctx.figure("roc", figsize=(5.5, 5)) as fig:
        ax = fig.subplots()
        ax.plot(fpr, tpr, label=f"logistic regression (AUC = {area:.3f})")
        ax.fill_between(fpr, tpr, alpha=0.15)
        weak_auc = M.roc_auc_score(y, c.weak)
        ax.plot(weak_fpr, weak_tpr, label=f"'mean smoothness' alone (AUC = {weak_auc:.3f})")
        ax.plot([0, 1], [0, 1], "k--", label="chance (AUC = 0.5)")
        ax.set(
            xlabel="false-positive rate",
            ylabel="true-positive rate",
            title="ROC, breast cancer (test half)",
            aspect="equal",
        )
        ax.legend(loc="lower right")


@lesson("cross-entropy")
def cross_entropy_lesson(ctx: Context) -> None:
    from scipy import stats
    from sklearn import metrics as skm

    vs_torch = partial(ctx.check, rtol=1e-12, ref="torch.nn.functional")
    c = _cancer()
    y, proba, logit = c.y, c.proba, c.logit
    ctx.say("""
        A classifier that outputs probabilities is a probability model of the labels: it says
        label i is y_i with probability p_i(y_i). The likelihood of the observed labels is the
        product of these; its negative logarithm divided by n is the cross-entropy,
        CE = -(1/n) sum_i log p_i(y_i), for two classes -(1/n) sum_i (y_i log p_i +
        (1 - y_i) log(1 - p_i)). Minimising cross-entropy is maximum-likelihood estimation.

        As a divergence: the target of one sample is a one-hot distribution t, and
        H(t, p) = H(t) + KL(t || p) with H(t) = 0, so the cross-entropy is the KL divergence
        from the labels to the prediction.
        """)
    ctx.check(
        "binary CE from probabilities",
        M.log_loss(y, proba),
        lambda: skm.log_loss(y, proba),
        rtol=1e-12,
        ref="sklearn.metrics.log_loss",
    )
    torch_bce = partial(_torch_loss, "binary_cross_entropy_with_logits", logit, y.astype(float))
    vs_torch("binary CE from logits", M.binary_cross_entropy_with_logits(y, logit), torch_bce)
    grid = np.linspace(0.01, 0.99, 99)
    best = grid[np.argmin([M.log_loss(y, np.full(y.size, q)) for q in grid])]
    ctx.say(f"""
        Maximum likelihood in the smallest case: a constant model that gives every tumour the
        same probability q. Its cross-entropy is lowest at q = {best:.2f}, the share of
        malignant tumours ({y.mean():.4f}), and that lowest value is the entropy of the labels:
        no constant model beats the labels' own uncertainty.
        """)
    ctx.claim(
        "the best constant prediction is the class frequency (MLE)",
        abs(best - y.mean()) <= 0.005,
        f"argmin q = {best:.2f}, frequency {y.mean():.4f}",
    )
    ctx.check(
        "CE at the frequency = entropy of the labels",
        M.log_loss(y, np.full(y.size, y.mean())),
        lambda: stats.entropy([y.mean(), 1 - y.mean()]),
        rtol=1e-12,
        ref="scipy.stats.entropy",
    )

    d = _digits()
    z = d.joint_log
    ctx.say(f"""
        From logits. Naive Bayes on the digits produces log-scores up to {np.abs(z).max():.1e}
        in magnitude. Exponentiating them underflows to 0, so softmax followed by log gives
        -inf and nan. The stable form subtracts the row maximum m first:
        -log softmax(z)_y = (m - z_y) + log sum_k exp(z_k - m). Every exponent is <= 0 and the
        sum is >= 1, so nothing overflows and log never sees 0: logits of 1e4 are as safe as
        logits of 1.
        """)
    with np.errstate(all="ignore"):  # the naive route is meant to break
        naive_p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        naive = -np.mean(np.log(naive_p[np.arange(z.shape[0]), d.y]))
    stable = M.cross_entropy_with_logits(d.y, z)
    ctx.claim(
        "softmax-then-log fails on these logits, the stable form does not",
        not np.isfinite(naive) and np.isfinite(stable),
        f"naive = {naive}, stable = {stable:.6f}",
    )
    vs_torch(
        "multiclass CE from logits (digits)", stable, lambda: _torch_loss("cross_entropy", z, d.y)
    )
    rng = np.random.default_rng(0)
    big, labels = rng.normal(size=(64, 10)) * 1e4, rng.integers(0, 10, 64)
    vs_torch(
        "multiclass CE, logits of size 1e4",
        M.cross_entropy_with_logits(labels, big),
        lambda: _torch_loss("cross_entropy", big, labels),
    )

    zs, ys = z[:50] / np.abs(z[:50]).max() * 8.0, d.y[:50]  # moderate logits
    p = np.exp(zs - zs.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ctx.say("""
        Why networks train with it: the derivative of the mean cross-entropy with respect to
        the logits is (softmax(z) - onehot(y)) / n. The error signal is the gap between the
        predicted and the true distribution, bounded, and largest when the model is confidently
        wrong. Squared error on a sigmoid output has derivative 2(p - y) p(1 - p): the
        p(1 - p) factor vanishes when the unit saturates, so a confidently wrong model barely
        learns.
        """)
    ctx.check(
        "gradient of softmax + CE is (p - y) / n",
        (p - np.eye(10)[ys]) / ys.size,
        lambda: _torch_ce_grad(ys, zs),
        rtol=1e-12,
        atol=1e-15,
        ref="torch autograd",
    )
    _network_layer_checks(ctx, zs, ys)
    zz = np.linspace(-10, 10, 401)
    sig = 1 / (1 + np.exp(-zz))
    ce_grad, mse_grad = sig - 1, 2 * (sig - 1) * sig * (1 - sig)  # target y = 1
    ctx.table(
        "gradient when the true class is 1",
        ["logit", "d CE / dz", "d MSE / dz"],
        [[zz[i], ce_grad[i], mse_grad[i]] for i in (0, 100, 200)],
    )
    ctx.claim(
        "at z = -10 the CE gradient is > 1000x the squared-error gradient",
        abs(ce_grad[0]) > 1000 * abs(mse_grad[0]),
        f"{ce_grad[0]:.4f} vs {mse_grad[0]:.2e}",
    )
    with ctx.figure("ce-vs-mse", figsize=(10, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        for name, loss, grad in [
            ("cross-entropy", np.logaddexp(0, -zz), ce_grad),
            ("squared error", (1 - sig) ** 2, mse_grad),
        ]:
            ax1.plot(zz, loss, label=name)
            ax2.semilogy(zz, np.abs(grad), label=name)
        ax1.set(xlabel="logit z (true class 1)", ylabel="loss", title="loss")
        ax2.set(xlabel="logit z (true class 1)", ylabel="|d loss / dz|", title="gradient")
        ax1.legend()


def _network_layer_checks(ctx: Context, z: np.ndarray, y: np.ndarray) -> None:
    """The loss layer a network trains with: mlcanon.nn's cross_entropy, backward by hand."""
    import torch

    from mlcanon.nn import functional as ours

    ctx.say("""
        In a network the same loss is a layer: mlcanon.nn.functional.cross_entropy is a torch
        autograd Function whose backward pass is the formula above written out, (p - y) / n,
        with label smoothing mixing y with the uniform distribution and ignored targets
        contributing nothing. Its loss and gradient are checked against torch's built-in.
        """)

    def loss_and_grad(fn, **kw):
        zt = torch.tensor(z, requires_grad=True)
        loss = fn(zt, torch.from_numpy(y), **kw)
        loss.backward()
        return np.r_[loss.item(), zt.grad.numpy().ravel()]

    for kw in ({}, {"label_smoothing": 0.1}, {"ignore_index": int(y[0])}):
        desc = ", ".join(f"{k}={v}" for k, v in kw.items()) or "plain"
        ctx.check(
            f"network layer cross_entropy ({desc}): loss and d loss / dz",
            loss_and_grad(ours.cross_entropy, **kw),
            lambda kw=kw: loss_and_grad(torch.nn.functional.cross_entropy, **kw),
            rtol=1e-12,
            atol=1e-15,
            ref="torch.nn.functional",
        )


def _torch_loss(name: str, logits: np.ndarray, target: np.ndarray) -> float:
    import torch

    fn = getattr(torch.nn.functional, name)
    return fn(torch.from_numpy(logits), torch.from_numpy(target)).item()


def _torch_ce_grad(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    import torch

    z = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.from_numpy(y)).backward()
    return z.grad.numpy()


@lesson("kl-divergence")
def kl_divergence_lesson(ctx: Context) -> None:
    from scipy import stats
    from scipy.spatial import distance

    vs_scipy = partial(ctx.check, rtol=1e-12, ref="scipy.stats.entropy")
    d = _digits()
    hist = [np.bincount(d.X[d.target == k].astype(int).ravel(), minlength=17) for k in (0, 1)]
    p, q = (h / h.sum() for h in hist)
    ctx.say("""
        Entropy H(p) = -sum_k p_k log p_k is the average surprise of outcomes drawn from p (in
        nats; in bits with log base 2). Coding outcomes of p with a code built for q costs the
        cross-entropy H(p, q) = -sum_k p_k log q_k; the excess is the Kullback-Leibler
        divergence KL(p || q) = H(p, q) - H(p) = sum_k p_k log(p_k / q_k) >= 0, zero only when
        p = q. It is not a distance: it is not symmetric, and it is infinite as soon as q gives
        zero probability to something p can produce. The Jensen-Shannon divergence compares
        both with their mixture m = (p + q)/2: JS = KL(p || m)/2 + KL(q || m)/2. It is
        symmetric, always finite, at most log 2, and its square root is a metric.

        Data: the distributions of the 17 pixel intensities in the digits' images of a 0 (p)
        and of a 1 (q).
        """)
    kl_pq, kl_qp, js = M.kl_divergence(p, q), M.kl_divergence(q, p), M.js_divergence(p, q)
    ctx.table(
        "pixel-intensity distributions (nats)",
        ["quantity", "value"],
        [
            ["H(p), digit 0", M.entropy(p)],
            ["H(q), digit 1", M.entropy(q)],
            ["KL(p || q)", kl_pq],
            ["KL(q || p)", kl_qp],
            ["JS(p, q)", js],
        ],
    )
    vs_scipy(
        "entropy of p and q",
        np.array([M.entropy(p), M.entropy(q)]),
        lambda: stats.entropy(np.stack([p, q], axis=1)),
    )
    vs_scipy(
        "KL(p || q) and KL(q || p)",
        np.array([kl_pq, kl_qp]),
        lambda: stats.entropy(np.stack([p, q], axis=1), np.stack([q, p], axis=1)),
    )
    ctx.check(
        "KL(p || q)", kl_pq, lambda: _torch_kl(p, q), rtol=1e-12, ref="torch.nn.functional.kl_div"
    )
    ctx.check(
        "JS(p, q)",
        js,
        lambda: distance.jensenshannon(p, q) ** 2,
        rtol=1e-12,
        ref="scipy.spatial.distance.jensenshannon, squared",
    )
    ctx.check(
        "cross-entropy = entropy + KL",
        M.entropy(p) + kl_pq,
        -np.sum(p * np.log(q)),
        rtol=1e-12,
        ref="definition H(p, q) = -sum p log q",
    )
    js_qp = M.js_divergence(q, p)
    ctx.claim(
        "JS is symmetric: JS(q, p) = JS(p, q)",
        abs(js_qp - js) <= 1e-15 * abs(js),
        f"JS(q, p) = {js_qp!r}, JS(p, q) = {js!r}",
    )
    ctx.claim(
        "KL(p || q) and KL(q || p) differ by more than 1%",
        abs(kl_pq / kl_qp - 1) > 0.01,
        f"{kl_pq:.4f} vs {kl_qp:.4f}",
    )
    _asymmetry_demo(ctx)


def _gaussians(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Normal densities on the grid ``x`` (last axis), one per (mu, sigma), summing to 1."""
    dens = np.exp(-0.5 * ((x - mu[..., None]) / sigma[..., None]) ** 2)
    return dens / dens.sum(axis=-1, keepdims=True)


def _asymmetry_demo(ctx: Context) -> None:
    x = np.linspace(-8, 8, 641)
    p = 0.5 * _gaussians(x, np.array(-2.5), np.array(0.8))
    p += 0.5 * _gaussians(x, np.array(2.5), np.array(0.8))
    mus, sigmas = np.meshgrid(np.linspace(-4, 4, 81), np.linspace(0.4, 4.0, 37), indexing="ij")
    qs = _gaussians(x, mus, sigmas)  # (81, 37, 641)
    forward = M.kl_divergence(p, qs, axis=-1)  # KL(p || q): q must cover p
    reverse = M.kl_divergence(qs, p, axis=-1)  # KL(q || p): q must avoid where p is small
    i, j = np.unravel_index(np.argmin(forward), forward.shape)
    k, m = np.unravel_index(np.argmin(reverse), reverse.shape)
    mean = np.round(np.sum(p * x), 12) + 0.0  # the mixture is symmetric: report 0, not -0
    std = np.sqrt(np.sum(p * (x - mean) ** 2))
    ctx.say(f"""
        The asymmetry decides what a fit looks like. Take p with two bumps (at -2.5 and 2.5)
        and search one Gaussian q over a grid of means and widths. KL(p || q) punishes q
        wherever p has mass that q lacks, so q spreads over both bumps: the best fit matches
        p's mean and standard deviation ({mean:.2f}, {std:.2f}). KL(q || p) punishes q wherever
        it puts mass that p lacks, so q settles on one bump. The first is what maximum
        likelihood does; the second is what variational inference inherits.
        """)
    ctx.table(
        "best single Gaussian for a two-bump p",
        ["objective", "mean", "std", "value"],
        [
            ["KL(p || q), mass-covering", mus[i, j], sigmas[i, j], forward[i, j]],
            ["KL(q || p), mode-seeking", mus[k, m], sigmas[k, m], reverse[k, m]],
        ],
    )
    ctx.claim(
        "forward KL matches the moments of p (grid step 0.1)",
        abs(mus[i, j] - mean) <= 0.1 and abs(sigmas[i, j] - std) <= 0.1,
        f"fit ({mus[i, j]:.2f}, {sigmas[i, j]:.2f}), moments ({mean:.2f}, {std:.2f})",
    )
    ctx.claim(
        "reverse KL sits on one bump",
        abs(abs(mus[k, m]) - 2.5) <= 0.2 and sigmas[k, m] < 1.2,
        f"fit ({mus[k, m]:.2f}, {sigmas[k, m]:.2f})",
    )
    with ctx.figure("kl-asymmetry", figsize=(7, 4)) as fig:
        ax = fig.subplots()
        ax.fill_between(x, p, alpha=0.3, label="p (two bumps)")
        ax.plot(x, qs[i, j], label="argmin KL(p || q): covers both")
        ax.plot(x, qs[k, m], label="argmin KL(q || p): picks one")
        ax.set(xlabel="x", ylabel="probability per grid cell", title="KL is not symmetric")
        ax.legend()


def _torch_kl(p: np.ndarray, q: np.ndarray) -> float:
    import torch

    # kl_div takes the log of the model distribution as input and the data one as target
    target, log_q = torch.from_numpy(p), torch.from_numpy(np.log(q))
    return torch.nn.functional.kl_div(log_q, target, reduction="sum").item()
