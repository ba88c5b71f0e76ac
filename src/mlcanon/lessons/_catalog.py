"""The notes' questions, one entry per lesson slug, grouped by section.

The catalogue is the scope of the project: ``mlcanon list`` shows every entry and whether a
lesson for it is registered yet.
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
    slug: str
    section: str
    question: str  # the notes' heading (Chinese), abridged
    title: str
    reference: str


CATALOG: dict[str, Entry] = {
    e.slug: e
    for e in [
        Entry(
            "discriminative-vs-generative",
            "A",
            "判别式模型 vs 生成式模型",
            "Discriminative vs generative models",
            "sklearn LogisticRegression, GaussianNB",
        ),
        Entry(
            "precision-recall",
            "A",
            "求precision和recall / 混淆矩阵",
            "Confusion matrix, precision, recall and F1",
            "sklearn.metrics",
        ),
        Entry(
            "auc",
            "A",
            "AUC / ROC",
            "ROC curve and AUC",
            "sklearn roc_auc_score / roc_curve, scipy mannwhitneyu",
        ),
        Entry(
            "cross-entropy",
            "A",
            "交叉熵公式 / 神经网络为什么用交叉熵",
            "Cross-entropy and why networks use it",
            "sklearn log_loss, torch F.cross_entropy",
        ),
        Entry(
            "kl-divergence",
            "A",
            "如何评价两个分布的相似度,KL散度怎么计算",
            "Comparing distributions: entropy, KL and JS divergence",
            "scipy.stats.entropy, torch F.kl_div",
        ),
        Entry(
            "l1-l2",
            "A",
            "L1L2正则 / 为什么L1和L2正则化可防止过拟合",
            "L1 and L2 regularization",
            "sklearn lasso_path, Ridge",
        ),
        Entry(
            "l1-nondifferentiable",
            "A",
            "L1不可导的时候该怎么办",
            "Optimizing the non-differentiable L1 penalty",
            "sklearn Lasso",
        ),
        Entry(
            "gradient", "A", "解释梯度的概念", "What the gradient is", "numerical differentiation"
        ),
        Entry(
            "generalization",
            "A",
            "怎么提升网络的泛化能力",
            "Improving generalization",
            "— (measured)",
        ),
        Entry(
            "optimizers",
            "B",
            "SGD, Momentum, Adagrad, RMSProp, Adam 原理 / 写出优化公式",
            "First-order optimizers and their update rules",
            "torch.optim",
        ),
        Entry(
            "adam-nonconvergence",
            "B",
            "Adam 并不能保证找到极值点",
            "Adam can fail to converge",
            "— (paper)",
        ),
        Entry(
            "newton-quasi-newton",
            "B",
            "拟牛顿法的原理",
            "Newton's method and quasi-Newton methods",
            "scipy.optimize.minimize",
        ),
        Entry(
            "beyond-gd",
            "B",
            "除了梯度下降,你还了解哪些优化方法",
            "Optimization methods beyond gradient descent",
            "scipy.optimize",
        ),
        Entry(
            "sqrt",
            "B",
            "梯度反向传播求根号 (求平方根)",
            "Computing a square root by optimization",
            "math.sqrt",
        ),
        Entry(
            "lr-finder", "B", "寻找最优学习率的方法", "Finding a good learning rate", "— (measured)"
        ),
        Entry(
            "warmup",
            "B",
            "Warmup与优化器的搭配使用",
            "Learning-rate warmup",
            "torch.optim.lr_scheduler",
        ),
        Entry(
            "logistic-regression",
            "C",
            "LR公式、推导、损失函数 / 逻辑回归常见面试点",
            "Logistic regression: model, loss and fitting",
            "sklearn LogisticRegression",
        ),
        Entry(
            "multiclass-lr",
            "C",
            "逻辑回归多分类实现",
            "Multiclass logistic regression",
            "sklearn LogisticRegression",
        ),
        Entry(
            "svm-kernels",
            "C",
            "SVM什么时候用线性核,什么时候用高斯核",
            "SVM: linear vs Gaussian kernel",
            "sklearn SVC / LinearSVC",
        ),
        Entry("pca", "C", "PCA", "Principal component analysis", "sklearn PCA"),
        Entry(
            "lda",
            "C",
            "(生成式模型 LDA)",
            "Linear discriminant analysis",
            "sklearn LinearDiscriminantAnalysis",
        ),
        Entry("naive-bayes", "C", "朴素贝叶斯", "Naive Bayes", "sklearn naive_bayes"),
        Entry(
            "lr-vs-gbdt",
            "C",
            "比较LR和GBDT,什么情景下GBDT不如LR",
            "Logistic regression vs GBDT",
            "— (measured)",
        ),
        Entry("decision-tree", "D", "(决策树)", "Decision trees (CART)", "sklearn DecisionTree*"),
        Entry(
            "random-forest",
            "D",
            "随机森林参数、缺失值、可否并行",
            "Random forests: parameters, missing values, parallelism",
            "sklearn RandomForest*",
        ),
        Entry(
            "gbdt",
            "D",
            "介绍GBDT的详细计算过程",
            "Gradient boosting step by step",
            "sklearn GradientBoosting*",
        ),
        Entry(
            "xgboost",
            "D",
            "介绍XGBoost / 为什么要二阶展开 / 参数",
            "XGBoost: second-order boosting",
            "xgboost, lightgbm, sklearn HistGradientBoosting",
        ),
        Entry(
            "xgboost-missing",
            "D",
            "xgboost缺失值处理方法",
            "How XGBoost handles missing values",
            "xgboost, lightgbm, sklearn HistGradientBoosting",
        ),
        Entry(
            "adaboost-gbdt-xgboost",
            "D",
            "区分Adaboost、GBDT、XGBoost",
            "AdaBoost vs GBDT vs XGBoost",
            "sklearn AdaBoostClassifier",
        ),
        Entry("ensembles", "D", "集成学习的方法有哪些", "Ensemble methods", "sklearn ensemble"),
        Entry(
            "kmeans-em",
            "E",
            "Kmeans算法和EM算法的关系 / 手肘法",
            "k-means and its relation to EM",
            "sklearn KMeans, GaussianMixture",
        ),
        Entry(
            "gmm", "E", "(高斯混合模型GMM)", "Gaussian mixture models", "sklearn GaussianMixture"
        ),
        Entry("hmm", "E", "(隐马尔可夫模型HMM)", "Hidden Markov models", "hmmlearn"),
        Entry(
            "missing-values",
            "F",
            "数据怎么清洗,缺失值怎么填充",
            "Data cleaning and missing-value imputation",
            "sklearn.impute",
        ),
        Entry(
            "imbalance",
            "F",
            "数据不平衡问题 / 如何解决样本不均衡",
            "Imbalanced data",
            "imbalanced-learn, sklearn class_weight",
        ),
        Entry(
            "class-balanced-sampling",
            "F",
            "深度学习中解决样本不平衡 (类别均衡采样)",
            "Class-balanced sampling in deep learning",
            "torch WeightedRandomSampler",
        ),
        Entry(
            "backprop",
            "G",
            "手写BP公式 (BP1-BP4)",
            "Backpropagation: the four equations",
            "torch autograd",
        ),
        Entry(
            "vanishing-gradients",
            "G",
            "梯度消失和梯度爆炸 / 根本原因(初始化和Normalization)",
            "Vanishing and exploding gradients",
            "— (measured)",
        ),
        Entry(
            "activations",
            "G",
            "Relu、PRelu、Relu6、LeakyRelu区别",
            "ReLU, PReLU, ReLU6 and LeakyReLU",
            "torch.nn.functional",
        ),
        Entry(
            "batchnorm", "G", "BatchNormalization的作用", "Batch normalization", "torch BatchNorm2d"
        ),
        Entry(
            "norms",
            "G",
            "各种Norm方法 (BN/LN/IN/GN)",
            "Normalization layers: BN, LN, IN, GN",
            "torch LayerNorm/InstanceNorm/GroupNorm",
        ),
        Entry(
            "pooling-backprop",
            "G",
            "mean pooling和max pooling反向传播的不同",
            "Backpropagation through max and mean pooling",
            "torch max_pool2d / avg_pool2d",
        ),
        Entry(
            "function-vs-module",
            "G",
            "Pytorch中Function与Module的差异",
            "PyTorch Function vs Module",
            "torch.autograd.gradcheck",
        ),
        Entry(
            "dataset-dataloader-sampler",
            "G",
            "dataset、dataloader、sampler有什么区别",
            "Dataset, DataLoader and Sampler",
            "torch.utils.data",
        ),
        Entry(
            "translation-invariance", "G", "平移不变性", "Translation invariance", "— (measured)"
        ),
        Entry(
            "receptive-field",
            "H",
            "感受野的计算",
            "Receptive field",
            "Araujo et al. 2019 (Distill)",
        ),
        Entry(
            "params-flops",
            "H",
            "参数量 / 计算量(FLOPs)的计算 / FLOPs vs FLOPS",
            "Parameters and FLOPs",
            "torchvision model metadata, fvcore, thop",
        ),
        Entry(
            "conv-output-size",
            "H",
            "卷积层后的图像尺寸 (向上还是向下取整)",
            "Convolution output size",
            "shapes produced by torch",
        ),
        Entry(
            "separable-conv",
            "H",
            "可分离卷积的思想,参数量计算",
            "Depthwise separable convolution",
            "torch conv with groups",
        ),
        Entry("conv1x1", "H", "1*1卷积作用", "1x1 convolution", "torch Linear"),
        Entry("dilated-conv", "H", "空洞卷积", "Dilated convolution", "torch conv2d dilation"),
        Entry(
            "transposed-conv",
            "H",
            "反卷积 / fractionally strided",
            "Transposed convolution",
            "torch conv_transpose2d",
        ),
        Entry("autoencoder", "H", "AutoEncoder", "Autoencoders", "— (measured)"),
        Entry("nms", "I", "复现一下NMS", "Non-maximum suppression", "torchvision.ops.nms"),
        Entry(
            "box-offsets",
            "I",
            "为什么要学习偏移而不是实际值 / 偏移系数",
            "Box offsets instead of absolute coordinates",
            "torchvision BoxCoder",
        ),
        Entry(
            "iou-family",
            "I",
            "IOU 各种进化版本 / GIoU loss",
            "IoU, GIoU, DIoU and CIoU",
            "torchvision.ops *_box_iou / *_loss",
        ),
        Entry(
            "focal-loss",
            "I",
            "Focal Loss 论文理解及公式推导",
            "Focal loss",
            "torchvision.ops.sigmoid_focal_loss",
        ),
        Entry("smooth-l1", "I", "smoothL1 loss的好处", "Smooth L1 loss", "torch F.smooth_l1_loss"),
        Entry(
            "yolo",
            "I",
            "Yolo系列 (v1-v5): 多尺度、目标评分、独立逻辑回归、loss、推理",
            "YOLO-style detection",
            "mAP from pycocotools or torchmetrics",
        ),
        Entry(
            "retinanet",
            "I",
            "RetinaNet的大致结构 / 为什么比SSD效果好",
            "RetinaNet",
            "torchvision RetinaNet structure",
        ),
        Entry("fpn", "I", "FPN网络主要作用(多尺度)", "Feature pyramid networks", "— (measured)"),
        Entry("rnn", "J", "循环神经网络为什么效果好", "Recurrent neural networks", "torch nn.RNN"),
        Entry(
            "lstm-gru",
            "J",
            "LSTM和GRU的原理 / LSTM的反向传播公式",
            "LSTM and GRU",
            "torch nn.LSTM / nn.GRU",
        ),
        Entry(
            "attention",
            "J",
            "Attention机制的作用",
            "Attention",
            "torch F.scaled_dot_product_attention",
        ),
        Entry("cyclegan", "K", "CycleGAN原理", "CycleGAN", "— (measured)"),
        Entry(
            "mobilenet",
            "L",
            "MobileNet v1/v2/v3 原理",
            "MobileNet v1, v2 and v3",
            "papers' tables, torchvision parameter counts",
        ),
        Entry("ghostnet", "L", "GhostNet", "GhostNet", "paper's table"),
        Entry(
            "compression",
            "L",
            "模型压缩 (蒸馏、剪枝、量化、低秩分解、参数共享)",
            "Model compression",
            "— (measured)",
        ),
        Entry(
            "quantization",
            "L",
            "量化操作如何实现",
            "Quantization",
            "torch.ao.quantization (where available)",
        ),
        Entry(
            "backbones",
            "L",
            "一些新的目标检测的backbone / 检测里为什么选择refineDet",
            "Detection backbones",
            "the project's profiler",
        ),
        Entry(
            "xception-shufflenet",
            "L",
            "MobileNet 与 Xception / ShuffleNet 的区别",
            "Depthwise separable vs group convolution with channel shuffle",
            "papers' tables, the project's profiler",
        ),
        Entry(
            "latency-vs-macs",
            "L",
            "MobileNet 在不同设备上的速度",
            "Multiply-adds vs measured latency",
            "measured (torch.utils.benchmark)",
        ),
    ]
}
