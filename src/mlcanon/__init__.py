"""mlcanon: the machine-learning interview canon, implemented from first principles.

Each algorithm lives in one short module and is checked against the implementation people use
in production (scikit-learn, PyTorch, SciPy, XGBoost, ...). Subpackages are imported on demand::

    from mlcanon.metrics import roc_auc_score
    from mlcanon.optim import Adam
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
