"""Linear regression from scratch with tensord.mx (nd + autograd only), Gluon book style.

Synthetic data with a fixed seed: y = X w + b + noise, w = [2, -3.4], b = 4.2, 1000 examples.
Minibatch SGD (batch 10, lr 0.03, 3 epochs). Stated target: final mean squared loss
(0.5 (y_hat - y)^2) below 1e-3 and |w - true_w|, |b - true_b| below 0.01; exits 1 otherwise.
"""

import sys

import numpy as np

from tensord import mx
from tensord.mx import autograd, nd

rng = np.random.default_rng(1)
num_inputs, num_examples = 2, 1000
true_w, true_b = np.array([2, -3.4]), 4.2
features_np = rng.normal(size=(num_examples, num_inputs))
labels_np = features_np @ true_w + true_b + rng.normal(scale=0.01, size=num_examples)
features, labels = nd.array(features_np), nd.array(labels_np)


def data_iter(batch_size, features, labels):
    indices = rng.permutation(len(features))
    for i in range(0, len(features), batch_size):
        j = nd.array(indices[i: min(i + batch_size, len(features))])
        yield features.take(j), labels.take(j)


mx.random.seed(1)
w = nd.random.normal(scale=0.01, shape=(num_inputs, 1))
b = nd.zeros(shape=(1,))
for param in (w, b):
    param.attach_grad()


def linreg(X, w, b):
    return nd.dot(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    for param in params:
        param[:] = param - lr * param.grad / batch_size


lr, num_epochs, batch_size = 0.03, 3, 10
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        with autograd.record():
            l = squared_loss(linreg(X, w, b), y)
        l.backward()
        sgd([w, b], lr, batch_size)
    train_l = squared_loss(linreg(features, w, b), labels)
    print("epoch %d, loss %f" % (epoch + 1, train_l.mean().asscalar()))

final_loss = float(train_l.mean().asscalar())
w_err = np.abs(w.asnumpy().reshape(-1) - true_w).max()
b_err = abs(float(b.asscalar()) - true_b)
print("w", w.asnumpy().reshape(-1), "b", b.asscalar())
ok = final_loss < 1e-3 and w_err < 0.01 and b_err < 0.01
print("target (loss < 1e-3, |w-w*|, |b-b*| < 0.01): %s" % ("reached" if ok else "MISSED"))
sys.exit(0 if ok else 1)
