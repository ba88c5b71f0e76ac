"""LabelEncoder against scikit-learn's LabelEncoder."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelEncoder as SkLabelEncoder

from mlcanon import io
from mlcanon.preprocessing import LabelEncoder


def _objects(*values):
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


CASES = {
    "int": np.array([3, 1, 3, -2, 1]),
    "bool": np.array([True, False, True]),
    "float-nan": np.array([2.5, np.nan, -1.0, 2.5, np.nan]),
    "str": np.array(["b", "a", "c", "a"]),
    "object-str": _objects("b", "a", "c", "a"),
    "object-np-str": _objects(np.str_("y"), np.str_("x"), np.str_("y")),
    "object-missing": _objects("b", None, "a", np.nan, "b"),
    "object-int": _objects(5, 2, 5),
    "list": [1, 0, 1, 2],
}


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:
        assert [type(x) for x in a] == [type(x) for x in b]
        assert [repr(x) for x in a] == [repr(x) for x in b]
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_label_encoder_matches_sklearn(name):
    y = CASES[name]
    ours, ref = LabelEncoder().fit(y), SkLabelEncoder().fit(y)
    _same(ours.classes_, ref.classes_)
    codes = ref.transform(y)
    _same(ours.transform(y), codes)
    _same(LabelEncoder().fit_transform(y), SkLabelEncoder().fit_transform(y))
    _same(ours.inverse_transform(codes), ref.inverse_transform(codes))
    _same(ours.transform(np.asarray(y)[:0]), ref.transform(np.asarray(y)[:0]))
    _same(ours.inverse_transform([]), ref.inverse_transform([]))


def test_label_encoder_errors_as_sklearn():
    ours, ref = LabelEncoder().fit([1, 2, 3]), SkLabelEncoder().fit([1, 2, 3])
    for est in (ours, ref):
        with pytest.raises(ValueError, match="contains previously unseen labels"):
            est.transform([1, 4])
        with pytest.raises(ValueError, match="contains previously unseen labels"):
            est.inverse_transform([0, 3])
        with pytest.raises(ValueError, match="contains previously unseen labels"):
            est.inverse_transform([-1])
    _same(ours.transform([1.7, 3.2]), ref.transform([1.7, 3.2]))  # cast to the classes' dtype
    mixed = _objects("a", 1, "b")
    for cls in (LabelEncoder, SkLabelEncoder):
        with pytest.raises(TypeError, match=r"uniformly strings or numbers. Got \['int', 'str'\]"):
            cls().fit(mixed)
        with pytest.raises(ValueError):
            cls().fit(np.ones((3, 2)))
        with pytest.warns(DataConversionWarning, match="column-vector y"):
            codes = cls().fit_transform(np.array([[2], [1], [2]]))
        _same(codes, [1, 0, 1])
    unseen = LabelEncoder().fit(_objects("a", "b"))
    with pytest.raises(ValueError, match=r"previously unseen labels: \['c'\]"):
        unseen.transform(_objects("a", "c"))
    assert not hasattr(LabelEncoder(), "classes_")


def test_label_encoder_round_trips_through_io(tmp_path):
    le = LabelEncoder().fit(CASES["object-missing"])
    back = io.load(io.save(le, tmp_path / "le.npz"))
    _same(back.classes_, SkLabelEncoder().fit(CASES["object-missing"]).classes_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(back.transform(_objects("a", None)), [0, 2])
