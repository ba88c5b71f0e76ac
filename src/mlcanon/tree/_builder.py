"""Depth-first CART growth with exact split search and learned missing-value directions (numba).

For every node the splitter visits features in random order (Fisher-Yates, so ``max_features``
draws without replacement; constant features do not count towards it), sorts the node's
non-missing values and scans every boundary between two distinct values. When the node has
missing values the scan runs twice: once with the missing samples sent right, once sent left,
plus the split "all non-missing left | all missing right" (threshold ``+inf``). The direction
with the better criterion is stored with the split; when a node saw no missing value for the
chosen feature, missing values at predict time follow the child that received more samples.

Nodes are numbered in pre-order (a node, then its left subtree, then its right subtree), as in
scikit-learn, so two trees with the same splits have the same arrays.

References
----------
Breiman et al. (1984). Classification and Regression Trees, ch. 2-4.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._criterion import SQUARED_ERROR, impurity, proxy_improvement
from ._sort import sort_pairs

FEATURE_THRESHOLD = 1e-7  # values closer than this are treated as tied (float32 data)
EPSILON = np.finfo(np.float64).eps
LEAF = -1

# Named slots of the kernels' small state arrays (numba reads module constants as literals).
# The best split found so far, float64[4]: the criterion's proxy, the boundary position among
# the sorted non-missing values, the threshold, and 1.0 when the missing samples went left.
PROXY, POS, THRESHOLD, MISSING_LEFT = 0, 1, 2, 3
# A pending node on the stack, int64[5]: its sample range, depth, parent and side.
START, END, DEPTH, PARENT, IS_LEFT = 0, 1, 2, 3, 4
# The scratch arrays reused at every node (``ws``): one feature's values and samples
# (non-missing first, sorted), statistics of the missing samples, of a left and a right
# child, and the best split.
VALS, IDS, MISS, LEFT, RIGHT, BEST = 0, 1, 2, 3, 4, 5


@njit(cache=True, nogil=True)
def rand_int(state, high):
    """Uniform integer in [0, high) from a xorshift64* stream held in ``state`` (uint64[1])."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(33)) % high


@njit(cache=True, nogil=True)
def _add_sample(s, is_clf, ycode, yval, w, i, sign):
    wi = sign * w[i]
    if is_clf:
        s[ycode[i]] += wi
    else:
        s[0] += wi * yval[i]
        s[1] += wi * yval[i] * yval[i]


@njit(cache=True, nogil=True)
def _node_stats(s, is_clf, ycode, yval, w, samples, start, end):
    s[:] = 0.0
    w_node = 0.0
    for p in range(start, end):
        _add_sample(s, is_clf, ycode, yval, w, samples[p], 1.0)
        w_node += w[samples[p]]
    return w_node


@njit(cache=True, nogil=True)
def _scan(
    crit, is_clf, ycode, yval, w, ws, nm, n_node, w_base, total, w_total, min_leaf, missing_right
):
    """Scan the boundaries of the sorted values ``ws[VALS][:nm]`` (samples ``ws[IDS]``); the left
    child starts from ``ws[MISS]`` (weight ``w_base``): nothing, or the missing samples.

    ``best`` (slots ``PROXY``, ``POS``, ``THRESHOLD``, ``MISSING_LEFT``) is updated in place
    when a split is strictly better (so the first of equal splits wins, as in scikit-learn).
    With ``missing_right`` the last boundary (all non-missing left) is also a candidate.
    """
    sv, ss, base, left, right, best = ws[VALS], ws[IDS], ws[MISS], ws[LEFT], ws[RIGHT], ws[BEST]
    left[:] = base
    w_left = w_base
    s_left = base[0]  # regression keeps its running sum in a register
    n_base = n_node - nm if not missing_right else 0
    last = nm if (missing_right and nm < n_node) else nm - 1
    for k in range(last):
        i = ss[k]
        wi = w[i]
        w_left += wi
        if is_clf:
            left[ycode[i]] += wi
        else:
            s_left += wi * yval[i]
        p = k + 1
        if p < nm and sv[p] <= sv[p - 1] + FEATURE_THRESHOLD:
            continue
        n_left = n_base + p
        if n_left < min_leaf or n_node - n_left < min_leaf:
            continue
        w_right = w_total - w_left
        if w_left <= 0.0 or w_right <= 0.0:
            continue
        if crit == SQUARED_ERROR:
            s_right = total[0] - s_left
            proxy = s_left * s_left / w_left + s_right * s_right / w_right
        else:
            proxy = proxy_improvement(crit, left, w_left, total, w_total, right)
        if proxy > best[PROXY]:
            best[PROXY] = proxy
            best[POS] = p
            best[MISSING_LEFT] = 0.0 if missing_right else 1.0
            if p == nm:
                best[THRESHOLD] = np.inf  # NaN <= inf is False: only the missing go right
            else:
                thr = sv[p - 1] / 2.0 + sv[p] / 2.0
                best[THRESHOLD] = sv[p - 1] if thr == sv[p] else thr


@njit(cache=True, nogil=True)
def _partition(XT, samples, start, end, feature, threshold, missing_left, buf):
    """Stable partition of ``samples[start:end]``; return the first index of the right child."""
    col = XT[feature]
    n_left = 0
    n_right = 0
    for p in range(start, end):
        i = samples[p]
        x = col[i]
        go_left = missing_left if np.isnan(x) else x <= threshold
        if go_left:
            samples[start + n_left] = i
            n_left += 1
        else:
            buf[n_right] = i
            n_right += 1
    samples[start + n_left : end] = buf[:n_right]
    return start + n_left


@njit(cache=True, nogil=True)
def _gather(col, samples, start, end, vals, ids):
    """Node values of one feature: non-missing ones (and their samples) at the front of
    ``vals``/``ids``, the samples with a missing value at the back; return the count of the
    non-missing ones."""
    n_node = end - start
    nm, n_missing = 0, 0
    for p in range(start, end):
        i = samples[p]
        x = col[i]
        if np.isnan(x):
            n_missing += 1
            ids[n_node - n_missing] = i
        else:
            vals[nm] = x
            ids[nm] = i
            nm += 1
    return nm


@njit(cache=True, nogil=True)
def _best_split(
    XT, target, samples, start, end, total, w_total, features, max_features, min_leaf, rng, ws
):
    """Best split of ``samples[start:end]`` -> (feature, threshold, missing_left, pos) or -1."""
    vals, ids, miss, best = ws[VALS], ws[IDS], ws[MISS], ws[BEST]
    crit, is_clf, ycode, yval, w = target  # criterion code, class codes, targets, weights
    n_node = end - start
    n_features = features.shape[0]
    best_feature, best_threshold, best_missing_left, best_pos = -1, 0.0, False, -1
    best_proxy = -np.inf
    n_drawn = 0
    n_visited = 0
    while n_drawn < n_features and n_visited < max_features:
        j = n_drawn + rand_int(rng, n_features - n_drawn)
        f = features[j]
        features[j] = features[n_drawn]
        features[n_drawn] = f
        n_drawn += 1
        nm = _gather(XT[f], samples, start, end, vals, ids)
        n_missing = n_node - nm
        if nm == 0:
            continue
        sort_pairs(vals, ids, nm)
        if n_missing == 0 and vals[nm - 1] <= vals[0] + FEATURE_THRESHOLD:
            continue  # constant feature: no split, and it does not count as visited
        n_visited += 1
        best[PROXY], best[POS], best[MISSING_LEFT] = best_proxy, -1.0, 0.0
        miss[:] = 0.0
        w_miss = 0.0
        # pass 1 sends the missing samples right; pass 2, when there are some, sends them left
        # (the left child then starts from their statistics)
        for missing_right in (True, False):
            if not missing_right:
                if n_missing == 0:
                    break
                for k in range(nm, n_node):
                    _add_sample(miss, is_clf, ycode, yval, w, ids[k], 1.0)
                    w_miss += w[ids[k]]
            _scan(
                crit,
                is_clf,
                ycode,
                yval,
                w,
                ws,
                nm,
                n_node,
                w_miss,
                total,
                w_total,
                min_leaf,
                missing_right,
            )
        pass_left = best[MISSING_LEFT] == 1.0
        if best[POS] >= 0.0 and best[PROXY] > best_proxy:
            best_proxy = best[PROXY]
            best_feature = f
            best_threshold = best[THRESHOLD]
            p = int(best[POS])
            if n_missing == 0:
                best_missing_left = p > n_node - p  # follow the larger child
            else:
                best_missing_left = pass_left
            best_pos = p + (n_missing if pass_left else 0)
    return best_feature, best_threshold, best_missing_left, best_pos


@njit(cache=True, nogil=True)
def _push(stack, top, start, end, depth, parent, is_left):
    stack[top, START] = start
    stack[top, END] = end
    stack[top, DEPTH] = depth
    stack[top, PARENT] = parent
    stack[top, IS_LEFT] = is_left


@njit(cache=True, nogil=True)
def _new_nodes(cap, n_stats):
    """Empty node arrays: left, right, feature, threshold, missing_left, impurity, n_samples,
    weighted_n_samples, stats (scikit-learn's ``Tree`` fields, and the nodes' statistics)."""
    return (
        np.full(cap, LEAF, np.int64),
        np.full(cap, LEAF, np.int64),
        np.full(cap, -2, np.int64),
        np.full(cap, -2.0),
        np.zeros(cap, np.bool_),
        np.zeros(cap),
        np.zeros(cap, np.int64),
        np.zeros(cap),
        np.zeros((cap, n_stats)),
    )


@njit(cache=True, nogil=True)
def _trim(nodes, n):
    """Copies of the first ``n`` entries of every node array."""
    left, right, feature, threshold, missing_left, imp, n_samples, wn, stats = nodes
    return (
        left[:n].copy(),
        right[:n].copy(),
        feature[:n].copy(),
        threshold[:n].copy(),
        missing_left[:n].copy(),
        imp[:n].copy(),
        n_samples[:n].copy(),
        wn[:n].copy(),
        stats[:n].copy(),
    )


@njit(cache=True, nogil=True)
def _decrease(crit, imp, w_node, s_l, w_l, s_r, w_root):
    """scikit-learn's weighted impurity decrease of a split:
    ``N_t / N * (impurity - N_tR / N_t * right_impurity - N_tL / N_t * left_impurity)``."""
    w_r = w_node - w_l
    return (w_node / w_root) * (
        imp - w_r / w_node * impurity(crit, s_r, w_r) - w_l / w_node * impurity(crit, s_l, w_l)
    )


@njit(cache=True, nogil=True)
def build_tree(
    XT,
    ycode,
    yval,
    w,
    n_stats,
    crit,
    is_clf,
    max_depth,
    min_samples_split,
    min_leaf,
    max_features,
    min_impurity_decrease,
    seed,
):
    """Grow a CART tree on the samples with positive weight; return its node arrays.

    Returns ``(left, right, feature, threshold, missing_left, impurity, n_samples,
    weighted_n_samples, stats)`` trimmed to the number of nodes; ``stats[node]`` holds the
    node's class counts (classification) or ``(sum, sum of squares)`` of ``y`` (regression).
    """
    target = (crit, is_clf, ycode, yval, w)
    samples = np.flatnonzero(w > 0.0)
    n = samples.shape[0]
    nodes = _new_nodes(2 * n, n_stats)
    left_a, right_a, feat_a, thr_a, miss_a, imp_a, n_a, wn_a, stats_a = nodes
    stack = np.zeros((n + 1, 5), np.int64)  # pending nodes, columns START ... IS_LEFT
    _push(stack, 0, 0, n, 0, -1, 0)
    top = 1
    vals, ids, miss = np.empty(n, XT.dtype), np.empty(n, np.int64), np.zeros(n_stats)
    ws = (vals, ids, miss, np.zeros(n_stats), np.zeros(n_stats), np.zeros(4))  # VALS ... BEST
    features, buf = np.arange(XT.shape[0]), np.empty(n, np.int64)
    rng = np.array([np.uint64(seed) * np.uint64(2) + np.uint64(1)])
    w_root, n_nodes = 0.0, 0
    while top > 0:
        top -= 1
        start, end, depth = stack[top, START], stack[top, END], stack[top, DEPTH]
        parent, is_left = stack[top, PARENT], stack[top, IS_LEFT]
        node = n_nodes
        n_nodes += 1
        if parent >= 0:
            (left_a if is_left else right_a)[parent] = node
        total = stats_a[node]
        w_node = _node_stats(total, is_clf, ycode, yval, w, samples, start, end)
        w_root = w_node if node == 0 else w_root
        imp = impurity(crit, total, w_node)
        n_node = end - start
        imp_a[node], n_a[node], wn_a[node] = imp, n_node, w_node
        if depth >= max_depth or n_node < max(min_samples_split, 2 * min_leaf) or imp <= EPSILON:
            continue
        f, thr, mleft, pos = _best_split(
            XT,
            target,
            samples,
            start,
            end,
            total,
            w_node,
            features,
            max_features,
            min_leaf,
            rng,
            ws,
        )
        if f < 0:
            continue
        mid = _partition(XT, samples, start, end, f, thr, mleft, buf)
        if mid != start + pos:
            raise RuntimeError("partition disagrees with the split search")
        s_l, s_r = ws[LEFT], ws[RIGHT]
        w_l = _node_stats(s_l, is_clf, ycode, yval, w, samples, start, mid)
        s_r[:] = total - s_l
        decrease = _decrease(crit, imp, w_node, s_l, w_l, s_r, w_root)
        if decrease + EPSILON < min_impurity_decrease:
            continue
        feat_a[node], thr_a[node], miss_a[node] = f, thr, mleft
        _push(stack, top, mid, end, depth + 1, node, 0)  # right child waits below the left
        _push(stack, top + 1, start, mid, depth + 1, node, 1)
        top += 2
    return _trim(nodes, n_nodes)


@njit(cache=True, nogil=True)
def apply_tree(X, left, right, feature, threshold, missing_left):
    """Leaf index of every row of ``X`` (float32, n x d)."""
    out = np.empty(X.shape[0], np.int64)
    for r in range(X.shape[0]):
        node = 0
        while left[node] != LEAF:
            x = X[r, feature[node]]
            go_left = missing_left[node] if np.isnan(x) else x <= threshold[node]
            node = left[node] if go_left else right[node]
        out[r] = node
    return out
