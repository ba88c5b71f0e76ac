"""Evaluation metrics in NumPy, with scikit-learn's names and conventions.

- classification from labels (single-label, or multilabel 0/1 indicator matrices):
  :func:`confusion_matrix`, :func:`multilabel_confusion_matrix`, :func:`accuracy_score`,
  :func:`balanced_accuracy_score`, :func:`zero_one_loss`, :func:`hamming_loss`,
  :func:`precision_score`, :func:`recall_score`, :func:`f1_score`, :func:`fbeta_score`,
  :func:`precision_recall_fscore_support`, :func:`jaccard_score`, :func:`matthews_corrcoef`,
  :func:`cohen_kappa_score`;
- ranking from scores: :func:`roc_curve`, :func:`roc_auc_score`, :func:`auc`,
  :func:`auc_mann_whitney`, :func:`precision_recall_curve`, :func:`average_precision_score`,
  :func:`det_curve`, :func:`confusion_matrix_at_thresholds`, :func:`top_k_accuracy_score`;
- ranking labels or items: :func:`coverage_error`, :func:`label_ranking_loss`,
  :func:`label_ranking_average_precision_score` (multilabel), :func:`dcg_score` and
  :func:`ndcg_score` (graded relevance);
- losses: :func:`log_loss` and :func:`brier_score_loss` (from probabilities) and their D²
  scores :func:`d2_log_loss_score`, :func:`d2_brier_score`; :func:`hinge_loss` (from decision
  values); :func:`cross_entropy_with_logits` and :func:`binary_cross_entropy_with_logits` (from
  logits, numerically stable);
- information: :func:`entropy`, :func:`kl_divergence`, :func:`js_divergence`;
- clustering: :func:`silhouette_score`, :func:`silhouette_samples`;
- detection: :func:`mean_average_precision` (COCO), :func:`voc_average_precision` and
  :func:`interpolated_average_precision` (PASCAL VOC).
"""

from ._accuracy import accuracy_score, balanced_accuracy_score, hamming_loss, zero_one_loss
from ._brier import brier_score_loss
from ._checks import UndefinedMetricWarning
from ._classification import (
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from ._cluster import silhouette_samples, silhouette_score
from ._cohen_kappa import cohen_kappa_score
from ._confusion_matrix import confusion_matrix
from ._cross_entropy import binary_cross_entropy_with_logits, cross_entropy_with_logits, log_loss
from ._d2 import d2_brier_score, d2_log_loss_score
from ._dcg import dcg_score, ndcg_score
from ._det_curve import confusion_matrix_at_thresholds, det_curve
from ._detection import (
    interpolated_average_precision,
    mean_average_precision,
    voc_average_precision,
)
from ._hinge import hinge_loss
from ._information import entropy, js_divergence, kl_divergence
from ._jaccard import jaccard_score
from ._label_ranking import (
    coverage_error,
    label_ranking_average_precision_score,
    label_ranking_loss,
)
from ._matthews import matthews_corrcoef
from ._multilabel_confusion_matrix import multilabel_confusion_matrix
from ._precision_recall_curve import average_precision_score, precision_recall_curve
from ._ranking import auc, auc_mann_whitney, roc_auc_score, roc_curve
from ._top_k import top_k_accuracy_score

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "auc_mann_whitney",
    "average_precision_score",
    "balanced_accuracy_score",
    "binary_cross_entropy_with_logits",
    "brier_score_loss",
    "cohen_kappa_score",
    "confusion_matrix",
    "confusion_matrix_at_thresholds",
    "coverage_error",
    "cross_entropy_with_logits",
    "d2_brier_score",
    "d2_log_loss_score",
    "dcg_score",
    "det_curve",
    "entropy",
    "f1_score",
    "fbeta_score",
    "hamming_loss",
    "hinge_loss",
    "interpolated_average_precision",
    "jaccard_score",
    "js_divergence",
    "kl_divergence",
    "label_ranking_average_precision_score",
    "label_ranking_loss",
    "log_loss",
    "matthews_corrcoef",
    "mean_average_precision",
    "multilabel_confusion_matrix",
    "ndcg_score",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "silhouette_samples",
    "silhouette_score",
    "top_k_accuracy_score",
    "voc_average_precision",
    "zero_one_loss",
]
