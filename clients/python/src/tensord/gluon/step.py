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


class _Template:
    """The traced part of a step: input ids, the steps from ``take`` through ``backward`` and
    the loss mean, and every id those steps create."""

    __slots__ = ("x_id", "y_id", "rows_id", "steps", "mean_id", "batch", "created")


class TrainStep:
    """Callable running ``net``, ``loss_fn``, backward and ``trainer``'s update in one request.

    Returns the mean of the per-sample losses (a float). The forward pass is traced once per
    input signature (shapes, server arrays, parameter arrays) and the traced steps are reused;
    only the batch values and the optimizer's update steps are made anew each call. Arrays
    made by a step are released at the start of the next one.
    """

    def __init__(self, net, loss_fn, trainer):
        self.net = net
        self.loss_fn = loss_fn
        self.trainer = trainer
        self._prefix = "ts%s." % _random_tag()
        self._params = list(net.collect_params().values())
        self._templates = {}
        self._last = []

    @staticmethod
    def _as_input(value):
        """``(NDArray, None)`` or ``(None, float numpy array)``."""
        if isinstance(value, NDArray):
            return value, None
        arr = np.asarray(value)
        if arr.dtype != np.float64:
            arr = arr.astype(np.float32)  # MXNet's nd.array default
        return None, arr

    def _trace(self, session, data, label, rows_len):
        t = _Template()
        program = session.program()
        tracer = Tracer(program, "%s%d." % (self._prefix, len(self._templates)))

        def symbol(nd_value, arr, name):
            if nd_value is not None:
                return tracer.wrap(nd_value), None
            aid = tracer.new_id(name)
            return Symbol(tracer, aid, arr.shape, arr.dtype.name), aid

        x, t.x_id = symbol(*data, "x")
        y, t.y_id = symbol(*label, "y")
        t.rows_id = None
        if rows_len is not None:
            t.rows_id = tracer.new_id("rows")
            rows = Symbol(tracer, t.rows_id, (rows_len,))
            x = tracer.op("take", [x, rows], axis=0)
            y = tracer.op("take", [y, rows], axis=0)
        with program.scope("record", train_mode=True):
            loss = self.loss_fn(self.net(x), y)
        program.backward([loss])
        t.mean_id = tracer.op("mean", [loss]).id
        t.batch = loss.shape[0] if loss.shape else x.shape[0]
        t.steps = program.steps
        t.created = tracer.created
        return t

    def __call__(self, data, label, batch_size=None, rows=None):
        """One training step on ``data``/``label`` (numpy or NDArray), or on their rows
        ``rows`` when given; gradients are scaled by ``1/batch_size`` (default: the batch)."""
        session = data.session if isinstance(data, NDArray) else _state.session()
        data, label = self._as_input(data), self._as_input(label)
        if rows is not None:
            rows = np.asarray(rows, dtype=np.float32)
        key = tuple((v.id, v.shape) if v is not None else a.shape for v, a in (data, label)) + (
            None if rows is None else len(rows),
            tuple(None if p._data is None else p._data.id for p in self._params))
        template = self._templates.get(key)
        if template is None:
            template = self._trace(session, data, label, None if rows is None else len(rows))
            # Tracing may initialise deferred parameters: key on the arrays they have now.
            key = key[:-1] + (tuple(None if p._data is None else p._data.id for p in self._params),)
            self._templates[key] = template
        program = session.program()
        if self._last:
            program.release(self._last)
        for aid, (_, arr) in ((template.x_id, data), (template.y_id, label)):
            if aid is not None:
                program.create(arr, dtype=arr.dtype.name, id=aid)
        if rows is not None:
            program.create(rows, dtype="float32", id=template.rows_id)
        program.steps.extend(template.steps)
        self.trainer.update_steps(program, batch_size if batch_size is not None else template.batch)
        self._last = template.created  # also after a failure: the next step starts clean
        result = program.run(fetch=[template.mean_id])
        return float(np.asarray(result["fetched"][template.mean_id]).reshape(-1)[0])
