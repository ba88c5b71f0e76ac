"""Hidden Markov models: forward-backward in log space, Viterbi, Baum-Welch and sampling."""

from ._categorical import CategoricalHMM
from ._gaussian import GaussianHMM

__all__ = ["CategoricalHMM", "GaussianHMM"]
