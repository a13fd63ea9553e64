"""Trains an MLP on scikit-learn's handwritten digits with tensord's Gluon API.

    TENSORD_URL=http://127.0.0.1:8080 python examples/digits_mlp.py [--epochs N] [--eager]

Reaches about 97-98% test accuracy. Each training step is one request (``gluon.TrainStep``);
``--eager`` runs the classic MXNet loop instead, which works unchanged against tensord.
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


def build():
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(128, activation="relu"), gluon.nn.Dense(10))
    return net


def main():
    args = _digits.arguments(__doc__.splitlines()[0], epochs=20, batch_size=32)
    X_train, X_test, y_train, y_test = _digits.load(seed=args.seed)
    mx.random.seed(args.seed)
    rng = np.random.RandomState(args.seed)

    net = build()
    net.initialize(mx.init.Xavier())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05, "momentum": 0.9})
    step = gluon.TrainStep(net, loss_fn, trainer)

    X, y = nd.array(X_train.reshape(len(X_train), -1)), nd.array(y_train)  # uploaded once
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

    pred = net(nd.array(X_test.reshape(len(X_test), -1))).argmax(axis=1).asnumpy()
    accuracy = float((pred == y_test).mean())
    print("test accuracy: %.2f%% (%d/%d)" % (100 * accuracy, int((pred == y_test).sum()), len(y_test)))
    _digits.report("digits_mlp", accuracy, seconds, args.epochs, eager=args.eager)


if __name__ == "__main__":
    main()
