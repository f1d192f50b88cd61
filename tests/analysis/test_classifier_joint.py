"""The joint variant: one SVM over n-grams and embeddings, as a base model of the stack."""

from __future__ import annotations

import numpy as np

from resonanz.analysis.classifier import StackedClassifier
from resonanz.analysis.features import Featurizer


def test_joint_svm_reads_the_embeddings():
    rng = np.random.default_rng(0)
    texts = [f"text number {i}" for i in range(90)]  # the words say nothing about the class
    y = [["a", "b", "c"][i % 3] for i in range(90)]
    centres = np.eye(3, 8, dtype=np.float32)
    E = np.stack([centres[i % 3] + 0.05 * rng.standard_normal(8) for i in range(90)]).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    feat = Featurizer(cues=False).fit(texts)
    X = feat.transform(texts)
    clf = StackedClassifier(folds=3, joint=2.0, knn=False).fit(X, E, y)
    assert clf.base[0].coef_.shape[1] == X.shape[1] + 8  # the SVM saw both views
    assert np.mean(np.array(clf.predict(X, E)) == np.array(y)) > 0.95
    assert len(clf.predict(X, None)) == 90  # without embeddings at run time it still answers
