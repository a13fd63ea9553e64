"""Helper of scripts/bench-train.sh: the same MLP trained by MXNet 1.9.1 and by tensord.

    python3 scripts/bench_train.py prepare DATA.npz          # needs scikit-learn
    <mxnet venv python> scripts/bench_train.py run DATA.npz  # needs mxnet, TENSORD_URL

``prepare`` writes the digits split (examples/_digits.py) and initial weights drawn with
numpy (Xavier-uniform, seeded). ``run`` trains the MLP (64-128-10, ReLU, softmax
cross-entropy, SGD lr 0.05 momentum 0.9, batch 32) from those weights with the same batch
order: with MXNet Gluon in-process (imperative, then hybridized) and with tensord through
the Python client (``gluon.TrainStep``: one request per step; and, for reference, the eager
MXNet-style loop, at one request per operator waiting for each, or pipelined: operators queued
and sent as batched ``run`` requests). Rounds
alternate so machine load hits all alike; the time per epoch is the median over all epochs
after the first of each round.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HIDDEN, CLASSES, BATCH, EPOCHS, LR, MOMENTUM, SEED = 128, 10, 32, 20, 0.05, 0.9, 0


def prepare(path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
    import _digits
    X_train, X_test, y_train, y_test = _digits.load(seed=SEED)
    rng = np.random.RandomState(SEED)

    def xavier(out_units, in_units):
        scale = np.sqrt(3.0 / ((in_units + out_units) / 2.0))
        return rng.uniform(-scale, scale, size=(out_units, in_units)).astype(np.float32)

    d = X_train.shape[1] * X_train.shape[2]
    np.savez(path, X_train=X_train.reshape(len(X_train), d), X_test=X_test.reshape(len(X_test), d),
             y_train=y_train, y_test=y_test, w0=xavier(HIDDEN, d), b0=np.zeros(HIDDEN, np.float32),
             w1=xavier(CLASSES, HIDDEN), b1=np.zeros(CLASSES, np.float32))


def epoch_orders(n):
    rng = np.random.RandomState(SEED + 1)
    return [[order[i:i + BATCH] for i in range(0, n, BATCH)]
            for order in (rng.permutation(n) for _ in range(EPOCHS))]


def train_mxnet(data, hybridize):
    import mxnet as mx
    from mxnet import autograd, gluon, nd
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(HIDDEN, activation="relu", in_units=data["w0"].shape[1]),
            gluon.nn.Dense(CLASSES, in_units=HIDDEN))
    net.initialize()
    for p, key in zip(net.collect_params().values(), ("w0", "b0", "w1", "b1")):
        p.set_data(nd.array(data[key]))
    if hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR, "momentum": MOMENTUM})
    X, y = data["X_train"], data["y_train"]
    times, losses = [], []
    for batches in epoch_orders(len(X)):
        start = time.perf_counter()
        total = 0.0
        for rows in batches:
            xb, yb = nd.array(X[rows]), nd.array(y[rows])
            with autograd.record():
                loss = loss_fn(net(xb), yb)
            loss.backward()
            trainer.step(len(rows))
            total += loss.sum().asscalar()
        times.append(time.perf_counter() - start)
        losses.append(total / len(X))
    pred = net(nd.array(data["X_test"])).argmax(axis=1).asnumpy()
    return times, losses, float((pred == data["y_test"]).mean())


def train_tensord(data, fused, pipelined=False):
    from tensord import gluon, mx
    from tensord.mx import autograd, nd
    mx.reset(os.environ.get("TENSORD_URL"))
    mx.set_pipelining(pipelined)
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(HIDDEN, activation="relu", in_units=data["w0"].shape[1]),
            gluon.nn.Dense(CLASSES, in_units=HIDDEN))
    net.initialize()
    for p, key in zip(net.collect_params().values(), ("w0", "b0", "w1", "b1")):
        p.set_data(data[key])
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR, "momentum": MOMENTUM})
    step = gluon.TrainStep(net, loss_fn, trainer)
    X, y = data["X_train"], data["y_train"]
    Xs, ys = nd.array(X), nd.array(y)  # the training set is uploaded once
    times, losses = [], []
    for batches in epoch_orders(len(X)):
        start = time.perf_counter()
        total = 0.0
        for rows in batches:
            if fused:
                total += step(Xs, ys, rows=rows) * len(rows)
            else:
                with autograd.record():
                    loss = loss_fn(net(Xs[rows]), ys[rows])
                loss.backward()
                trainer.step(len(rows))
                total += loss.sum().asscalar()
        times.append(time.perf_counter() - start)
        losses.append(total / len(X))
    pred = net(nd.array(data["X_test"])).argmax(axis=1).asnumpy()
    accuracy = float((pred == data["y_test"]).mean())
    mx.reset()
    return times, losses, accuracy


def run(path, rounds):
    import mxnet
    data = dict(np.load(path))
    runs = {"mxnet": [], "mxnet-hybrid": [], "tensord": [], "tensord-eager": [], "tensord-eager-pl": []}
    trainers = {"mxnet": lambda: train_mxnet(data, False), "mxnet-hybrid": lambda: train_mxnet(data, True),
                "tensord": lambda: train_tensord(data, True), "tensord-eager": lambda: train_tensord(data, False),
                "tensord-eager-pl": lambda: train_tensord(data, False, pipelined=True)}
    for r in range(rounds):
        for name in (runs if r % 2 == 0 else reversed(list(runs))):
            runs[name].append(trainers[name]())
    summary = {}
    for name, results in runs.items():
        epochs = [t for times, _, _ in results for t in times[1:]]
        accuracy = results[-1][2]
        summary[name] = (statistics.median(epochs), accuracy, results[-1][1][-1])
        print("%-16s time/epoch median %.4f s (min %.4f)  final loss %.4f  test accuracy %.2f%%"
              % (name, summary[name][0], min(epochs), summary[name][2], 100 * accuracy))
    # The peer is MXNet's faster mode (normally hybridized).
    peer = min(("mxnet", "mxnet-hybrid"), key=lambda k: summary[k][0])
    t, p = summary["tensord"], summary[peer]
    print("tensord (TrainStep, 1 request/step) vs MXNet %s (%s): time/epoch ratio %.2f "
          "(tensord/MXNet), accuracy %.2f%% vs %.2f%% (diff %.2f points)"
          % (mxnet.__version__, peer, t[0] / p[0], 100 * t[1], 100 * p[1], 100 * abs(t[1] - p[1])))
    peer_name = "MXNet %s%s" % (mxnet.__version__, " hybridized" if peer == "mxnet-hybrid" else "")
    bench = [
        {"name": "digits MLP time/epoch", "unit": "s", "tensord": round(t[0], 5), "peer": round(p[0], 5),
         "peer_name": peer_name, "higher_is_better": False, "target": 1.0, "target_text": "<= MXNet"},
        {"name": "digits MLP test accuracy", "unit": "%", "tensord": round(100 * t[1], 2),
         "peer": round(100 * p[1], 2), "peer_name": peer_name, "higher_is_better": True,
         "target": 1.0, "target_text": "within 1 point of MXNet"},
    ]
    for line in bench:
        print("BENCH " + json.dumps(line))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["prepare", "run"])
    parser.add_argument("data")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.data)
    else:
        run(args.data, args.rounds)


if __name__ == "__main__":
    main()
