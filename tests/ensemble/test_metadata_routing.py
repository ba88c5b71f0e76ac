"""Metadata routing of voting, stacking and bagging against scikit-learn's ensembles.

The members are tiny recorders written out here: each call appends (method, first column of
its X, sample_weight, metadata) to a log that every clone shares, so the same calls on our
ensemble and on scikit-learn's must leave the same records.
"""

from collections import Counter

import joblib
import numpy as np
import pytest
import sklearn
from sklearn import ensemble as ske
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from mlcanon import ensemble as me

N = 12
X = np.column_stack([np.arange(N, dtype=float), np.random.default_rng(0).normal(size=N)])
Y_CLASS = np.arange(N) % 3
Y_REG = np.random.default_rng(1).normal(size=N)
W = np.linspace(0.5, 2.0, N)
ROW_IDS = np.arange(N) * 10.0  # sample-aligned metadata: a fit on some rows gets their ids


class _Log(list):
    """A list that ``clone`` shares instead of copying, so every copy records here."""

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


def _plain(value):
    if value is None or isinstance(value, str):
        return value
    return tuple(np.asarray(value, dtype=float).ravel().tolist())


class _Recorder(BaseEstimator):
    def __init__(self, log=None):
        self.log = log

    def _record(self, method, X, sample_weight, metadata):
        X = np.asarray(X)
        self.log.append((method, _plain(X[:, 0]), _plain(sample_weight), _plain(metadata)))


class RecordingClassifier(ClassifierMixin, _Recorder):
    """Predicts the class frequencies of its training labels."""

    def fit(self, X, y, sample_weight=None, metadata=None):
        self._record("fit", X, sample_weight, metadata)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict(self, X, sample_weight=None, metadata=None):
        self._record("predict", X, sample_weight, metadata)
        return np.full(len(X), self.classes_[np.argmax(self.prior_)])

    def predict_proba(self, X, sample_weight=None, metadata=None):
        self._record("predict_proba", X, sample_weight, metadata)
        return np.tile(self.prior_, (len(X), 1))

    def predict_log_proba(self, X, sample_weight=None, metadata=None):
        self._record("predict_log_proba", X, sample_weight, metadata)
        return np.tile(np.log(self.prior_), (len(X), 1))

    def decision_function(self, X, sample_weight=None, metadata=None):
        self._record("decision_function", X, sample_weight, metadata)
        return np.tile(self.prior_, (len(X), 1))


def _missing(self):
    raise AttributeError("not available")


class NoProba(RecordingClassifier):
    predict_proba = property(_missing)


class NoLogProba(RecordingClassifier):
    predict_log_proba = property(_missing)


class OnlyPredict(RecordingClassifier):
    predict_proba = property(_missing)
    predict_log_proba = property(_missing)
    decision_function = property(_missing)


class RecordingRegressor(RegressorMixin, _Recorder):
    """Predicts the mean of its training targets."""

    def fit(self, X, y, sample_weight=None, metadata=None):
        self._record("fit", X, sample_weight, metadata)
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, sample_weight=None, metadata=None):
        self._record("predict", X, sample_weight, metadata)
        return np.full(len(X), self.mean_)


def routing():
    """Routing on inside the block (the global config is restored after it)."""
    return sklearn.config_context(enable_metadata_routing=True)


def _named_members(log, recorder):
    """Member "a" requests both metadata, "b" only ``metadata`` (its weights refused), "c" is
    dropped."""
    with routing():
        a = recorder(log).set_fit_request(sample_weight=True, metadata=True)
        b = recorder(log).set_fit_request(sample_weight=False, metadata=True)
    return [("a", a), ("b", b), ("c", "drop")]


FAMILIES = [
    ("VotingClassifier", RecordingClassifier, Y_CLASS),
    ("VotingRegressor", RecordingRegressor, Y_REG),
    ("StackingClassifier", RecordingClassifier, Y_CLASS),
    ("StackingRegressor", RecordingRegressor, Y_REG),
]


def _pair(name, recorder, n_jobs=None):
    """(our ensemble, scikit-learn's, their logs) built from the same recorders."""
    built = []
    for module in (me, ske):
        log = _Log()
        kw = {"n_jobs": n_jobs}
        if name.startswith("Stacking"):
            with routing():
                final = recorder(log).set_predict_request(metadata=True)
            kw |= {"final_estimator": final, "cv": KFold(3)}
        built.append((getattr(module, name)(_named_members(log, recorder), **kw), log))
    return built


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize(("name", "recorder", "y"), FAMILIES)
def test_fit_routes_like_sklearn(name, recorder, y, n_jobs):
    """Each member (and fold copy, and final estimator) gets what scikit-learn gives it,
    also from joblib's worker threads."""
    (ours, ours_log), (ref, ref_log) = _pair(name, recorder, n_jobs)
    with routing(), joblib.parallel_config(backend="threading"):  # one log for all workers
        ours.fit(X, y, sample_weight=W, metadata=ROW_IDS)
        ref.fit(X, y, sample_weight=W, metadata=ROW_IDS)
        fits = Counter(ours_log)
        assert fits == Counter(ref_log)
        # member "b" refused the weights: some fits got metadata without them
        assert any(sw is None and md is not None for _, _, sw, md in fits)
        if name.startswith("Stacking"):
            del ours_log[:], ref_log[:]
            ours.predict(X, metadata="m")
            ref.predict(X, metadata="m")
            assert Counter(ours_log) == Counter(ref_log)
            assert ("predict", _plain(ours.transform(X)[:, 0]), None, "m") in ours_log


@pytest.mark.parametrize("name", ["VotingRegressor", "StackingRegressor"])
def test_router_member_in_worker_threads_like_sklearn(name):
    """A member that routes metadata itself (a pipeline) sees routing on in joblib's worker
    threads, where scikit-learn's configuration would otherwise be the global default."""
    logs = []
    for module in (me, ske):
        log = _Log()
        with routing():
            members = [
                (n, make_pipeline(RecordingRegressor(log).set_fit_request(metadata=True)))
                for n in "pq"
            ]
            final = {"final_estimator": RecordingRegressor(log), "cv": KFold(3)}
            kw = final if name.startswith("Stacking") else {}
            model = getattr(module, name)(members, n_jobs=2, **kw)
            with joblib.parallel_config(backend="threading"):
                model.fit(X, Y_REG, metadata=ROW_IDS)
        logs.append(Counter(log))
    assert logs[0] == logs[1]


@pytest.mark.parametrize(("name", "recorder", "y"), FAMILIES)
def test_routing_off_weights_only_like_sklearn(name, recorder, y):
    """Routing off: sample_weight reaches every member as before; other metadata is refused
    with scikit-learn's error."""
    (ours, ours_log), (ref, ref_log) = _pair(name, recorder)
    ours.fit(X, y, sample_weight=W)
    ref.fit(X, y, sample_weight=W)
    assert Counter(ours_log) == Counter(ref_log)
    assert all(sw is not None for method, _, sw, _ in ours_log if method == "fit")
    for model in (ours, ref):
        with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
            model.fit(X, y, sample_weight=W, metadata=ROW_IDS)


@pytest.mark.parametrize(("name", "recorder", "y"), FAMILIES)
def test_unrequested_metadata_error_like_sklearn(name, recorder, y):
    errors = []
    for module in (me, ske):
        model = getattr(module, name)([("a", recorder(_Log()))])
        with routing():
            with pytest.raises(ValueError, match="not explicitly set as requested") as info:
                model.fit(X, y, sample_weight=W, metadata="m")
        errors.append(str(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(("name", "recorder", "y"), FAMILIES)
def test_get_metadata_routing_like_sklearn(name, recorder, y):
    (ours, _), (ref, _) = _pair(name, recorder)
    with routing():
        assert str(ours.get_metadata_routing()) == str(ref.get_metadata_routing())
    assert not hasattr(ours, "set_fit_request") and not hasattr(ref, "set_fit_request")


def _bagging(module, name, base):
    return getattr(module, name)(base, n_estimators=4, random_state=0)


@pytest.mark.parametrize("by_weight", [True, False])
@pytest.mark.parametrize(
    ("name", "recorder", "y"),
    [
        ("BaggingClassifier", RecordingClassifier, Y_CLASS),
        ("BaggingRegressor", RecordingRegressor, Y_REG),
    ],
)
def test_bagging_fit_routes_like_sklearn(name, recorder, y, by_weight):
    """A learner that requests ``sample_weight`` gets the drawn rows as counts and the metadata
    whole; another gets the drawn rows and their metadata (the rows differ: each library
    draws with its own generator)."""
    shapes = []
    for module in (me, ske):
        log = _Log()
        with routing():
            base = recorder(log).set_fit_request(sample_weight=by_weight, metadata=True)
            _bagging(module, name, base).fit(X, y, metadata=ROW_IDS)
        for method, x0, sw, md in log:
            assert method == "fit"
            assert md == (_plain(ROW_IDS) if by_weight else tuple(10 * v for v in x0))
            if by_weight:  # the counts of a bootstrap sample of N rows
                assert x0 == _plain(X[:, 0]) and sum(sw) == N
        shapes.append(Counter((m, len(x0), sw is None, len(md)) for m, x0, sw, md in log))
    assert shapes[0] == shapes[1]


CALLERS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("base", [RecordingClassifier, NoProba, NoLogProba, OnlyPredict])
def test_bagging_predict_routes_like_sklearn(base, caller):
    """Each prediction method's metadata reach the learner's method that serves it (its
    ``predict_proba``, else ``predict``; for ``predict_log_proba`` the first it has)."""
    records = []
    for module in (me, ske):
        log = _Log()
        learner = base(log)
        with routing():
            for method in CALLERS:
                if hasattr(learner, method):
                    getattr(learner, f"set_{method}_request")(metadata=True)
            model = _bagging(module, "BaggingClassifier", learner).fit(X, Y_CLASS)
            if not hasattr(model, caller):
                records.append(None)
                continue
            del log[:]
            getattr(model, caller)(X, metadata="m")
        records.append(Counter((method, md) for method, _, _, md in log))
    assert records[0] == records[1]


def test_bagging_regressor_predict_routes_like_sklearn():
    records = []
    for module in (me, ske):
        log = _Log()
        with routing():
            learner = RecordingRegressor(log).set_predict_request(metadata=True)
            model = _bagging(module, "BaggingRegressor", learner).fit(X, Y_REG)
            del log[:]
            model.predict(X, metadata="m")
        records.append(Counter(log))
    assert records[0] == records[1] == Counter({("predict", _plain(X[:, 0]), None, "m"): 4})


@pytest.mark.parametrize("caller", ["fit", "predict", "predict_proba", "predict_log_proba"])
def test_bagging_metadata_needs_routing_like_sklearn(caller):
    for module in (me, ske):
        model = _bagging(module, "BaggingClassifier", RecordingClassifier(_Log()))
        args = (X, Y_CLASS) if caller == "fit" else (X,)
        if caller != "fit":
            model.fit(X, Y_CLASS)
        with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
            getattr(model, caller)(*args, metadata="m")
