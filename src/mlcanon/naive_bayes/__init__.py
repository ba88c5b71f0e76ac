"""Naive Bayes classifiers: Gaussian, multinomial and Bernoulli."""

from ._discrete import BernoulliNB, MultinomialNB
from ._gaussian import GaussianNB

__all__ = ["BernoulliNB", "GaussianNB", "MultinomialNB"]
