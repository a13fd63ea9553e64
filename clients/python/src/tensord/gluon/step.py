"""``TrainStep``: a whole training step (forward, loss, backward, optimizer update) as one
``run`` request.

The eager MXNet loop (``with autograd.record(): ...; loss.backward(); trainer.step(n)``) works
too, at one request per operator. ``TrainStep`` traces the same blocks into a program instead:

    step = gluon.TrainStep(net, loss_fn, trainer)
    for xb, yb in batches:
        mean_loss = step(xb, yb)          # numpy or NDArray inputs; one request

Inputs already on the server can be batched there: ``step(X, y, rows=idx)`` takes the rows
``idx`` of ``X`` and ``y`` inside the same request (no data upload per step).
"""

import numpy as np

from .._ids import _random_tag
from ..mx import _state
from ..mx.ndarray import NDArray
from .block import Symbol, Tracer

__all__ = ["TrainStep"]


class TrainStep:
    """Callable running ``net``, ``loss_fn``, backward and ``trainer``'s update in one request.

    Returns the mean of the per-sample losses (a float). Arrays made by a step are released at
    the start of the next one.
    """

    def __init__(self, net, loss_fn, trainer):
        self.net = net
        self.loss_fn = loss_fn
        self.trainer = trainer
        self._prefix = "ts%s." % _random_tag()
        self._steps = 0
        self._last = []

    def _input(self, tracer, value, rows):
        if isinstance(value, NDArray):
            sym = tracer.wrap(value)
        else:
            arr = np.asarray(value)
            if arr.dtype != np.float64:
                arr = arr.astype(np.float32)  # MXNet's nd.array default
            aid = tracer.new_id()
            tracer.program.create(arr, dtype=arr.dtype.name, id=aid)
            sym = Symbol(tracer, aid, arr.shape, arr.dtype.name)
        if rows is not None:
            sym = tracer.op("take", [sym, rows], axis=0)
        return sym

    def __call__(self, data, label, batch_size=None, rows=None):
        session = data.session if isinstance(data, NDArray) else _state.session()
        program = session.program()
        self._steps += 1
        tracer = Tracer(program, "%s%d." % (self._prefix, self._steps))
        if self._last:
            program.release(self._last)
        row_sym = None
        if rows is not None:
            rows = np.asarray(rows, dtype=np.float32)
            rid = tracer.new_id()
            program.create(rows, dtype="float32", id=rid)
            row_sym = Symbol(tracer, rid, rows.shape)
        x = self._input(tracer, data, row_sym)
        y = self._input(tracer, label, row_sym)
        with program.scope("record", train_mode=True):
            loss = self.loss_fn(self.net(x), y)
        program.backward([loss])
        n = batch_size if batch_size is not None else (loss.shape[0] if loss.shape else x.shape[0])
        self.trainer.update_steps(program, n)
        mean = tracer.op("mean", [loss])
        result = program.run(fetch=[mean.id])
        self._last = tracer.created
        return float(np.asarray(result["fetched"][mean.id]).reshape(-1)[0])
