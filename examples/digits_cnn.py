"""Trains a small CNN on scikit-learn's handwritten digits with tensord's Gluon API.

    TENSORD_URL=http://127.0.0.1:8080 python examples/digits_cnn.py [--epochs N] [--eager]

Conv(16, 3x3) → BatchNorm → max-pool → Conv(32, 3x3) → max-pool → Dense(64) → Dropout →
Dense(10), trained with Adam; reaches about 98-99% test accuracy. Each training step is one
request (``gluon.TrainStep``); ``--eager`` runs the classic MXNet loop instead.
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _digits  # noqa: E402

from tensord import mx  # noqa: E402  (the MXNet original: import mxnet as mx)
from tensord.mx import autograd, nd  # noqa: E402
from tensord import gluon  # noqa: E402

nn = gluon.nn


def build():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(16, kernel_size=3, padding=1, activation="relu"),
                nn.BatchNorm(),
                nn.MaxPool2D(pool_size=2),                      # 8x8 -> 4x4
                nn.Conv2D(32, kernel_size=3, padding=1, activation="relu"),
                nn.MaxPool2D(pool_size=2),                      # 4x4 -> 2x2
                nn.Dense(64, activation="relu"),
                nn.Dropout(0.2),
                nn.Dense(10))
    net.hybridize()
    return net


def main():
    args = _digits.arguments(__doc__.splitlines()[0], epochs=12, batch_size=32)
    X_train, X_test, y_train, y_test = _digits.load(seed=args.seed)
    mx.random.seed(args.seed)
    rng = np.random.RandomState(args.seed)

    net = build()
    net.initialize(mx.init.Xavier())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.002})
    step = gluon.TrainStep(net, loss_fn, trainer)

    X, y = nd.array(X_train[:, None]), nd.array(y_train)  # (N, 1, 8, 8), uploaded once
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        epoch_batches = _digits.batches(len(X_train), args.batch_size, rng)
        bar = _digits.Progress(epoch, args.epochs, len(epoch_batches))
        for rows in epoch_batches:
            if args.eager:
                with autograd.record():
                    loss = loss_fn(net(X[rows]), y[rows])
                loss.backward()
                trainer.step(len(rows))
                bar.update(float(loss.mean().asscalar()))
            else:
                bar.update(step(X, y, rows=rows))
        bar.done()
    seconds = time.perf_counter() - start

    pred = net(nd.array(X_test[:, None])).argmax(axis=1).asnumpy()  # predict mode
    accuracy = float((pred == y_test).mean())
    print("test accuracy: %.2f%% (%d/%d)" % (100 * accuracy, int((pred == y_test).sum()), len(y_test)))
    _digits.report("digits_cnn", accuracy, seconds, args.epochs, eager=args.eager)


if __name__ == "__main__":
    main()
