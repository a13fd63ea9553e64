"""``Parameter`` and ``ParameterDict``: named weights that live in a tensord session.

A parameter's values and gradient buffer are server arrays; ``data()`` and ``grad()`` return
``mx.nd.NDArray`` handles to them. Creating, zeroing, saving and loading many parameters
costs one batched ``run`` request, not one per parameter.
"""

import collections

import numpy as np

from .. import _codec
from ..mx import _state
from ..mx.ndarray import NDArray, check_grad_req
from . import init as _init

__all__ = ["Parameter", "ParameterDict", "DeferredInitializationError", "run_program"]


class DeferredInitializationError(RuntimeError):
    """A parameter's shape is not known yet: it is initialised at the first forward pass."""


def run_program(session, program, what, fetch=None):
    """Runs ``program`` in one request; on a pipelining session (and without ``fetch``) it is
    sent without waiting for the answer. Returns the ``run`` result, or None when pipelined."""
    if not program.steps:
        return None
    if getattr(session, "pipeline", False) and not fetch:
        session.submit("POST", "/run", program.to_json(), what)
        return None
    return session.run(program.steps, fetch)


def _known(shape):
    return shape is not None and all(int(d) > 0 for d in shape)


class Parameter:
    """A weight of a Block (MXNet's ``gluon.Parameter``).

    ``shape`` may contain 0 for dimensions inferred at the first forward pass (deferred
    initialisation); ``init`` overrides the block's initializer for this parameter.
    """

    def __init__(self, name, grad_req="write", shape=None, dtype="float32", lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True):
        check_grad_req(grad_req)
        self.name = name
        self._shape = None if shape is None else tuple(int(d) for d in (
            (shape,) if isinstance(shape, int) else shape))
        self.dtype = _codec.dtype_name(dtype)
        self.lr_mult = float(lr_mult)
        self.wd_mult = float(wd_mult)
        self.init = _init.create(init)
        self.allow_deferred_init = allow_deferred_init
        self._differentiable = differentiable
        self._grad_req = grad_req if differentiable else "null"
        self._data = None
        self._grad = None
        self._deferred = None  # the global initializer waiting for the shape

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self._shape, np.dtype(self.dtype).name)

    # -- shape and flags --------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = tuple(int(d) for d in new_shape)
        if self._shape is not None:
            ok = len(new_shape) == len(self._shape) and all(
                o == 0 or o == n for o, n in zip(self._shape, new_shape))
            if not ok:
                raise AssertionError("Expected shape %s is incompatible with given shape %s for "
                                     "Parameter %s" % (new_shape, self._shape, self.name))
        self._shape = new_shape

    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        check_grad_req(req)
        if not self._differentiable:
            req = "null"
        if req == self._grad_req:
            return
        self._grad_req = req
        if self._data is not None:
            if req == "null":
                self._grad = None
                self._data._grad = None
                # Re-mark without a gradient buffer: attach with grad_req null.
                self._data.session.attach_grad(self._data, "null")
            else:
                self._data.attach_grad(req)
                self._grad = self._data._grad

    @property
    def initialized(self):
        return self._data is not None

    # -- values -------------------------------------------------------------------------------
    def _check(self):
        if self._data is not None:
            return
        if self._deferred is not None:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was "
                "deferred. Actual initialization happens during the first forward pass. Please "
                "pass one batch of data through the network before accessing Parameters."
                % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize "
            "parameters and create Trainer with Block.collect_params() instead of Block.params "
            "because the later does not include Parameters of nested child Blocks" % self.name)

    def data(self, ctx=None):
        """The values (an ``NDArray`` handle to the server array)."""
        self._check()
        return self._data

    def list_data(self):
        return [self.data()]

    def grad(self, ctx=None):
        """The gradient buffer (an ``NDArray``); error when ``grad_req`` is ``'null'``."""
        self._check()
        if self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        return self._grad

    def list_grad(self):
        return [self.grad()]

    def list_ctx(self):
        from ..mx.context import cpu
        return [cpu()]

    def set_data(self, data):
        """Overwrites the values (numpy array, list or NDArray of the parameter's shape)."""
        if isinstance(data, NDArray):
            data = data.asnumpy()
        arr = np.asarray(data, dtype=self.dtype)
        if self._data is None:
            self.shape = arr.shape
            self._deferred = None
            session = _state.session()
            p = session.program()
            self._create_steps(p, arr)
            run_program(session, p, "set_data %s" % self.name)
            return
        if arr.shape != self._shape:
            raise AssertionError("Expected shape %s is incompatible with given shape %s for "
                                 "Parameter %s" % (arr.shape, self._shape, self.name))
        self._data.session.put_data(self._data, arr)

    def zero_grad(self):
        """Sets the gradient buffer to zero."""
        if self._grad is not None:
            p = self._grad.session.program()
            self._zero_grad_step(p)
            run_program(self._grad.session, p, "zero_grad")

    def _zero_grad_step(self, program):
        if self._grad is not None:
            program.op("zeros_like", [self._grad], out=self._grad)

    # -- initialisation -----------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=None, force_reinit=False):
        """Initialises this parameter (one request); see ``ParameterDict.initialize``."""
        params = ParameterDict()
        params._params[self.name] = self
        params.initialize(init if init is not None else default_init, ctx, force_reinit=force_reinit)

    def _plan(self, default_init, force_reinit):
        """Marks the parameter for initialisation; True when it can be created now."""
        if self._data is not None and not force_reinit:
            return False
        if not _known(self._shape):
            if not self.allow_deferred_init:
                raise ValueError("Cannot initialize Parameter '%s' because it has invalid "
                                 "shape: %s." % (self.name, self._shape))
            self._data = self._grad = None
            self._deferred = default_init
            return False
        self._deferred = default_init
        return True

    def _finish_deferred_init(self, session=None):
        """Creates the parameter once its shape is known (called by the owning layer)."""
        if self._data is not None or self._deferred is None:
            return
        if not _known(self._shape):
            raise DeferredInitializationError(
                "Parameter '%s' still has an unknown shape %s" % (self.name, self._shape))
        session = session or _state.session()
        p = session.program()
        self._init_steps(p)
        run_program(session, p, "initialize %s" % self.name)

    def _init_steps(self, program):
        """Adds the steps that create the values (and gradient) from the pending initializer."""
        default = self._deferred if self._deferred is not None else _init.Uniform()
        if self.init is not None:
            spec = self.init.weight_step(self.name, self._shape)
        else:
            spec = default.step(self.name, self._shape)
        self._deferred = None
        self._create_steps(program, spec)

    def _create_steps(self, program, spec):
        """``spec``: ``(op, params)`` drawing the values on the server, or a numpy array."""
        session = program.session
        pid = session.ids.next()
        if isinstance(spec, tuple):
            op, params = spec
            program.op(op, [], dict(params, dtype=self.dtype), id=pid)
        else:
            program.create(np.asarray(spec, dtype=self.dtype), dtype=self.dtype, id=pid)
        self._data = NDArray(session, pid, self._shape, self.dtype)
        self._grad = None
        if self._grad_req != "null":
            gid = session.ids.next()
            program.op("zeros_like", [pid], id=gid)
            program.mark_variables([pid], [gid], self._grad_req)
            self._grad = NDArray(session, gid, self._shape, self.dtype)
            self._data._grad = self._grad


class ParameterDict:
    """An ordered mapping from full names (``dense0_weight``) to :class:`Parameter`."""

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = collections.OrderedDict()
        self._shared = shared

    @property
    def prefix(self):
        return self._prefix

    def __repr__(self):
        body = "\n".join("  %r" % p for p in self.values())
        return "%s(\n%s\n)" % (self._prefix + " " if self._prefix else "", body)

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def get(self, name, **kwargs):
        """The parameter ``prefix + name``, created with ``kwargs`` if it does not exist."""
        full = self._prefix + name
        param = self._params.get(full)
        if param is None and self._shared is not None:
            param = self._shared._params.get(full)
        if param is None:
            param = Parameter(full, **kwargs)
        self._params[full] = param
        return param

    def update(self, other):
        for k, v in other.items():
            if k in self._params and self._params[k] is not v:
                raise ValueError("Cannot update self with other because they have different "
                                 "Parameters with the same name '%s'" % k)
            self._params[k] = v

    def setattr(self, name, value):
        """Sets attribute ``name`` (``grad_req``, ``lr_mult``, ``wd_mult``) on every parameter."""
        for p in self.values():
            setattr(p, name, value)

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialises every parameter whose shape is known in one request; the others when
        their layer first sees data. ``init`` defaults to ``Uniform()`` (as in MXNet)."""
        init = _init.create(init) or _init.Uniform()
        ready = [p for p in self.values() if p._plan(init, force_reinit)]
        if not ready:
            return
        session = _state.session()
        p = session.program()
        for param in ready:
            param._init_steps(p)
        run_program(session, p, "initialize")

    def zero_grad(self):
        """Zeroes every gradient buffer in one request."""
        by_session = collections.OrderedDict()
        for param in self.values():
            if param._grad is not None:
                by_session.setdefault(param._grad.session, []).append(param)
        for session, params in by_session.items():
            p = session.program()
            for param in params:
                param._zero_grad_step(p)
            run_program(session, p, "zero_grad")

    def save(self, filename, strip_prefix=""):
        """Saves the values to ``filename`` as ``.npz`` (keys: names without ``strip_prefix``)."""
        arrays = {}
        for name, param in self.items():
            if strip_prefix and not name.startswith(strip_prefix):
                raise ValueError("Prefix '%s' is to be striped before saving, but Parameter's "
                                 "name '%s' does not start with '%s'." % (strip_prefix, name, strip_prefix))
            arrays[name[len(strip_prefix):]] = param
        save_npz(filename, arrays)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix=""):
        """Loads values saved by :meth:`save` (names get ``restore_prefix`` prepended)."""
        loaded = {restore_prefix + k: v for k, v in load_npz(filename).items()}
        assign_loaded(dict(self.items()), loaded, filename, allow_missing, ignore_extra)


def fetch_values(params):
    """The values of ``params`` (a list of initialised Parameters) as numpy, in one request."""
    by_session = collections.OrderedDict()
    for param in params:
        by_session.setdefault(param.data().session, []).append(param)
    values = {}
    for session, group in by_session.items():
        fetched = session.run([], fetch=[q.data().id for q in group])["fetched"]
        for q in group:
            values[q.name] = np.asarray(fetched[q.data().id]).reshape(q.shape)
    return [values[q.name] for q in params]


def save_npz(filename, named):
    """Writes ``{key: Parameter}`` to an ``.npz`` file (exactly ``filename``, no suffix added)."""
    for key, param in named.items():
        param._check()
    keys = list(named)
    values = fetch_values([named[k] for k in keys])
    with open(filename, "wb") as f:
        np.savez(f, **dict(zip(keys, values)))


def load_npz(filename):
    with np.load(filename, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def assign_loaded(targets, loaded, filename, allow_missing, ignore_extra):
    """Writes ``loaded`` values into the Parameters ``targets`` (same keys) in one request."""
    if not allow_missing:
        for key in targets:
            if key not in loaded:
                raise AssertionError("Parameter '%s' is missing in file '%s', which contains "
                                     "parameters: %s. Set allow_missing=True to ignore missing "
                                     "parameters." % (key, filename, _brief(loaded)))
    if not ignore_extra:
        for key in loaded:
            if key not in targets:
                raise AssertionError("Parameter '%s' loaded from file '%s' is not present in "
                                     "this block. Set ignore_extra=True to ignore. " % (key, filename))
    session = _state.session()
    program = session.program()
    for key, param in targets.items():
        if key not in loaded:
            continue
        value = np.asarray(loaded[key], dtype=param.dtype)
        if param._data is None:
            param.shape = value.shape
            param._deferred = None
            param._create_steps(program, value)
        else:
            if value.shape != param.shape:
                raise AssertionError("Failed loading Parameter '%s' from saved params: shape "
                                     "incompatible expected %s vs saved %s"
                                     % (key, param.shape, value.shape))
            program.assign(param._data, value)
    run_program(session, program, "load_parameters")


def _brief(d):
    names = list(d)
    return ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")

