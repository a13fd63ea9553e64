"""Shared by the digits examples and the training benchmark: data, batching, progress bar.

The data is scikit-learn's bundled handwritten digits (1,797 8x8 images, no download), pixel
values scaled to [0, 1], split 80/20 stratified with a fixed seed.
"""

import argparse
import json
import sys
import time

import numpy as np


def load(seed=0, test_size=0.2):
    """``(X_train, X_test, y_train, y_test)``; X of shape (N, 8, 8) float32, y float32 labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.float32)
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


def batches(n, batch_size, rng):
    """Shuffled row indices of one epoch, in batches (the last may be smaller)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


class Progress:
    """A plain-text progress bar for one epoch; ``done`` prints the epoch's mean loss."""

    def __init__(self, epoch, epochs, total, width=30, stream=sys.stdout):
        self.epoch, self.epochs, self.total, self.width, self.stream = epoch, epochs, total, width, stream
        self.count, self.loss_sum, self.start = 0, 0.0, time.perf_counter()
        self.live = stream.isatty()

    def _bar(self):
        filled = int(self.width * self.count / max(self.total, 1))
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def update(self, loss):
        self.count += 1
        self.loss_sum += loss
        if self.live:
            self.stream.write("\repoch %*d/%d %s loss %.4f" % (len(str(self.epochs)), self.epoch, self.epochs,
                                                               self._bar(), self.loss_sum / self.count))
            self.stream.flush()

    def done(self, extra=""):
        elapsed = time.perf_counter() - self.start
        line = "epoch %*d/%d %s loss %.4f  %.2fs%s" % (len(str(self.epochs)), self.epoch, self.epochs,
                                                      self._bar(), self.loss_sum / max(self.count, 1),
                                                      elapsed, extra)
        self.stream.write(("\r" if self.live else "") + line + "\n")
        self.stream.flush()
        return elapsed


def arguments(description, epochs, batch_size):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eager", action="store_true",
                        help="train with the MXNet-style loop (one request per operator) instead "
                             "of gluon.TrainStep (one request per training step)")
    return parser.parse_args()


def report(model, accuracy, seconds, epochs, **extra):
    """The parseable result line: ``RESULT {"model": ..., "test_accuracy": ...}``."""
    print("RESULT " + json.dumps(dict({"model": model, "test_accuracy": round(float(accuracy), 4),
                                       "train_seconds": round(seconds, 3), "epochs": epochs}, **extra)))
