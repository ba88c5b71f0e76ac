"""Safe save/load: round trip, refusal of foreign or corrupt files, no pickle anywhere."""

import collections
import hashlib
import importlib.util
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, is_regressor
from sklearn.utils import Bunch

from mlcanon import io

_SPEC = importlib.util.spec_from_file_location(
    "_mlcanon_test_estimators", Path(__file__).with_name("_estimators.py")
)
_estimators = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_estimators)


@io.register
class Toy(BaseEstimator):
    def __init__(self, alpha=1.0, kind="a"):
        self.alpha = alpha
        self.kind = kind

    def fit(self, X):
        self.coef_ = np.asarray(X, float).mean(axis=0)
        self.classes_ = np.array(["neg", "pos"])
        self.n_iter_ = np.int64(7)
        self.trees_ = [Toy(alpha=0.5), Toy(kind="b")]
        self.info_ = {"path": (1, 2.5, None), "flag": True, "counts": np.arange(3)}
        return self


def test_round_trip(tmp_path):
    model = Toy(alpha=2.0).fit(np.arange(12.0).reshape(4, 3))
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert type(back) is Toy and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.coef_, model.coef_)
    np.testing.assert_array_equal(back.classes_, model.classes_)
    assert back.n_iter_ == 7 and back.n_iter_.dtype == np.int64
    assert [t.get_params() for t in back.trees_] == [t.get_params() for t in model.trees_]
    assert back.info_["path"] == (1, 2.5, None) and back.info_["flag"] is True
    np.testing.assert_array_equal(back.info_["counts"], np.arange(3))


def test_types_come_back_as_they_were(tmp_path):
    """Dicts keyed by class labels, scikit-learn's Bunch, NumPy scalars and object arrays of
    names (a data frame's feature_names_in_) come back with their types."""
    model = Toy()
    model.weights_ = {0: 1.0, 1: 2.5, "other": None, (1, 2): 3}
    model.named_ = Bunch(a=Toy(alpha=3.0), b=np.float32(1.5))
    model.intercept_ = np.float64(0.25)
    model.feature_names_in_ = np.array(["sepal length (cm)", "width"], dtype=object)
    model.l1_ratios_ = np.array([[None, 0.5]], dtype=object)
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert back.weights_ == model.weights_
    assert [type(k) for k in back.weights_] == [int, int, str, tuple]
    assert type(back.named_) is Bunch and back.named_.a.alpha == 3.0
    assert type(back.named_.b) is np.float32 and back.named_.b == 1.5
    assert type(back.intercept_) is np.float64 and back.intercept_ == 0.25
    for name in ("feature_names_in_", "l1_ratios_"):
        got, want = getattr(back, name), getattr(model, name)
        assert got.dtype == object and got.shape == want.shape and got.tolist() == want.tolist()


def test_values_that_cannot_round_trip_are_refused(tmp_path):
    for value, words in [
        (np.array([None, object()], dtype=object), "dtype object are supported with None"),
        (collections.OrderedDict(a=1), "values of type OrderedDict"),
    ]:
        model = Toy()
        model.extra_ = value
        with pytest.raises(TypeError, match=words):
            io.save(model, tmp_path / "m.npz")
    model = Toy()
    model.extra_ = Bunch(a=1)
    model.extra_[1] = 2
    with pytest.raises(TypeError, match="a Bunch's keys must be strings"):
        io.save(model, tmp_path / "m.npz")


def test_object_arrays_of_numpy_scalars_round_trip_exactly(tmp_path):
    """scikit-learn keeps labels given as an object array of np.str_ as an object array of
    np.str_ (classes_); save refused it ("dtype object are supported with None, ..."). Each
    entry now comes back with its type and its exact value."""
    from sklearn.tree import DecisionTreeClassifier as SkTree

    from mlcanon.tree import DecisionTreeClassifier

    X = np.arange(12.0).reshape(-1, 1)
    y = np.empty(12, dtype=object)
    y[:] = [np.str_(c) for c in "bacbcaabcbca"]
    ref = SkTree(random_state=0).fit(X, y)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert back.classes_.dtype == ref.classes_.dtype == object
    assert [type(c) for c in back.classes_] == [type(c) for c in ref.classes_] == [np.str_] * 3
    assert back.classes_.tolist() == ref.classes_.tolist()
    pred = back.predict(X)
    assert pred.tolist() == ref.predict(X).tolist() and type(pred[0]) is type(ref.predict(X)[0])

    mixed = [
        np.str_("a"),
        np.str_(""),
        np.int64(-(2**63)),
        np.uint64(2**64 - 1),
        np.float32(0.1),
        np.float64(np.nextafter(1.0, 2.0)),
        np.longdouble(1) / 3,
        np.complex64(1 + 2j),
        np.bool_(True),
        np.bytes_(b"\x00z"),
        np.float64("nan"),
        "plain",
        3,
        None,
    ]
    toy = Toy()
    toy.mixed_ = np.empty((2, 7), dtype=object)
    toy.mixed_.ravel()[:] = mixed
    got = io.load(io.save(toy, tmp_path / "t.npz")).mixed_
    assert got.dtype == object and got.shape == (2, 7)
    for a, b in zip(got.ravel(), mixed, strict=True):
        assert type(a) is type(b)
        if isinstance(b, np.generic):  # bit for bit (a NaN equal to itself)
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
        else:
            assert a == b
    toy.mixed_[0, 0] = np.datetime64("2020-01-01")
    with pytest.raises(TypeError, match=r"Toy\.mixed_: .* got an entry of type datetime64"):
        io.save(toy, tmp_path / "t.npz")


def test_random_state_instance_round_trips_at_the_same_point_of_its_stream(tmp_path):
    """random_state=np.random.RandomState(...) (which scikit-learn accepts everywhere) was
    refused at save ("values of type RandomState"); it now comes back with numpy's exact state,
    a cached Gaussian included, so the loaded copy draws what the original draws next."""
    from sklearn.ensemble import RandomForestClassifier as SkForest

    from mlcanon.ensemble import RandomForestClassifier

    X = np.random.default_rng(0).random((30, 3))
    y = np.arange(30) % 2
    model = RandomForestClassifier(n_estimators=3, random_state=np.random.RandomState(7))
    model.fit(X, y)
    model.random_state.standard_normal()  # leaves the second Gaussian of a pair cached
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert type(back.random_state) is np.random.RandomState
    want, got = model.random_state.get_state(), back.random_state.get_state()
    assert got[0] == want[0] and np.array_equal(got[1], want[1]) and got[2:] == want[2:]
    assert want[3] == 1  # the cached Gaussian was stored
    assert back.random_state.standard_normal() == model.random_state.standard_normal()
    np.testing.assert_array_equal(
        back.random_state.random_sample(5), model.random_state.random_sample(5)
    )
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    # refitting both continues the same stream, as scikit-learn's forest draws its seeds from it
    np.testing.assert_array_equal(back.fit(X, y).predict_proba(X), model.fit(X, y).predict_proba(X))
    SkForest(random_state=np.random.RandomState(7)).fit(X, y)  # the reference takes one too
    model.random_state = np.random.default_rng(0)  # a Generator is still refused
    with pytest.raises(TypeError, match="random_state: values of type Generator"):
        io.save(model, tmp_path / "g.npz")


def test_archive_unpacking_past_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    """A small file that unpacks to much more (a 'zip bomb') is refused from the sizes its
    archive declares, before a byte is unpacked."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("__meta__.npy", b"\0" * (4 << 20))
    assert path.stat().st_size < 10_000
    monkeypatch.setattr(io, "MAX_MODEL_BYTES", 1 << 20)
    with pytest.raises(ValueError, match=r"bomb\.npz unpacks to 4194304 bytes, more than"):
        io.load(path)
    monkeypatch.setattr(io, "MAX_META_BYTES", 1 << 20)
    monkeypatch.setattr(io, "MAX_MODEL_BYTES", 1 << 30)
    with pytest.raises(ValueError, match="its metadata unpacks to 4194304 bytes"):
        io.load(path)


def test_file_contains_no_pickle(tmp_path):
    path = io.save(Toy().fit(np.ones((2, 2))), tmp_path / "m.npz")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            head = z.read(name)[:6]
            assert head == b"\x93NUMPY", name  # plain .npy members only
    np.load(path, allow_pickle=False)  # readable without pickle


def test_unsupported_attribute_is_refused_at_save(tmp_path):
    model = Toy()
    model.fn_ = lambda x: x
    with pytest.raises(TypeError, match=r"Toy\.fn_: values of type function"):
        io.save(model, tmp_path / "m.npz")
    model.fn_ = np.array([object()])
    with pytest.raises(TypeError, match="dtype object"):
        io.save(model, tmp_path / "m.npz")


def test_foreign_objects_and_files_are_refused(tmp_path):
    with pytest.raises(TypeError, match="mlcanon estimator"):
        io.save(object(), tmp_path / "x.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="no metadata"):
        io.load(tmp_path / "plain.npz")
    np.save(tmp_path / "bare.npy", np.ones(2))
    with pytest.raises(ValueError, match=r"bare \.npy"):
        io.load(tmp_path / "bare.npy")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a readable mlcanon model file"):
        io.load(tmp_path / "junk.npz")


def _write_meta(path, meta):
    """A file with this metadata, no arrays, and a valid digest (SHA-256 of the metadata)."""
    raw = json.dumps(meta).encode()
    digest = np.frombuffer(hashlib.sha256(raw).digest(), dtype=np.uint8)
    np.savez(path, __meta__=np.frombuffer(raw, dtype=np.uint8), __sha256__=digest)


def test_metadata_is_validated(tmp_path):
    p = tmp_path / "m.npz"
    _write_meta(p, {"format": "other"})
    with pytest.raises(ValueError, match="format 'other'"):
        io.load(p)
    _write_meta(p, {"format": "mlcanon-model", "version": 99})
    with pytest.raises(ValueError, match="version 99"):
        io.load(p)
    obj = {"class": "os:system", "attrs": {}}
    _write_meta(p, {"format": "mlcanon-model", "version": 2, "object": obj})
    with pytest.raises(ValueError, match="not an mlcanon class"):
        io.load(p)
    obj = {"class": "mlcanon.io:Nope", "attrs": {}}
    _write_meta(p, {"format": "mlcanon-model", "version": 2, "object": obj})
    with pytest.raises(ValueError, match="unknown class"):
        io.load(p)
    obj = {"class": "mlcanon.io:save", "attrs": {}}
    _write_meta(p, {"format": "mlcanon-model", "version": 2, "object": obj})
    with pytest.raises(ValueError, match="not a class"):
        io.load(p)


def test_truncated_archive_is_refused(tmp_path):
    path = io.save(Toy().fit(np.ones((3, 2))), tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="mlcanon model file"):
        io.load(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("data.csv", b"a,b\n1,2\n"),
        ("model.pkl", pickle.dumps({"coef_": [1.0]})),
        ("empty.npz", b""),
    ],
)
def test_file_that_is_not_an_archive_is_refused_without_advice_to_unpickle(tmp_path, name, content):
    """np.load reads whatever is neither an archive nor an .npy array as a pickle and refuses it
    with "you can load it unsafely using ... pickle.load()": the old message passed that advice
    on for a CSV or a pickle handed to io.load."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable mlcanon model file") as info:
        io.load(path)
    assert str(path) in str(info.value) and "not an .npz archive" in str(info.value)
    assert "pickle" not in str(info.value)
    if content:  # numpy's advice, which is left out (an empty file is an EOFError there)
        with pytest.raises(ValueError, match="pickle"):
            np.load(path, allow_pickle=False)


def test_missing_file_or_folder_raises_as_numpy_does(tmp_path):
    """A path that is not there, or a folder, raises the OSError that np.load (and open) raise;
    it was a ValueError calling it "not a readable mlcanon model file"."""
    for path, error in [(tmp_path / "none.npz", FileNotFoundError), (tmp_path, IsADirectoryError)]:
        with pytest.raises(error):
            np.load(path, allow_pickle=False)
        with pytest.raises(error):
            io.load(path)


def _fitted(cls):
    """``cls`` fitted on a data frame (so it records feature_names_in_), with a class_weight
    keyed by class labels where it takes one."""
    from sklearn.datasets import load_diabetes, load_iris

    from mlcanon.linear_model import LogisticRegression, Ridge
    from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

    pytest.importorskip("pandas")
    name, clf = cls.__name__, issubclass(cls, ClassifierMixin)
    if "Voting" in name or "Stacking" in name:
        members = [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier())]
        est = cls(members if clf else [("ridge", Ridge()), ("tree", DecisionTreeRegressor())])
    else:
        est = cls()
    if "class_weight" in est.get_params():
        est.set_params(class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    iris, diabetes = load_iris(as_frame=True), load_diabetes(as_frame=True)
    if name == "LabelEncoder":  # fitted on labels alone; transform takes labels too
        labels = np.asarray(iris.target_names, dtype=object)[iris.target]
        return est.fit(labels), labels
    X, y = (iris.data, iris.target) if clf else (diabetes.data.iloc[:150], diabetes.target[:150])
    if name.startswith("MultiTask"):
        y = np.c_[y, 2 * y]
    if name == "CategoricalHMM":
        X = (iris.data[["petal length (cm)"]] > 4).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(est, "fit_resample"):
            est.fit(iris.data, iris.target)
        elif clf or is_regressor(est) or name.startswith("MultiTask"):
            est.fit(X, y)
        else:
            est.fit(X)
    return est, X


def _assert_same(got, want, where):
    assert type(got) is type(want), f"{where}: {type(want).__name__} came back as {type(got)}"
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, where
        if want.dtype == object:
            assert got.tolist() == want.tolist(), where
        else:
            np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, dict):
        assert list(got) == list(want), where
        for k in want:
            _assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif hasattr(want, "__dict__"):  # estimators, and the trees' node arrays
        _assert_same(vars(got), vars(want), where)
    elif isinstance(want, float | np.floating) and np.isnan(want):
        assert np.isnan(got), where
    else:
        assert got == want, where


@pytest.mark.parametrize(
    "cls", list(_estimators.public_estimator_classes()), ids=lambda c: c.__name__
)
def test_every_public_estimator_round_trips_with_its_types(cls, tmp_path):
    """Fitted on a data frame (feature_names_in_ is an object array), with class_weight keyed
    by class labels where the estimator takes it: every attribute comes back with its type,
    dtype and value, and the predictions are identical."""
    est, X = _fitted(cls)
    back = io.load(io.save(est, tmp_path / "m.npz"))
    _assert_same(back, est, cls.__name__)
    for method in ("predict", "predict_proba", "transform", "score_samples"):
        if hasattr(est, method) and not hasattr(est, "fit_resample"):
            _assert_same(getattr(back, method)(X), getattr(est, method)(X), method)


def test_fifo_is_refused_without_blocking(tmp_path):
    """Opening a named pipe blocks until a writer comes (np.load would wait for ever); /dev/zero
    and other devices are refused the same way, before a byte is read."""
    import os
    import signal

    def timeout(*_):
        raise TimeoutError("io.load blocked for 10 s")

    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    before = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    try:
        with pytest.raises(ValueError, match="not a regular file"):
            io.load(fifo)
        with pytest.raises(ValueError, match="not a regular file"):
            io.load("/dev/zero")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


@pytest.mark.parametrize(
    ("X", "params"),
    [
        (
            np.array([["a", "x"], ["b", np.nan], ["a", "y"], [np.nan, "y"]], dtype=object),
            {"strategy": "most_frequent"},
        ),
        (
            np.array([["a", None], [None, "y"]], dtype=object),
            {"strategy": "constant", "fill_value": "zz", "missing_values": None},
        ),
        (
            np.array([[True, False], [None, True], [True, None]], dtype=object),
            {"strategy": "most_frequent", "missing_values": None},
        ),
    ],
)
def test_imputer_fitted_on_strings_loads_back(X, params, tmp_path):
    """An imputer fitted on string or boolean columns keeps its fill values in an object array;
    the load-time check that per-feature arrays are float refused the file that save had just
    written. It now loads and imputes as scikit-learn's SimpleImputer does."""
    from sklearn.impute import SimpleImputer as Reference

    from mlcanon.preprocessing import SimpleImputer

    back = io.load(io.save(SimpleImputer(**params).fit(X), tmp_path / "imputer.npz"))
    assert back.transform(X).tolist() == Reference(**params).fit(X).transform(X).tolist()


def test_imputer_fill_values_of_the_wrong_length_are_still_refused(tmp_path):
    from mlcanon.preprocessing import SimpleImputer

    X = np.array([["a", "x"], ["b", np.nan]], dtype=object)
    model = SimpleImputer(strategy="most_frequent").fit(X)
    model.statistics_ = model.statistics_[:1]
    with pytest.raises(ValueError, match="statistics_ must be an array with a last axis of"):
        io.load(io.save(model, tmp_path / "imputer.npz"))


def test_svc_on_a_precomputed_kernel_loads_back(tmp_path):
    """With kernel='precomputed' the support vectors are rows of the kernel matrix, so
    support_vectors_ is empty, shape (0, 0), as in scikit-learn; the load-time check that it
    ends in an axis of n_features_in_ (the number of training samples) refused the file."""
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC as Reference

    from mlcanon.svm import SVC

    X, y = load_iris(return_X_y=True)
    K = X @ X.T
    back = io.load(io.save(SVC(kernel="precomputed").fit(K, y), tmp_path / "svc.npz"))
    reference = Reference(kernel="precomputed").fit(K, y)
    assert back.support_vectors_.shape == reference.support_vectors_.shape == (0, 0)
    np.testing.assert_array_equal(back.predict(K), reference.predict(K))
    model = SVC(kernel="linear").fit(X, y)
    model.support_vectors_ = np.empty((0, 0))  # only a precomputed kernel keeps none
    with pytest.raises(ValueError, match="support_vectors_ must be a float array"):
        io.load(io.save(model, tmp_path / "svc.npz"))
