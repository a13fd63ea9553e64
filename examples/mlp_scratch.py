"""A multilayer perceptron from scratch with tensord.mx (nd + autograd only), Gluon book style.

Synthetic data with a fixed seed: three interleaved spiral arms in 2-D (300 points each), which
no linear model separates. MLP 2 -> 64 (ReLU) -> 3, softmax cross-entropy, minibatch SGD
(batch 100, lr 2.0, 40 epochs). Stated target: training accuracy at least 0.95; exits 1 otherwise.
"""

import sys

import numpy as np

from tensord import mx
from tensord.mx import autograd, nd

rng = np.random.default_rng(0)
num_per_class, num_classes = 300, 3


def spirals():
    xs, ys = [], []
    for k in range(num_classes):
        r = np.linspace(0.05, 1, num_per_class)
        t = np.linspace(k * 4, (k + 1) * 4, num_per_class) + rng.normal(0, 0.2, num_per_class)
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(num_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)


features_np, labels_np = spirals()
features, labels = nd.array(features_np), nd.array(labels_np)

num_inputs, num_hiddens, num_outputs = 2, 64, num_classes
mx.random.seed(0)
W1 = nd.random.normal(scale=0.1, shape=(num_inputs, num_hiddens))
b1 = nd.zeros(num_hiddens)
W2 = nd.random.normal(scale=0.1, shape=(num_hiddens, num_outputs))
b2 = nd.zeros(num_outputs)
params = [W1, b1, W2, b2]
for param in params:
    param.attach_grad()


def relu(X):
    return nd.maximum(X, 0)


def net(X):
    H = relu(nd.dot(X, W1) + b1)
    return nd.dot(H, W2) + b2


def cross_entropy(y_hat, y):
    return -nd.pick(nd.log_softmax(y_hat), y)


def sgd(params, lr, batch_size):
    for param in params:
        param[:] = param - lr * param.grad / batch_size


def accuracy(y_hat, y):
    return (y_hat.argmax(axis=1) == y).mean().asscalar()


def data_iter(batch_size):
    indices = rng.permutation(len(features_np))
    for i in range(0, len(indices), batch_size):
        j = nd.array(indices[i: i + batch_size])
        yield features.take(j), labels.take(j)


lr, num_epochs, batch_size = 2.0, 40, 100
for epoch in range(num_epochs):
    train_l_sum = 0.0
    for X, y in data_iter(batch_size):
        with autograd.record():
            l = cross_entropy(net(X), y)
        l.backward()
        sgd(params, lr, batch_size)
        train_l_sum += l.sum().asscalar()
    if (epoch + 1) % 10 == 0:
        print("epoch %d, loss %.4f, train acc %.3f"
              % (epoch + 1, train_l_sum / len(features_np), accuracy(net(features), labels)))

acc = float(accuracy(net(features), labels))
ok = acc >= 0.95
print("target (train accuracy >= 0.95): %s (%.3f)" % ("reached" if ok else "MISSED", acc))
sys.exit(0 if ok else 1)
