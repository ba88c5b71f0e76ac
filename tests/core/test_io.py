"""Safe save/load: round trip, refusal of foreign or corrupt files, no pickle anywhere."""

import hashlib
import json
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from mlcanon import io


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
