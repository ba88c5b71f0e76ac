"""Split search of one node: exact ("best") or at a random threshold ("random"), in numba.

The best splitter visits features in random order (Fisher-Yates, so ``max_features`` draws
without replacement; constant features do not count towards it), sorts the node's non-missing
values and scans every boundary between two distinct values. When the node has missing values
the scan runs twice: once with the missing samples sent right, once sent left, plus the split
"all non-missing left | all missing right" (threshold ``+inf``). The direction with the better
criterion is stored with the split; when a node saw no missing value for the chosen feature,
missing values at predict time follow the child that received more samples.

Under monotonicity constraints (see :mod:`mlcanon.tree._monotonic`) a split on a constrained
feature is a candidate only when its children's values respect the node's bounds and order.
That test is made only for a split that beats the best one so far (rejecting candidates is a
filter, which commutes with taking the maximum). Without constraints ``cst`` and ``bounds`` are
None, and numba compiles the search with those tests removed.

The random splitter (Extremely Randomized Trees) draws, for each visited feature, one threshold
uniformly between the node's smallest and largest non-missing value, and a random side for the
missing values; the best of these candidates wins.

References
----------
Breiman et al. (1984). Classification and Regression Trees, ch. 2-4.
Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._absolute_error import (
    AE_PREFIX,
    AE_SUFFIX,
    ERRORS,
    MEDIANS,
    SEQ,
    rank_targets,
    sequence_errors,
)
from ._criterion import (
    ABSOLUTE_ERROR,
    CRIT,
    IS_CLF,
    SQUARED_ERROR,
    WEIGHT,
    YCODE,
    YVAL,
    absolute_error,
    add_sample,
    class_proxy,
    n_outputs,
    proxy_improvement,
    scan_add,
)
from ._monotonic import split_ok
from ._sort import sort_pairs

FEATURE_THRESHOLD = 1e-7  # values closer than this are treated as tied (float32 data)

# Named slots of the kernels' small state arrays (numba reads module constants as literals).
# The best split of one feature, float64[4]: the criterion's proxy, the number of samples sent
# left, the threshold, and 1.0 when the missing samples went left.
PROXY, POS, THRESHOLD, MISSING_LEFT = 0, 1, 2, 3
# The scratch arrays reused at every node (``ws``): one feature's values and samples
# (non-missing first, sorted), statistics of the missing samples, of a left and a right
# child, the best split, the absolute-error criterion's arrays (see _absolute_error) and the
# sort's stack.
VALS, IDS, MISS, LEFT, RIGHT, BEST, MAE, STACK = 0, 1, 2, 3, 4, 5, 6, 7
# The split-search settings (``rules``, float64[4]): features searched, minimum samples and
# minimum weight of a child, and 1.0 when thresholds are drawn at random.
MAX_FEATURES, MIN_LEAF, MIN_WEIGHT_LEAF, RANDOM = 0, 1, 2, 3


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
def rand_uniform(state, low, high):
    """Uniform float in [low, high) from the same stream (53 random bits)."""
    u = rand_int(state, 1 << 31) * 4194304.0 + rand_int(state, 4194304)
    return low + (high - low) * (u / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def _admissible(n_left, n_right, w_left, w_right, min_leaf, min_weight):
    """Whether both children meet ``min_samples_leaf`` and ``min_weight_fraction_leaf``."""
    if n_left < min_leaf or n_right < min_leaf:
        return False
    if w_left < min_weight or w_right < min_weight:
        return False
    return w_left > 0.0 and w_right > 0.0


@njit(cache=True, nogil=True)
def _record(best, proxy, pos, threshold, missing_left):
    best[PROXY] = proxy
    best[POS] = pos
    best[THRESHOLD] = threshold
    best[MISSING_LEFT] = 1.0 if missing_left else 0.0


@njit(cache=True, nogil=True, inline="always")
def _record_boundary(best, proxy, sv, p, nm, n_node, missing_right):
    """Record the split between the sorted values ``sv[p - 1]`` and ``sv[p]`` (``p == nm``: all
    non-missing left, only the missing samples right)."""
    if p == nm:
        thr = np.inf  # NaN <= inf is False: only the missing go right
    else:
        thr = sv[p - 1] / 2.0 + sv[p] / 2.0
        thr = sv[p - 1] if thr == sv[p] else thr
    _record(best, proxy, p + (n_node - nm if not missing_right else 0), thr, not missing_right)


@njit(cache=True, nogil=True, inline="always")
def is_plain(target):
    """The plain case: one output with a gini/entropy criterion (a class count per sample and a
    proxy over the classes) or squared error (a running sum and a proxy of a few scalar
    operations); anything else (several outputs, Poisson, absolute error) takes :func:`_scan`."""
    return n_outputs(target) == 1 and (target[IS_CLF] or target[CRIT] == SQUARED_ERROR)


@njit(cache=True, nogil=True)
def _plain_scan(
    crit, sv, ss, y, yc, w, left, right, total, best, node, base, leaf, bounds, missing_right
):
    """:func:`_scan` in the plain case, on arrays passed one by one: an array taken out of a
    tuple costs numba an atomic reference count, which small nodes pay at every call.

    ``y``, ``yc`` and ``w`` hold the targets, class codes and weights of the samples; ``left``,
    ``right`` and ``total`` class counts (``left`` starts with those of the left child);
    ``node`` is ``(nm, n_node, w_total)``, ``base`` the starting weight and target sum of the
    left child and the node's target sum, ``leaf`` the minimum samples and weight of a child,
    ``bounds`` the feature's monotonicity bounds (see :func:`split_ok`; None without
    constraints).
    """
    nm, n_node, w_total = node
    w_left, s_left, s_total = base
    min_leaf, min_weight = leaf
    squared = crit == SQUARED_ERROR
    n_base = n_node - nm if not missing_right else 0
    last = nm if (missing_right and nm < n_node) else nm - 1
    for k in range(last):
        i = ss[k]
        w_left += w[i]
        if squared:  # the running sum stays in a register
            s_left += w[i] * y[i]
        else:
            left[yc[i]] += w[i]
        p = k + 1
        if p < nm and sv[p] <= sv[p - 1] + FEATURE_THRESHOLD:
            continue
        n_left, w_right = n_base + p, w_total - w_left
        if not _admissible(n_left, n_node - n_left, w_left, w_right, min_leaf, min_weight):
            continue
        if squared:
            s_right = s_total - s_left
            proxy = s_left * s_left / w_left + s_right * s_right / w_right
        else:
            proxy = class_proxy(crit, left, w_left, total, w_total, right)
        if proxy > best[PROXY]:
            if bounds is not None:  # decided at compile time
                if not _plain_ok(bounds, squared, s_left, s_total, left, total, w_left, w_right):
                    continue
            _record_boundary(best, proxy, sv, p, nm, n_node, missing_right)


@njit(cache=True, nogil=True, inline="always")
def _plain_ok(bounds, squared, s_left, s_total, left, total, w_left, w_right):
    """:func:`split_ok` on the children's mean targets (squared error) or first-class shares."""
    if squared:
        return split_ok(bounds, s_left / w_left, (s_total - s_left) / w_right)
    return split_ok(bounds, left[0] / w_left, (total[0] - left[0]) / w_right)


@njit(cache=True, nogil=True, inline="always")
def _plain_best(crit, sv, ss, y, yc, w, left, right, total, best, node, leaf, bounds, best_proxy):
    """:func:`_best_of_feature` in the plain case (arguments as :func:`_plain_scan`)."""
    nm, n_node, _ = node
    _record(best, best_proxy, -1.0, 0.0, False)
    left[:] = 0.0
    base = (0.0, 0.0, total[0])
    _plain_scan(crit, sv, ss, y, yc, w, left, right, total, best, node, base, leaf, bounds, True)
    if nm < n_node:
        left[:] = 0.0
        w_miss, s_miss = 0.0, 0.0
        for k in range(nm, n_node):
            i = ss[k]
            w_miss += w[i]
            if crit == SQUARED_ERROR:
                s_miss += w[i] * y[i]
            else:
                left[yc[i]] += w[i]
        base = (w_miss, s_miss, total[0])
        _plain_scan(
            crit, sv, ss, y, yc, w, left, right, total, best, node, base, leaf, bounds, False
        )


@njit(cache=True, nogil=True)
def _scan(target, ws, nm, n_node, w_base, total, w_total, rules, bounds, missing_right):
    """Scan the boundaries of the sorted values ``ws[VALS][:nm]`` (samples ``ws[IDS]``); the left
    child starts from ``ws[MISS]`` (weight ``w_base``): nothing, or the missing samples.

    ``ws[BEST]`` is updated in place when a split is strictly better (so the first of equal
    splits wins, as in scikit-learn). With ``missing_right`` the last boundary (all non-missing
    left) is also a candidate. ``bounds`` are the feature's monotonicity bounds (see
    :func:`split_ok`).
    """
    sv, ss, left, right, best = ws[VALS], ws[IDS], ws[LEFT], ws[RIGHT], ws[BEST]
    w, miss = target[WEIGHT], ws[MISS]
    for c in range(left.shape[0]):  # by hand: numba's slice assignment of an array allocates
        left[c] = miss[c]
    w_left = w_base
    n_base = n_node - nm if not missing_right else 0
    last = nm if (missing_right and nm < n_node) else nm - 1
    mae = target[CRIT] == ABSOLUTE_ERROR
    ae_prefix, ae_suffix = ws[MAE][AE_PREFIX][ERRORS], ws[MAE][AE_SUFFIX][ERRORS]
    for k in range(last):
        i = ss[k]
        w_left += w[i]
        scan_add(left, target, i)
        p = k + 1
        if p < nm and sv[p] <= sv[p - 1] + FEATURE_THRESHOLD:
            continue
        n_left, w_right = n_base + p, w_total - w_left
        leaf, min_weight = rules[MIN_LEAF], rules[MIN_WEIGHT_LEAF]
        if not _admissible(n_left, n_node - n_left, w_left, w_right, leaf, min_weight):
            continue
        if mae:
            proxy = -(ae_prefix[n_left - 1] + ae_suffix[n_left])
        else:
            proxy = proxy_improvement(target, left, w_left, total, w_total, right)
        if proxy > best[PROXY]:
            if bounds is not None:  # decided at compile time
                if not _scan_ok(target, ws, bounds, left, total, w_left, w_right, n_left):
                    continue
            _record_boundary(best, proxy, sv, p, nm, n_node, missing_right)


@njit(cache=True, nogil=True)
def _scan_ok(target, ws, bounds, left, total, w_left, w_right, n_left):
    """:func:`split_ok` on the children's values in a scan: the medians of the prefix and suffix
    (absolute error), or the means of the first output (the shares of the first class)."""
    if target[CRIT] == ABSOLUTE_ERROR:
        mae = ws[MAE]
        return split_ok(
            bounds, mae[AE_PREFIX][MEDIANS, n_left - 1], mae[AE_SUFFIX][MEDIANS, n_left]
        )
    return split_ok(bounds, left[0] / w_left, (total[0] - left[0]) / w_right)


@njit(cache=True, nogil=True)
def _best_of_feature(target, ws, nm, n_node, total, w_total, rules, bounds, best_proxy):
    """Exact search over the sorted values of one feature, missing samples right then left."""
    ids, miss, w = ws[IDS], ws[MISS], target[WEIGHT]
    _record(ws[BEST], best_proxy, -1.0, 0.0, False)
    miss[:] = 0.0
    mae = target[CRIT] == ABSOLUTE_ERROR
    if mae:
        _sequence(target, ws, nm, n_node, True)
    _scan(target, ws, nm, n_node, 0.0, total, w_total, rules, bounds, True)
    if nm < n_node:
        w_miss = 0.0
        for k in range(nm, n_node):
            add_sample(miss, target, ids[k], 1.0)
            w_miss += w[ids[k]]
        if mae:
            _sequence(target, ws, nm, n_node, False)
        _scan(target, ws, nm, n_node, w_miss, total, w_total, rules, bounds, False)


@njit(cache=True, nogil=True)
def _sequence(target, ws, nm, n_node, missing_right):
    """Absolute error: errors of every left child (a prefix of the scan order: the
    sorted non-missing samples, after the missing ones when they go left) and right child."""
    ids, seq = ws[IDS], ws[MAE][SEQ]
    n_miss = n_node - nm
    if missing_right:
        seq[:n_node] = ids[:n_node]
    else:
        seq[:n_miss] = ids[nm:n_node]
        seq[n_miss:n_node] = ids[:nm]
    sequence_errors(target, ws[MAE], n_node)


@njit(cache=True, nogil=True)
def _random_of_feature(target, ws, nm, n_node, total, w_total, rules, best_proxy, rng):
    """One random threshold between the node's extreme non-missing values of the feature."""
    vals, ids, left, best, w = ws[VALS], ws[IDS], ws[LEFT], ws[BEST], target[WEIGHT]
    _record(best, best_proxy, -1.0, 0.0, False)
    lo, hi = vals[:nm].min(), vals[:nm].max()
    thr = rand_uniform(rng, np.float64(lo), np.float64(hi))
    missing_left = rand_int(rng, 2) == 1 if nm < n_node else False
    if thr == hi:
        thr = np.float64(lo)
    left[:] = 0.0
    w_left, n_left = 0.0, 0
    for k in range(n_node):
        if (vals[k] <= thr) if k < nm else missing_left:
            add_sample(left, target, ids[k], 1.0)
            w_left += w[ids[k]]
            n_left += 1
    leaf, min_weight = rules[MIN_LEAF], rules[MIN_WEIGHT_LEAF]
    if not _admissible(n_left, n_node - n_left, w_left, w_total - w_left, leaf, min_weight):
        return
    if target[CRIT] == ABSOLUTE_ERROR:
        err = _random_absolute_error(target, ws, vals, nm, n_node, thr, missing_left, w_left)[0]
        proxy = -err
    else:
        proxy = proxy_improvement(target, left, w_left, total, w_total, ws[RIGHT])
    if proxy > best_proxy:
        _record(best, proxy, n_left, thr, missing_left if nm < n_node else n_left > n_node - n_left)


@njit(cache=True, nogil=True)
def _random_ok(target, ws, nm, n_node, total, w_total, bounds):
    """Whether the split recorded by :func:`_random_of_feature` (if any) passes
    :func:`split_ok`: the children's medians (absolute error) or first-output means (first-class
    shares), recomputed here so that the unconstrained search pays nothing."""
    vals, ids, left, best, w = ws[VALS], ws[IDS], ws[LEFT], ws[BEST], target[WEIGHT]
    if best[POS] < 0.0:
        return True
    thr, missing_left = best[THRESHOLD], best[MISSING_LEFT] == 1.0
    left[:] = 0.0
    w_left = 0.0
    for k in range(n_node):
        if (vals[k] <= thr) if k < nm else missing_left:
            add_sample(left, target, ids[k], 1.0)
            w_left += w[ids[k]]
    if target[CRIT] == ABSOLUTE_ERROR:
        _, median_left, median_right = _random_absolute_error(
            target, ws, vals, nm, n_node, thr, missing_left, w_left
        )
        return split_ok(bounds, median_left, median_right)
    return split_ok(bounds, left[0] / w_left, (total[0] - left[0]) / (w_total - w_left))


@njit(cache=True, nogil=True)
def _random_absolute_error(target, ws, vals, nm, n_node, thr, missing_left, w_left):
    """``w_L I_L + w_R I_R`` of the random split, from the children's weighted medians, and the
    medians (of the first output) of the left and of the right child."""
    ids, seq, w = ws[IDS], ws[MAE][SEQ], target[WEIGHT]
    n_left, n_right = 0, 0
    for k in range(n_node):
        if (vals[k] <= thr) if k < nm else missing_left:
            seq[n_left] = ids[k]
            n_left += 1
        else:
            n_right += 1
            seq[n_node - n_right] = ids[k]
    w_right = w[seq[n_left:n_node]].sum()
    scratch = ws[RIGHT]
    median = 2 * target[YVAL].shape[1] + 1  # the slot of the first output's median
    err = w_left * absolute_error(target, scratch, w_left, seq[:n_left])
    median_left = scratch[median]
    err += w_right * absolute_error(target, scratch, w_right, seq[n_left:n_node])
    return err, median_left, scratch[median]


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
def _is_constant(vals, nm, n_node, random):
    if nm == 0:
        return True
    if random:
        lo, hi = vals[:nm].min(), vals[:nm].max()
    else:
        lo, hi = vals[0], vals[nm - 1]
    return nm == n_node and hi <= lo + FEATURE_THRESHOLD


@njit(cache=True, nogil=True)
def find_split(
    XT, target, samples, start, end, total, w_total, features, rules, rng, ws, cst, lower, upper
):
    """Best split of ``samples[start:end]`` -> (feature, threshold, missing_left, n_left); the
    feature is -1 when no admissible split exists. ``cst`` is the monotonicity constraint of
    each feature (int8, or None) and ``[lower, upper]`` the node's bounds."""
    vals, ids, best = ws[VALS], ws[IDS], ws[BEST]
    plain, crit, w = is_plain(target), target[CRIT], target[WEIGHT]
    y, yc = target[YVAL][:, 0], target[YCODE][:, 0]  # the plain case's one output
    left, right = ws[LEFT], ws[RIGHT]
    leaf = (rules[MIN_LEAF], rules[MIN_WEIGHT_LEAF])
    n_node, n_features = end - start, features.shape[0]
    if target[CRIT] == ABSOLUTE_ERROR:
        rank_targets(target, samples, start, end, ws[MAE])
    best_feature, best_threshold, best_missing_left, best_pos = -1, 0.0, False, -1
    best_proxy = -np.inf
    n_drawn, n_visited = 0, 0
    while n_drawn < n_features and n_visited < rules[MAX_FEATURES]:
        j = n_drawn + rand_int(rng, n_features - n_drawn)
        f = features[j]
        features[j] = features[n_drawn]
        features[n_drawn] = f
        n_drawn += 1
        nm = _gather(XT[f], samples, start, end, vals, ids)
        if rules[RANDOM] == 0.0 and nm > 0:
            sort_pairs(vals, ids, nm, ws[STACK])
        if _is_constant(vals, nm, n_node, rules[RANDOM] != 0.0):
            continue  # no split, and it does not count as visited
        n_visited += 1
        if cst is None:  # decided at compile time
            bounds = None
        else:
            bounds = (cst[f], lower, upper)
        if rules[RANDOM] != 0.0:
            _random_of_feature(target, ws, nm, n_node, total, w_total, rules, best_proxy, rng)
            if cst is not None:
                if not _random_ok(target, ws, nm, n_node, total, w_total, (cst[f], lower, upper)):
                    best[POS] = -1.0  # the split breaks the constraint: no candidate
        elif plain:
            node = (nm, n_node, w_total)
            _plain_best(
                crit, vals, ids, y, yc, w, left, right, total, best, node, leaf, bounds, best_proxy
            )
        else:
            _best_of_feature(target, ws, nm, n_node, total, w_total, rules, bounds, best_proxy)
        if best[POS] >= 0.0 and best[PROXY] > best_proxy:
            best_proxy = best[PROXY]
            best_feature, best_threshold = f, best[THRESHOLD]
            best_pos = int(best[POS])
            if nm == n_node and rules[RANDOM] == 0.0:
                best_missing_left = best_pos > n_node - best_pos  # follow the larger child
            else:
                best_missing_left = best[MISSING_LEFT] == 1.0
    return best_feature, best_threshold, best_missing_left, best_pos
