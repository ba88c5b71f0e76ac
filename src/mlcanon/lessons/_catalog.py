"""The notes' questions, one entry per lesson slug, grouped by section: the one lesson registry.

The catalogue is the scope of the project (``mlcanon list`` shows every entry and whether its
lesson is written). Each entry names the lesson module that registers it, so a slug leads to its
module in one step and only that module is imported. The slugs and questions follow
``NOTES_MAP.md``; the short answers and formulas (shown on the "notes, corrected" page) are the
project's own words.
"""

from __future__ import annotations

from typing import NamedTuple

SECTIONS: dict[str, str] = {
    "A": "ML foundations",
    "B": "Optimization",
    "C": "Classical models",
    "D": "Trees and ensembles",
    "E": "Unsupervised and probabilistic",
    "F": "Data",
    "G": "Deep-learning fundamentals",
    "H": "Convolution arithmetic and building blocks",
    "I": "Detection",
    "J": "Sequence models",
    "K": "Generative models",
    "L": "Efficient networks and compression",
}


class Entry(NamedTuple):
    """One question of the notes and where its lesson lives."""

    slug: str
    section: str
    question: str  # the notes' heading (Chinese), abridged
    title: str
    reference: str  # what the lesson's numbers are checked against
    module: str  # the module of mlcanon.lessons that registers the lesson
    answer: str = ""  # the short answer an interviewer wants (own words)
    formula: str = ""  # the key formula, plain text
    notes_claim: str = ""  # where the notes' answer is wrong or loose: what they assert


CATALOG: dict[str, Entry] = {
    e.slug: e
    for e in [
        Entry(
            "discriminative-vs-generative",
            "A",
            "判别式模型 vs 生成式模型",
            "Discriminative vs generative models",
            "sklearn LogisticRegression, GaussianNB",
            module="kernels",
            answer=(
                "A discriminative model fits p(y|x) directly (logistic regression); a "
                "generative one fits p(x|y)p(y) and classifies with Bayes' rule (naive "
                "Bayes). With little data the generative model reaches its asymptote "
                "sooner; with plenty the discriminative one usually ends lower."
            ),
            formula=("generative: ŷ = argmax_y p(x|y) p(y)    discriminative: ŷ = argmax_y p(y|x)"),
        ),
        Entry(
            "precision-recall",
            "A",
            "求precision和recall / 混淆矩阵",
            "Confusion matrix, precision, recall and F1",
            "sklearn.metrics",
            module="metrics",
            answer=(
                "Precision is the share of predicted positives that are right; recall is "
                "the share of actual positives that are found. F1 is their harmonic mean; "
                "micro averaging pools the counts, macro averages the per-class scores."
            ),
            formula="P = TP/(TP+FP)   R = TP/(TP+FN)   F1 = 2PR/(P+R)",
        ),
        Entry(
            "auc",
            "A",
            "AUC / ROC",
            "ROC curve and AUC",
            "sklearn roc_auc_score / roc_curve, scipy mannwhitneyu",
            module="metrics",
            answer=(
                "ROC plots true-positive rate against false-positive rate over every "
                "threshold. Its area is the probability that a random positive scores above "
                "a random negative (ties count half), so it ignores the threshold and the "
                "class balance."
            ),
            formula="AUC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) = U / (n⁺ n⁻)",
        ),
        Entry(
            "cross-entropy",
            "A",
            "交叉熵公式 / 神经网络为什么用交叉熵",
            "Cross-entropy and why networks use it",
            "sklearn log_loss, torch F.cross_entropy",
            module="metrics",
            answer=(
                "Cross-entropy is the negative log-likelihood of the true labels under the "
                "predicted distribution. With softmax outputs its gradient with respect to "
                "the logits is simply p − y, which does not saturate the way squared error "
                "through a sigmoid does."
            ),
            formula="CE = −Σ_k y_k log p_k,   ∂CE/∂z = p − y",
        ),
        Entry(
            "kl-divergence",
            "A",
            "如何评价两个分布的相似度,KL散度怎么计算",
            "Comparing distributions: entropy, KL and JS divergence",
            "scipy.stats.entropy, torch F.kl_div",
            module="metrics",
            answer=(
                "KL(P‖Q) measures the extra bits paid for coding P with a code built for Q; "
                "it is non-negative, zero only when P = Q, and not symmetric. "
                "Jensen–Shannon averages KL to the midpoint and is symmetric and bounded by "
                "log 2."
            ),
            formula=(
                "KL(P‖Q) = Σ p log(p/q) = H(P,Q) − H(P);   JS = ½KL(P‖M) + ½KL(Q‖M), M = (P+Q)/2"
            ),
        ),
        Entry(
            "l1-l2",
            "A",
            "L1L2正则 / 为什么L1和L2正则化可防止过拟合",
            "L1 and L2 regularization",
            "sklearn lasso_path, Ridge",
            module="linear",
            answer=(
                "Both penalties shrink the weights and so lower variance. L1's corners set "
                "some weights exactly to zero (sparse models); L2 shrinks all weights "
                "smoothly. As priors: L2 is MAP under a Gaussian, L1 under a Laplace "
                "distribution."
            ),
            formula="min ‖y − Xw‖²/2n + α‖w‖₁ (lasso)   or + α‖w‖²₂ (ridge)",
        ),
        Entry(
            "l1-nondifferentiable",
            "A",
            "L1不可导的时候该怎么办",
            "Optimizing the non-differentiable L1 penalty",
            "sklearn Lasso",
            module="linear",
            answer=(
                "Use the subgradient, or better, solve each coordinate in closed form: the "
                "one-dimensional lasso problem is solved by soft-thresholding, which lands "
                "exactly on zero. Proximal gradient methods apply the same operator after a "
                "gradient step."
            ),
            formula="w_j ← S(ρ_j, α) / z_j,   S(ρ, α) = sign(ρ)·max(|ρ| − α, 0)",
        ),
        Entry(
            "gradient",
            "A",
            "解释梯度的概念",
            "What the gradient is",
            "numerical differentiation",
            module="second_order",
            answer=(
                "The gradient is the vector of partial derivatives; it points in the "
                "direction of steepest ascent and its norm is that slope. Every directional "
                "derivative is its dot product with the unit direction."
            ),
            formula="D_u f(x) = ∇f(x)·u,   ∇f ≈ [f(x + h e_i) − f(x − h e_i)] / 2h",
        ),
        Entry(
            "generalization",
            "A",
            "怎么提升网络的泛化能力",
            "Improving generalization",
            "— (measured)",
            module="training",
            answer=(
                "Reduce the gap between training and validation error: more or augmented "
                "data, weight decay, dropout, early stopping on a validation set, a smaller "
                "model, and normalization. Each trades a little training fit for a lower "
                "test error."
            ),
            formula="test error = training error + generalization gap",
        ),
        Entry(
            "optimizers",
            "B",
            "SGD, Momentum, Adagrad, RMSProp, Adam 原理 / 写出优化公式",
            "First-order optimizers and their update rules",
            "torch.optim",
            module="optimizers",
            answer=(
                "SGD steps along the negative gradient; momentum averages past gradients; "
                "Adagrad divides by the root of the summed squared gradients; RMSProp uses "
                "a decaying average instead; Adam combines momentum with RMSProp and "
                "corrects the bias of both averages."
            ),
            formula="m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  w ← w − η·m̂/(√v̂ + ε)",
            notes_claim=(
                "Early in training the gradients are small, so Adagrad's "
                "accumulated-gradient term enlarges the steps."
            ),
        ),
        Entry(
            "adam-nonconvergence",
            "B",
            "Adam 并不能保证找到极值点",
            "Adam can fail to converge",
            "— (paper)",
            module="optimizers",
            answer=(
                "Adam's second-moment average can forget a rare large gradient, so the "
                "effective step grows again and the iterate drifts to the wrong point on "
                "some convex problems. AMSGrad keeps the running maximum of v and "
                "converges."
            ),
            formula="AMSGrad: v̂_t = max(v̂_{t−1}, v_t)",
        ),
        Entry(
            "newton-quasi-newton",
            "B",
            "拟牛顿法的原理",
            "Newton's method and quasi-Newton methods",
            "scipy.optimize.minimize",
            module="second_order",
            answer=(
                "Newton's method uses the Hessian to take curvature-aware steps and "
                "converges quadratically near the optimum. Quasi-Newton methods (BFGS, "
                "L-BFGS) build an approximation of the inverse Hessian from gradient "
                "differences, at the cost of a gradient per step."
            ),
            formula="BFGS: H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ,  ρ = 1/(yᵀs),  s = Δw, y = Δ∇f",
        ),
        Entry(
            "beyond-gd",
            "B",
            "除了梯度下降,你还了解哪些优化方法",
            "Optimization methods beyond gradient descent",
            "scipy.optimize",
            module="second_order",
            answer=(
                "Coordinate descent, Newton's method, quasi-Newton (BFGS, L-BFGS), "
                "conjugate gradient, and derivative-free methods. Second-order methods need "
                "far fewer iterations; each iteration costs more."
            ),
            formula="Newton step: Δw = −H⁻¹∇f",
        ),
        Entry(
            "sqrt",
            "B",
            "梯度反向传播求根号 (求平方根)",
            "Computing a square root by optimization",
            "math.sqrt",
            module="second_order",
            answer=(
                "Minimise (x² − y)² or, better, solve x² − y = 0 by Newton's method: x ← (x "
                "+ y/x)/2 converges quadratically. A fixed gradient step must shrink with "
                "the scale of y or it diverges."
            ),
            formula="Newton: x_{k+1} = ½(x_k + y/x_k)",
            notes_claim=(
                "The notes' square-root code uses a fixed step alpha = 0.001 on (x² − y)², "
                "as if it worked for any y; it diverges once y is large."
            ),
        ),
        Entry(
            "lr-finder",
            "B",
            "寻找最优学习率的方法",
            "Finding a good learning rate",
            "— (measured)",
            module="training",
            answer=(
                "Raise the learning rate exponentially over one short run and record the "
                "smoothed loss; pick the rate where the loss falls fastest (or about a "
                "tenth of the rate at the lowest loss), well before the loss blows up."
            ),
            formula="η_k = η_min·(η_max/η_min)^(k/K)",
        ),
        Entry(
            "warmup",
            "B",
            "Warmup与优化器的搭配使用",
            "Learning-rate warmup",
            "torch.optim.lr_scheduler",
            module="training",
            answer=(
                "Start with a small learning rate and raise it linearly over the first "
                "steps: early gradients and Adam's moment estimates are unreliable, and "
                "large early steps can land the model in a bad region. Then decay (often "
                "cosine)."
            ),
            formula="η_t = η·t/T_w for t < T_w,  then η·½(1 + cos(π(t−T_w)/(T−T_w)))",
        ),
        Entry(
            "logistic-regression",
            "C",
            "LR公式、推导、损失函数 / 逻辑回归常见面试点",
            "Logistic regression: model, loss and fitting",
            "sklearn LogisticRegression",
            module="linear",
            answer=(
                "Model P(y=1|x) = σ(wᵀx); maximising the Bernoulli likelihood gives the "
                "log-loss, which is convex with gradient Xᵀ(p − y). Squared loss through "
                "the sigmoid would be non-convex with vanishing gradients."
            ),
            formula="L = −Σ[y log p + (1−y) log(1−p)],  p = σ(Xw),  ∇L = Xᵀ(p − y)",
            notes_claim=(
                "Logistic regression cannot select features. With an L1 penalty it does: "
                "many coefficients become exactly zero."
            ),
        ),
        Entry(
            "multiclass-lr",
            "C",
            "逻辑回归多分类实现",
            "Multiclass logistic regression",
            "sklearn LogisticRegression",
            module="linear",
            answer=(
                "Either fit one binary model per class (one-vs-rest) or one softmax model "
                "over all classes (multinomial), whose probabilities sum to one and whose "
                "loss is the categorical cross-entropy."
            ),
            formula="P(y=k|x) = exp(w_kᵀx) / Σ_j exp(w_jᵀx)",
        ),
        Entry(
            "svm-kernels",
            "C",
            "SVM什么时候用线性核,什么时候用高斯核",
            "SVM: linear vs Gaussian kernel",
            "sklearn SVC / LinearSVC",
            module="kernels",
            answer=(
                "Use a linear kernel when features are many (text) or the data are nearly "
                "linearly separable; use the Gaussian (RBF) kernel when features are few "
                "and the boundary is curved. The RBF's γ and C must be tuned together."
            ),
            formula="K(x, z) = exp(−γ‖x − z‖²);  f(x) = Σ α_i y_i K(x_i, x) + b",
        ),
        Entry(
            "pca",
            "C",
            "PCA",
            "Principal component analysis",
            "sklearn PCA",
            module="kernels",
            answer=(
                "Centre the data, take the eigenvectors of the covariance matrix (or the "
                "right singular vectors of the centred data) in decreasing order of "
                "eigenvalue; projecting onto the first k keeps the most variance of any "
                "k-dimensional linear projection."
            ),
            formula="C = XᵀX/(n−1) = VΛVᵀ,  Z = X V_k,  explained ratio = λ_i / Σλ",
        ),
        Entry(
            "lda",
            "C",
            "(生成式模型 LDA)",
            "Linear discriminant analysis",
            "sklearn LinearDiscriminantAnalysis",
            module="kernels",
            answer=(
                "LDA models each class as a Gaussian with a shared covariance; the "
                "resulting boundary is linear. As a projection it finds the directions that "
                "maximise between-class over within-class scatter."
            ),
            formula="max_w (wᵀS_B w)/(wᵀS_W w)  →  S_W⁻¹S_B w = λw",
        ),
        Entry(
            "naive-bayes",
            "C",
            "朴素贝叶斯",
            "Naive Bayes",
            "sklearn naive_bayes",
            module="kernels",
            answer=(
                "Naive Bayes assumes features are independent given the class, so the "
                "likelihood factorises; Gaussian, multinomial and Bernoulli versions differ "
                "in the per-feature distribution. It trains in one pass and is a strong "
                "baseline for text."
            ),
            formula="ŷ = argmax_y log p(y) + Σ_j log p(x_j | y)",
        ),
        Entry(
            "lr-vs-gbdt",
            "C",
            "比较LR和GBDT,什么情景下GBDT不如LR",
            "Logistic regression vs GBDT",
            "— (measured)",
            module="boosting",
            answer=(
                "On high-dimensional sparse data (bag of words, one-hot ids) a regularised "
                "linear model often wins: a tree uses a rare column only when its few rows "
                "beat every common column at a node (and never below min_child_weight), "
                "and summing many weak signals takes many splits, while L2 logistic "
                "regression weighs every column at once. On dense, low-dimensional, "
                "non-linear data boosting wins."
            ),
            notes_claim=(
                "In high-dimensional sparse data logistic regression beats GBDT, stated as a rule."
            ),
        ),
        Entry(
            "decision-tree",
            "D",
            "(决策树)",
            "Decision trees (CART)",
            "sklearn DecisionTree*",
            module="trees",
            answer=(
                "CART grows a binary tree greedily: at each node it picks the feature and "
                "threshold that most reduce impurity (Gini or entropy for classes, variance "
                "for regression). Depth, leaf size and pruning control overfitting."
            ),
            formula=(
                "Gini = 1 − Σ p_k²,  H = −Σ p_k log p_k,  gain = I(parent) − Σ (n_c/n) I(child)"
            ),
        ),
        Entry(
            "random-forest",
            "D",
            "随机森林参数、缺失值、可否并行",
            "Random forests: parameters, missing values, parallelism",
            "sklearn RandomForest*",
            module="trees",
            answer=(
                "Many deep trees, each on a bootstrap sample and choosing among a random "
                "subset of features at every split; averaging their votes cuts the "
                "variance. Out-of-bag samples give a free validation score; the trees train "
                "in parallel."
            ),
            formula="Var(mean of B trees) = ρσ² + (1−ρ)σ²/B",
            notes_claim=(
                "The notes list the forest's advantages under 'cons' and its weakness under "
                "'pros' (the labels are swapped)."
            ),
        ),
        Entry(
            "gbdt",
            "D",
            "介绍GBDT的详细计算过程",
            "Gradient boosting step by step",
            "sklearn GradientBoosting*",
            module="boosting",
            answer=(
                "Gradient boosting adds trees one at a time; each tree fits the negative "
                "gradient of the loss at the current predictions (the residuals, for "
                "squared loss), and its output is added with a shrinkage factor."
            ),
            formula="F_m(x) = F_{m−1}(x) + ν·h_m(x),  h_m fits r_i = −∂L(y_i, F)/∂F at F_{m−1}",
        ),
        Entry(
            "xgboost",
            "D",
            "介绍XGBoost / 为什么要二阶展开 / 参数",
            "XGBoost: second-order boosting",
            "xgboost, lightgbm, sklearn HistGradientBoosting",
            module="boosting",
            answer=(
                "XGBoost expands the loss to second order, so each tree is fitted with "
                "gradients and Hessians; that gives closed-form leaf weights and a split "
                "gain with L2 (λ) and per-leaf (γ) penalties. Histogram split search, "
                "shrinkage and column subsampling make it fast and regularised."
            ),
            formula="w* = −G/(H+λ);  gain = ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] − γ",
        ),
        Entry(
            "xgboost-missing",
            "D",
            "xgboost缺失值处理方法",
            "How XGBoost handles missing values",
            "xgboost, lightgbm, sklearn HistGradientBoosting",
            module="boosting",
            answer=(
                "At each split XGBoost tries sending the missing values left and right and "
                "keeps the direction with the larger gain (the learned default direction). "
                "Values missing at predict time follow it."
            ),
            notes_claim=(
                "If training saw no missing values, XGBoost sends a missing value to the "
                "right branch at predict time."
            ),
        ),
        Entry(
            "adaboost-gbdt-xgboost",
            "D",
            "区分Adaboost、GBDT、XGBoost",
            "AdaBoost vs GBDT vs XGBoost",
            "sklearn AdaBoostClassifier",
            module="boosting",
            answer=(
                "AdaBoost reweights the samples after each weak learner and weights the "
                "learners by their error; GBDT fits each tree to the negative gradient of "
                "any differentiable loss; XGBoost uses the second-order expansion plus "
                "explicit regularisation."
            ),
            formula="AdaBoost (SAMME): α_m = log((1−err)/err) + log(K−1)",
        ),
        Entry(
            "ensembles",
            "D",
            "集成学习的方法有哪些",
            "Ensemble methods",
            "sklearn ensemble",
            module="trees",
            answer=(
                "Bagging averages models trained on resampled data (lowers variance); "
                "boosting adds models that correct the current errors (lowers bias); voting "
                "combines different models; stacking trains a meta-model on out-of-fold "
                "predictions."
            ),
        ),
        Entry(
            "kmeans-em",
            "E",
            "Kmeans算法和EM算法的关系 / 手肘法",
            "k-means and its relation to EM",
            "sklearn KMeans, GaussianMixture",
            module="unsupervised",
            answer=(
                "k-means is EM with hard assignments and equal spherical covariances: the "
                "E-step assigns each point to its nearest centre, the M-step moves each "
                "centre to the mean of its points. The elbow (or silhouette) picks k."
            ),
            formula="J = Σ_i ‖x_i − μ_{c(i)}‖²,  μ_k = mean{x_i : c(i) = k}",
        ),
        Entry(
            "gmm",
            "E",
            "(高斯混合模型GMM)",
            "Gaussian mixture models",
            "sklearn GaussianMixture",
            module="unsupervised",
            answer=(
                "A Gaussian mixture is fitted by EM: the E-step computes each component's "
                "responsibility for each point, the M-step re-estimates weights, means and "
                "covariances from them. The log-likelihood never decreases."
            ),
            formula=(
                "γ_ik = π_k N(x_i|μ_k,Σ_k) / Σ_j π_j N(x_i|μ_j,Σ_j),  μ_k = Σ_i γ_ik x_i / Σ_i γ_ik"
            ),
        ),
        Entry(
            "hmm",
            "E",
            "(隐马尔可夫模型HMM)",
            "Hidden Markov models",
            "hmmlearn",
            module="unsupervised",
            answer=(
                "An HMM has hidden states with Markov transitions and emissions per state. "
                "Forward–backward gives state posteriors, Viterbi the most probable path, "
                "and Baum–Welch (EM) learns the parameters."
            ),
            formula=(
                "α_t(j) = [Σ_i α_{t−1}(i) a_ij] b_j(o_t);  Viterbi: δ_t(j) = max_i "
                "δ_{t−1}(i) a_ij b_j(o_t)"
            ),
        ),
        Entry(
            "missing-values",
            "F",
            "数据怎么清洗,缺失值怎么填充",
            "Data cleaning and missing-value imputation",
            "sklearn.impute",
            module="data",
            answer=(
                "Drop duplicates, flag outliers (IQR or z-score), then impute: mean or "
                "median for numbers, the mode or a constant for categories, KNN or a model "
                "for structure; keep a missing-indicator when missingness carries signal. "
                "Fit the imputer on training data only."
            ),
            formula="IQR rule: outlier if x < Q1 − 1.5·IQR or x > Q3 + 1.5·IQR",
        ),
        Entry(
            "imbalance",
            "F",
            "数据不平衡问题 / 如何解决样本不均衡",
            "Imbalanced data",
            "imbalanced-learn, sklearn class_weight",
            module="imbalance",
            answer=(
                "Measure with PR-AUC or per-class recall, not accuracy; then rebalance by "
                "over-sampling (random, SMOTE), under-sampling, class weights in the loss, "
                "or by moving the decision threshold."
            ),
            formula="SMOTE: x_new = x_i + u·(x_nn − x_i),  u ~ U(0, 1)",
        ),
        Entry(
            "class-balanced-sampling",
            "F",
            "深度学习中解决样本不平衡 (类别均衡采样)",
            "Class-balanced sampling in deep learning",
            "torch WeightedRandomSampler",
            module="sampling",
            answer=(
                "Draw each example with probability inversely proportional to its class "
                "frequency, so every batch sees the classes about equally; alternatives are "
                "re-weighting the loss or focal loss, which down-weights easy examples."
            ),
            formula="P(draw i) ∝ 1/n_{y_i}",
        ),
        Entry(
            "backprop",
            "G",
            "手写BP公式 (BP1-BP4)",
            "Backpropagation: the four equations",
            "torch autograd",
            module="deep",
            answer=(
                "Backpropagation applies the chain rule layer by layer: the output error, "
                "its propagation backwards through the weights and the activation "
                "derivative, and the gradients of the biases and weights from those errors."
            ),
            formula=(
                "δᴸ = ∇_a C ⊙ σ'(zᴸ);  δˡ = (Wˡ⁺¹)ᵀδˡ⁺¹ ⊙ σ'(zˡ);  ∂C/∂bˡ = δˡ;  ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ"
            ),
        ),
        Entry(
            "vanishing-gradients",
            "G",
            "梯度消失和梯度爆炸 / 根本原因(初始化和Normalization)",
            "Vanishing and exploding gradients",
            "— (measured)",
            module="deep",
            answer=(
                "Backpropagated gradients are products of per-layer Jacobians; if their "
                "scale is below one they shrink exponentially with depth (vanish), above "
                "one they grow (explode). Fixes: variance-preserving initialisation, ReLU, "
                "normalization, residual connections, gradient clipping."
            ),
            formula="‖δˡ‖ ≈ Π_k ‖W_k‖·|σ'(z_k)|;  He init: Var(w) = 2/fan_in",
            notes_claim="Because σ'(x) ≤ 0.25, gradients in deep sigmoid networks vanish.",
        ),
        Entry(
            "activations",
            "G",
            "Relu、PRelu、Relu6、LeakyRelu区别",
            "ReLU, PReLU, ReLU6 and LeakyReLU",
            "torch.nn.functional",
            module="deep",
            answer=(
                "ReLU is max(0, x); LeakyReLU gives negatives a small fixed slope; PReLU "
                "learns that slope; ReLU6 clips at 6 for low-precision arithmetic. The "
                "non-zero negative slope keeps units from dying."
            ),
            formula="LeakyReLU(x) = max(x, a·x);  ReLU6(x) = min(max(0, x), 6)",
        ),
        Entry(
            "batchnorm",
            "G",
            "BatchNormalization的作用",
            "Batch normalization",
            "torch BatchNorm2d",
            module="normalization",
            answer=(
                "BatchNorm normalises each channel with the batch mean and variance during "
                "training and with running averages at inference, then rescales with "
                "learned γ and β. It allows larger learning rates and makes training less "
                "sensitive to initialisation."
            ),
            formula="ŷ = γ·(x − μ_B)/√(σ²_B + ε) + β",
        ),
        Entry(
            "norms",
            "G",
            "各种Norm方法 (BN/LN/IN/GN)",
            "Normalization layers: BN, LN, IN, GN",
            "torch LayerNorm/InstanceNorm/GroupNorm",
            module="normalization",
            answer=(
                "BatchNorm normalises over (N, H, W) per channel; LayerNorm over (C, H, W) "
                "per sample; InstanceNorm over (H, W) per sample and channel; GroupNorm "
                "over groups of channels per sample, so it does not depend on the batch "
                "size."
            ),
            formula="BN: axes (N,H,W)   LN: (C,H,W)   IN: (H,W)   GN: (C/G,H,W)",
        ),
        Entry(
            "pooling-backprop",
            "G",
            "mean pooling和max pooling反向传播的不同",
            "Backpropagation through max and mean pooling",
            "torch max_pool2d / avg_pool2d",
            module="conv_blocks",
            answer=(
                "Max pooling sends the whole gradient to the position that held the "
                "maximum; mean pooling spreads it evenly, 1/k² to each input of the window."
            ),
            formula="max: ∂y/∂x_i = 1[i = argmax];  mean: ∂y/∂x_i = 1/k²",
        ),
        Entry(
            "function-vs-module",
            "G",
            "Pytorch中Function与Module的差异",
            "PyTorch Function vs Module",
            "torch.autograd.gradcheck",
            module="deep",
            answer=(
                "A torch.autograd.Function defines a stateless forward and its backward; a "
                "Module holds parameters and state and composes operations in forward, with "
                "autograd deriving the backward."
            ),
            formula="Function: forward(ctx, x) and backward(ctx, grad_out) → grad_in",
        ),
        Entry(
            "dataset-dataloader-sampler",
            "G",
            "dataset、dataloader、sampler有什么区别",
            "Dataset, DataLoader and Sampler",
            "torch.utils.data",
            module="sampling",
            answer=(
                "A Dataset maps an index to one example; a Sampler decides the order of "
                "indices; the DataLoader groups them into batches, collates them and can "
                "load them in worker processes."
            ),
        ),
        Entry(
            "translation-invariance",
            "G",
            "平移不变性",
            "Translation invariance",
            "— (measured)",
            module="conv_blocks",
            answer=(
                "Convolution is translation-equivariant (shifting the input shifts the "
                "feature map); pooling and global pooling add approximate invariance. "
                "Strides and padding break exact equivariance."
            ),
            formula="conv(shift_t(x)) = shift_t(conv(x))",
        ),
        Entry(
            "receptive-field",
            "H",
            "感受野的计算",
            "Receptive field",
            "Araujo et al. 2019 (Distill)",
            module="vision",
            answer=(
                "The receptive field is the input region that can influence one output "
                "unit; for a chain of layers it grows by (k − 1) times the product of the "
                "earlier strides at each layer."
            ),
            formula="r_L = 1 + Σ_l (k_l − 1)·Π_{i<l} s_i",
        ),
        Entry(
            "params-flops",
            "H",
            "参数量 / 计算量(FLOPs)的计算 / FLOPs vs FLOPS",
            "Parameters and FLOPs",
            "torchvision model metadata, fvcore, thop",
            module="vision",
            answer=(
                "A conv layer has K·K·C_in·C_out weights (plus C_out biases) and "
                "K·K·C_in·C_out·H_out·W_out multiply-adds. FLOPs (count of operations) are "
                "usually 2× the MACs; FLOPS is a rate (operations per second), a property "
                "of hardware."
            ),
            formula="params = K²·C_in·C_out + C_out;  MACs = K²·C_in·C_out·H_out·W_out",
            notes_claim="FLOPs are described as floating-point operations per second.",
        ),
        Entry(
            "conv-output-size",
            "H",
            "卷积层后的图像尺寸 (向上还是向下取整)",
            "Convolution output size",
            "shapes produced by torch",
            module="vision",
            answer=(
                "The output size is floor((W − K + 2P)/S) + 1, rounded down by default and "
                "up in ceil mode; dilation replaces K by d(K − 1) + 1; a transposed conv "
                "inverts the formula."
            ),
            formula=(
                "W_out = ⌊(W + 2P − d(K−1) − 1)/S⌋ + 1;  transposed: (W−1)S − 2P + d(K−1) + "
                "P_out + 1"
            ),
        ),
        Entry(
            "separable-conv",
            "H",
            "可分离卷积的思想,参数量计算",
            "Depthwise separable convolution",
            "torch conv with groups",
            module="efficient",
            answer=(
                "A depthwise separable conv splits a K×K conv into a per-channel K×K "
                "depthwise conv and a 1×1 pointwise conv that mixes channels, cutting "
                "parameters and MACs to about 1/N + 1/K² of the standard conv."
            ),
            formula="cost ratio = (K²·C_in + C_in·C_out) / (K²·C_in·C_out) = 1/C_out + 1/K²",
        ),
        Entry(
            "conv1x1",
            "H",
            "1*1卷积作用",
            "1x1 convolution",
            "torch Linear",
            module="conv_blocks",
            answer=(
                "A 1×1 conv is a linear layer applied at every pixel: it mixes channels, "
                "reduces or expands their number (bottlenecks), and adds a non-linearity "
                "without changing the spatial size."
            ),
            formula="y[:, h, w] = W x[:, h, w] + b",
        ),
        Entry(
            "dilated-conv",
            "H",
            "空洞卷积",
            "Dilated convolution",
            "torch conv2d dilation",
            module="conv_blocks",
            answer=(
                "Dilation spaces the kernel taps d apart, so the receptive field grows "
                "without pooling or extra parameters and the resolution is kept; stacked "
                "dilations must vary to avoid gridding."
            ),
            formula="effective kernel = d(K − 1) + 1",
        ),
        Entry(
            "transposed-conv",
            "H",
            "反卷积 / fractionally strided",
            "Transposed convolution",
            "torch conv_transpose2d",
            module="conv_blocks",
            answer=(
                "A transposed conv upsamples: it equals inserting S − 1 zeros between "
                "inputs and running an ordinary conv, and it is exactly the gradient of a "
                "conv with respect to its input."
            ),
            formula="W_out = (W − 1)S − 2P + K + P_out",
        ),
        Entry(
            "autoencoder",
            "H",
            "AutoEncoder",
            "Autoencoders",
            "— (measured)",
            module="autoencoder",
            answer=(
                "An autoencoder compresses the input to a low-dimensional code and "
                "reconstructs it; trained on reconstruction error it learns a non-linear "
                "generalisation of PCA (a linear one with squared loss spans the PCA "
                "subspace)."
            ),
            formula="min ‖x − g(f(x))‖²",
        ),
        Entry(
            "nms",
            "I",
            "复现一下NMS",
            "Non-maximum suppression",
            "torchvision.ops.nms where installed; pure-Python NMS and soft-NMS",
            module="detection",
            answer=(
                "Sort boxes by score, keep the best, drop every remaining box whose IoU "
                "with it exceeds the threshold, repeat. Batched NMS does this per class; "
                "soft-NMS decays scores instead of dropping boxes."
            ),
            formula="drop b if IoU(b, kept) > τ;  soft-NMS: s ← s·exp(−IoU²/σ)",
        ),
        Entry(
            "box-offsets",
            "I",
            "为什么要学习偏移而不是实际值 / 偏移系数",
            "Box offsets instead of absolute coordinates",
            "torchvision BoxCoder where installed; the offset formulas written out",
            module="detection",
            answer=(
                "Regress offsets from an anchor, normalised by its size, with log-scale "
                "width and height: the targets are scale-invariant, centred near zero and "
                "well conditioned, which makes them easier to learn than absolute "
                "coordinates."
            ),
            formula=(
                "t_x = (x − x_a)/w_a,  t_y = (y − y_a)/h_a,  t_w = log(w/w_a),  t_h = log(h/h_a)"
            ),
        ),
        Entry(
            "iou-family",
            "I",
            "IOU 各种进化版本 / GIoU loss",
            "IoU, GIoU, DIoU and CIoU",
            "torchvision.ops where installed; pycocotools box IoU, the definitions written out",
            module="detection",
            answer=(
                "IoU gives no gradient when boxes do not overlap; GIoU subtracts the empty "
                "part of the enclosing box; DIoU adds the normalised centre distance; CIoU "
                "also adds an aspect-ratio term."
            ),
            formula="GIoU = IoU − |C \\ (A∪B)|/|C|;  DIoU = IoU − ρ²(b, b_gt)/c²",
        ),
        Entry(
            "focal-loss",
            "I",
            "Focal Loss 论文理解及公式推导",
            "Focal loss",
            "torchvision.ops.sigmoid_focal_loss where installed; torch BCE, torch autograd",
            module="sampling",
            answer=(
                "Focal loss multiplies cross-entropy by (1 − p_t)^γ so that the many easy, "
                "well-classified negatives contribute little and training focuses on hard "
                "examples; α balances the classes."
            ),
            formula="FL(p_t) = −α_t (1 − p_t)^γ log p_t",
        ),
        Entry(
            "smooth-l1",
            "I",
            "smoothL1 loss的好处",
            "Smooth L1 loss",
            "torch F.smooth_l1_loss",
            module="losses",
            answer=(
                "Smooth L1 is quadratic near zero (smooth, small gradients for small "
                "errors) and linear beyond β (bounded gradients, robust to outliers), "
                "combining the strengths of L2 and L1."
            ),
            formula="ℓ(x) = 0.5x²/β if |x| < β, else |x| − 0.5β",
        ),
        Entry(
            "yolo",
            "I",
            "Yolo系列 (v1-v5): 多尺度、目标评分、独立逻辑回归、loss、推理",
            "YOLO-style detection",
            "mAP from pycocotools or torchmetrics",
            module="detection_models",
            answer=(
                "YOLO predicts boxes, objectness and classes densely from grid cells in one "
                "pass. v2 added anchors from k-means on box shapes; v3 predicts at three "
                "scales with independent logistic class scores; v4/v5 added CSP backbones, "
                "PANet and CIoU loss."
            ),
            formula="b_x = σ(t_x) + c_x,  b_w = p_w·e^{t_w};  k-means distance d = 1 − IoU",
        ),
        Entry(
            "retinanet",
            "I",
            "RetinaNet的大致结构 / 为什么比SSD效果好",
            "RetinaNet",
            "torchvision RetinaNet structure",
            module="retinanet",
            answer=(
                "RetinaNet is a one-stage detector: a backbone with an FPN, nine anchors "
                "per location, shared class and box subnets, and focal loss, which replaces "
                "SSD's hard-negative mining and lets it train on all anchors."
            ),
            formula="class bias b = −log((1 − π)/π), π = 0.01",
        ),
        Entry(
            "fpn",
            "I",
            "FPN网络主要作用(多尺度)",
            "Feature pyramid networks",
            "— (measured)",
            module="detection_models",
            answer=(
                "An FPN adds a top-down pathway with lateral 1×1 connections to the "
                "backbone, so every pyramid level has semantically strong features at its "
                "own resolution; small objects are detected on the fine levels."
            ),
            formula="P_l = conv3×3(lateral(C_l) + upsample(P_{l+1}))",
        ),
        Entry(
            "rnn",
            "J",
            "循环神经网络为什么效果好",
            "Recurrent neural networks",
            "torch nn.RNN",
            module="sequence",
            answer=(
                "An RNN applies the same weights at every time step and carries a hidden "
                "state, so it handles sequences of any length and shares statistics across "
                "positions; plain RNNs struggle with long ranges because gradients vanish "
                "through time."
            ),
            formula="h_t = tanh(W_xh x_t + W_hh h_{t−1} + b)",
        ),
        Entry(
            "lstm-gru",
            "J",
            "LSTM和GRU的原理 / LSTM的反向传播公式",
            "LSTM and GRU",
            "torch nn.LSTM / nn.GRU",
            module="sequence",
            answer=(
                "An LSTM keeps a separate cell state updated additively through forget and "
                "input gates, so gradients can flow over long ranges; a GRU merges cell and "
                "hidden state and couples forgetting and writing in one update gate."
            ),
            formula=(
                "LSTM: c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t);  GRU: h_t = (1−z)⊙h_{t−1} + z⊙h̃"
            ),
            notes_claim="The only difference between GRU and LSTM is the number of gates.",
        ),
        Entry(
            "attention",
            "J",
            "Attention机制的作用",
            "Attention",
            "torch F.scaled_dot_product_attention",
            module="sequence",
            answer=(
                "Attention lets each output look at all inputs with learned weights instead "
                "of one fixed-size summary: scores between a query and the keys, a softmax, "
                "and a weighted sum of the values."
            ),
            formula="Attention(Q, K, V) = softmax(QKᵀ/√d_k) V",
        ),
        Entry(
            "cyclegan",
            "K",
            "CycleGAN原理",
            "CycleGAN",
            "— (measured)",
            module="cyclegan",
            answer=(
                "CycleGAN learns two mappings between unpaired domains with two GANs, plus "
                "a cycle-consistency loss (translating there and back must return the "
                "input) and optionally an identity loss."
            ),
            formula="L = L_GAN(G) + L_GAN(F) + λ(‖F(G(x)) − x‖₁ + ‖G(F(y)) − y‖₁)",
        ),
        Entry(
            "mobilenet",
            "L",
            "MobileNet v1/v2/v3 原理",
            "MobileNet v1, v2 and v3",
            "papers' tables, torchvision parameter counts",
            module="efficient",
            answer=(
                "v1 uses depthwise separable convs with width and resolution multipliers; "
                "v2 adds inverted residuals with linear bottlenecks; v3 adds "
                "squeeze-and-excitation, h-swish and a searched architecture."
            ),
            formula="h-swish(x) = x·ReLU6(x + 3)/6",
        ),
        Entry(
            "ghostnet",
            "L",
            "GhostNet",
            "GhostNet",
            "paper's table",
            module="efficient",
            answer=(
                "A ghost module produces part of the output channels with an ordinary conv "
                "and the rest with cheap depthwise ops on those, since many feature maps "
                "are near-copies of others; it cuts FLOPs by about the ratio s."
            ),
            formula="cost ≈ 1/s of a standard conv with s − 1 cheap maps per primary map",
        ),
        Entry(
            "compression",
            "L",
            "模型压缩 (蒸馏、剪枝、量化、低秩分解、参数共享)",
            "Model compression",
            "— (measured)",
            module="compression",
            answer=(
                "Distillation trains a small student on the teacher's softened outputs; "
                "pruning removes small or unimportant weights or whole channels; "
                "quantization stores low-precision numbers; low-rank factorisation splits a "
                "weight matrix; parameter sharing reuses weights."
            ),
            formula="KD loss = (1−α)·CE(y, p_s) + α·T²·KL(p_t^T ‖ p_s^T)",
        ),
        Entry(
            "quantization",
            "L",
            "量化操作如何实现",
            "Quantization",
            "torch.ao.quantization (where available)",
            module="compression",
            answer=(
                "Affine int8 quantization maps a float range to integers with a scale and a "
                "zero point, per tensor or per channel; calibration picks the range; "
                "quantization-aware training fakes the rounding in the forward pass and "
                "passes gradients straight through."
            ),
            formula="q = clamp(round(x/s) + z, q_min, q_max),  x̂ = s(q − z)",
        ),
        Entry(
            "backbones",
            "L",
            "一些新的目标检测的backbone / 检测里为什么选择refineDet",
            "Detection backbones",
            "the project's profiler",
            module="efficient",
            answer=(
                "Modern detection backbones (ResNet, MobileNet, GhostNet) with an FPN trade "
                "parameters and MACs against receptive field and stride per level; "
                "RefineDet adds an anchor refinement stage to a one-stage detector for "
                "two-stage-like accuracy at one-stage speed."
            ),
        ),
        Entry(
            "xception-shufflenet",
            "L",
            "MobileNet 与 Xception / ShuffleNet 的区别",
            "Depthwise separable vs group convolution with channel shuffle",
            "papers' tables, the project's profiler",
            module="shufflenet",
            answer=(
                "MobileNet and Xception both factor convs into depthwise and pointwise "
                "parts; ShuffleNet makes the 1×1 convs cheap too by grouping them, and "
                "shuffles channels between groups so information still crosses groups."
            ),
            formula=(
                "grouped 1×1 cost = C_in·C_out/g;  shuffle: reshape (g, C/g) → transpose → flatten"
            ),
        ),
        Entry(
            "latency-vs-macs",
            "L",
            "MobileNet 在不同设备上的速度",
            "Multiply-adds vs measured latency",
            "measured (torch.utils.benchmark)",
            module="latency",
            answer=(
                "MACs count arithmetic, but latency also depends on memory traffic, kernel "
                "efficiency (depthwise convs use hardware poorly), parallelism and batch "
                "size, so a network with fewer MACs is not always faster on a given device."
            ),
        ),
    ]
}
