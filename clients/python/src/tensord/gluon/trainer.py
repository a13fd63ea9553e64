"""``gluon.Trainer``: applies an optimizer to parameters with the server's update operators.

``step(batch_size)`` sends the updates of all parameters as one ``run`` request. The
optimizers reproduce MXNet 1.9.1's Python layer: ``rescale_grad = 1/batch_size``; SGD uses
``sgd_update`` (momentum 0) or ``sgd_mom_update``; Adam folds its bias correction into the
learning rate, ``lr·sqrt(1−β2^t)/(1−β1^t)``, and calls ``adam_update``.
"""

import math

from ..mx.ndarray import NDArray
from .parameter import ParameterDict, run_program

__all__ = ["Trainer", "SGD", "Adam", "create_optimizer"]


class Optimizer:
    """Common hyper-parameters: ``learning_rate``, ``wd``, ``rescale_grad``, ``clip_gradient``."""

    def __init__(self, learning_rate=0.01, wd=0.0, rescale_grad=1.0, clip_gradient=None,
                 lr_scheduler=None):
        if lr_scheduler is not None:
            raise ValueError("tensord's Trainer does not support lr_scheduler; call "
                             "trainer.set_learning_rate() instead")
        self.lr = float(learning_rate)
        self.wd = float(wd)
        self.rescale_grad = float(rescale_grad)
        self.clip_gradient = clip_gradient
        self._counts = {}

    def _common(self, param):
        kwargs = {"lr": self.lr * param.lr_mult, "wd": self.wd * param.wd_mult,
                  "rescale_grad": self.rescale_grad}
        if self.clip_gradient is not None:
            kwargs["clip_gradient"] = float(self.clip_gradient)
        return kwargs

    def _count(self, index):
        """The update count ``t`` of parameter ``index`` after this update (1 on the first)."""
        self._counts[index] = self._counts.get(index, 0) + 1
        return self._counts[index]

    def state_names(self):
        return ()

    def update_step(self, program, index, param, states):
        raise NotImplementedError


class SGD(Optimizer):
    """SGD with optional momentum (MXNet defaults: learning_rate 0.01, momentum 0)."""

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def state_names(self):
        return ("mom",) if self.momentum != 0.0 else ()

    def update_step(self, program, index, param, states):
        self._count(index)
        w, g = param.data(), param.grad()
        kwargs = self._common(param)
        if self.momentum != 0.0:
            program.op("sgd_mom_update", [w, g, states[0]], dict(kwargs, momentum=self.momentum), out=w)
        else:
            program.op("sgd_update", [w, g], kwargs, out=w)


class Adam(Optimizer):
    """Adam (MXNet defaults: learning_rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def state_names(self):
        return ("mean", "var")

    def update_step(self, program, index, param, states):
        t = self._count(index)
        kwargs = self._common(param)
        kwargs["lr"] *= math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        kwargs.update(beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon)
        w = param.data()
        program.op("adam_update", [w, param.grad(), states[0], states[1]], kwargs, out=w)


_OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def create_optimizer(name, **kwargs):
    cls = _OPTIMIZERS.get(name.lower())
    if cls is None:
        raise ValueError("Cannot find optimizer %s (tensord's Trainer supports: %s)"
                         % (name, ", ".join(sorted(_OPTIMIZERS))))
    return cls(**kwargs)


class Trainer:
    """Applies ``optimizer`` ('sgd', 'adam' or an optimizer object) to ``params``.

    ``params`` is a ParameterDict (``net.collect_params()``), a dict or a list of Parameters;
    those with ``grad_req='null'`` are not updated. Optimizer state lives on the server.
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = list(params.values())
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s."
                             % type(params))
        self._params = []
        seen = set()
        for p in params:
            if id(p) not in seen:
                seen.add(id(p))
                self._params.append(p)
        optimizer_params = dict(optimizer_params or {})
        if isinstance(optimizer, Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an Optimizer object")
            self._optimizer = optimizer
        else:
            self._optimizer = create_optimizer(optimizer, **optimizer_params)
        self._scale = self._optimizer.rescale_grad
        self._states = {}  # index -> list of state NDArrays

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def learning_rate(self):
        return self._optimizer.lr

    def set_learning_rate(self, lr):
        self._optimizer.lr = float(lr)

    def _trainable(self):
        return [(i, p) for i, p in enumerate(self._params) if p.grad_req != "null"]

    def update_steps(self, program, batch_size):
        """Appends the updates of all trainable parameters (state creation the first time)."""
        opt = self._optimizer
        opt.rescale_grad = self._scale / batch_size
        names = opt.state_names()
        for index, param in self._trainable():
            states = self._states.get(index)
            if states is None:
                w = param.data()
                states = []
                for _ in names:
                    sid = program.op("zeros_like", [w])
                    states.append(NDArray(program.session, sid, w._shape, w._dtype))
                self._states[index] = states
            opt.update_step(program, index, param, states)

    def step(self, batch_size, ignore_stale_grad=False):
        """One optimizer step for all parameters, gradients scaled by ``1/batch_size``; one
        ``run`` request."""
        trainable = self._trainable()
        if not trainable:
            return
        session = trainable[0][1].data().session
        program = session.program()
        self.update_steps(program, batch_size)
        run_program(session, program, "trainer.step")

    update = step

    def allreduce_grads(self):
        """Single device: nothing to reduce."""
