"""``Block``, ``HybridBlock``, ``Sequential`` and the tracer that turns a forward pass into
steps of a batched ``run`` program.

A ``HybridBlock`` computes in ``hybrid_forward(F, x, **params)``. Called with ``mx.nd.NDArray``
inputs, ``F`` is ``mx.nd`` and every operator runs at once (one request each, or pipelined).
Called with :class:`Symbol` inputs (inside :class:`tensord.gluon.TrainStep`), ``F`` is a
:class:`Tracer` that appends the same operators to a program, so a whole training step is
sent as one request.
"""

import collections
import re
import threading

from ..mx import nd as _nd
from ..mx.ndarray import NDArray
from . import init as _init
from ._shapes import infer_shape
from .parameter import Parameter, ParameterDict, assign_loaded, load_npz, save_npz

__all__ = ["Block", "HybridBlock", "Sequential", "HybridSequential", "Symbol", "Tracer"]

_tls = threading.local()
_global_counts = collections.Counter()
_global_lock = threading.Lock()


class _BlockScope:
    """Name scope of a block: children created inside get ``<parent prefix><hint><n>_``."""

    def __init__(self, block):
        self._block = block
        self._counter = collections.Counter()
        self._old = None

    @staticmethod
    def create(prefix, params, hint):
        current = getattr(_tls, "scope", None)
        if current is None:
            if prefix is None:
                with _global_lock:
                    n = _global_counts[hint]
                    _global_counts[hint] += 1
                prefix = "%s%d_" % (hint, n)
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            n = current._counter[hint]
            current._counter[hint] += 1
            prefix = "%s%d_" % (hint, n)
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old = getattr(_tls, "scope", None)
        _tls.scope = self
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return
        _tls.scope = self._old


class Block:
    """Base class of layers and models (MXNet's ``gluon.Block``).

    Children assigned as attributes (or added with ``register_child``) and parameters created
    with ``self.params.get`` are tracked; names follow MXNet (``dense0_weight``).
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = collections.OrderedDict()
        self._reg_params = collections.OrderedDict()

    def _alias(self):
        return self.__class__.__name__.lower()

    def __setattr__(self, name, value):
        if isinstance(value, Block):
            self.__dict__.setdefault("_children", collections.OrderedDict())[name] = value
        elif isinstance(value, Parameter):
            self.__dict__.setdefault("_reg_params", collections.OrderedDict())[name] = value
        elif value is None and name in self.__dict__.get("_reg_params", {}):
            del self._reg_params[name]
        object.__setattr__(self, name, value)

    def __repr__(self):
        lines = ["%s(" % self.__class__.__name__]
        for key, child in self._children.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append("  (%s): %s" % (key, text))
        return "\n".join(lines) + "\n)" if len(lines) > 1 else lines[0] + ")"

    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        return self._name

    @property
    def params(self):
        """This block's own ParameterDict (not its children's)."""
        return self._params

    def name_scope(self):
        """``with self.name_scope():`` names children created inside after this block."""
        return self._scope

    def register_child(self, block, name=None):
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def collect_params(self, select=None):
        """All parameters of this block and its children; ``select`` is a regex on names."""
        ret = ParameterDict(self._params.prefix)
        pattern = re.compile(select) if select else None
        for name, p in self._all_params():
            if pattern is None or pattern.match(name):
                ret._params[name] = p
        return ret

    def _all_params(self):
        seen = collections.OrderedDict()
        for name, p in self._params.items():
            seen[name] = p
        for p in self._reg_params.values():
            seen.setdefault(p.name, p)
        for child in self._children.values():
            for name, p in child._all_params():
                seen.setdefault(name, p)
        return list(seen.items())

    def _collect_params_with_prefix(self, prefix=""):
        """Structural names (``0.weight``, ``fc1.bias``) as ``save_parameters`` writes them."""
        if prefix:
            prefix += "."
        ret = collections.OrderedDict((prefix + k, v) for k, v in self._reg_params.items())
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialises all parameters (one request); unknown shapes wait for the first call.

        ``init`` defaults to ``Uniform()``, MXNet's default."""
        self.collect_params().initialize(init if init is not None else _init.Uniform(), ctx,
                                         verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Accepted for compatibility; a no-op (``TrainStep`` batches a whole step instead)."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def save_parameters(self, filename, deduplicate=False):
        """Saves the parameter values to ``filename`` as ``.npz`` (``numpy.load`` reads it);
        keys are structural names such as ``0.weight``."""
        save_npz(filename, self._collect_params_with_prefix())

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current"):
        """Loads values written by :meth:`save_parameters` (one request)."""
        assign_loaded(self._collect_params_with_prefix(), load_npz(filename), filename,
                      allow_missing, ignore_extra)

    def apply(self, fn):
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, *args):
        raise NotImplementedError


class HybridBlock(Block):
    """A block whose computation is ``hybrid_forward(F, x, *args, **params)``."""

    def infer_shape(self, *args):
        """Sets unknown parameter shapes from the inputs (layers with deferred shapes override)."""

    def forward(self, x, *args):
        if isinstance(x, Symbol):
            F = x.tracer
        elif isinstance(x, NDArray):
            F = _nd
        else:
            raise TypeError("HybridBlock expects NDArray (or traced Symbol) inputs, got %s"
                            % type(x).__name__)
        params = list(self._reg_params.items())
        pending = [p for _, p in params if p._data is None and p._deferred is not None]
        if pending:
            self.infer_shape(x, *args)
            for p in pending:
                p._finish_deferred_init(x.session if isinstance(x, NDArray) else x.tracer.session)
        if F is _nd:
            kwargs = {name: p.data() for name, p in params}
        else:
            kwargs = {name: F.param(p) for name, p in params}
        return self.hybrid_forward(F, x, *args, **kwargs)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


class Sequential(Block):
    """Stacks blocks; ``forward`` runs them in order."""

    def add(self, *blocks):
        for block in blocks:
            self.register_child(block)

    def forward(self, x):
        for block in self._children.values():
            x = block(x)
        return x

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = type(self)(prefix=self._prefix)
            with net.name_scope():
                net.add(*layers)
            return net
        return layers

    def __len__(self):
        return len(self._children)


class HybridSequential(Sequential, HybridBlock):
    """Same as :class:`Sequential` (``hybridize`` is a no-op here)."""


class Symbol:
    """A traced array: the id it will have in the program, its shape and dtype."""

    __slots__ = ("tracer", "id", "shape", "dtype")

    def __init__(self, tracer, aid, shape, dtype="float32"):
        self.tracer = tracer
        self.id = aid
        self.shape = None if shape is None else tuple(shape)
        self.dtype = dtype

    @property
    def session(self):
        return self.tracer.session

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return "<Symbol %s %s>" % (self.id, self.shape)

    def _bin(self, other, array_op, scalar_op):
        if isinstance(other, Symbol):
            return self.tracer.op(array_op, [self, other])
        return self.tracer.op(scalar_op, [self], scalar=float(other))

    def __add__(self, o): return self._bin(o, "broadcast_add", "_plus_scalar")
    def __radd__(self, o): return self._bin(o, "broadcast_add", "_plus_scalar")
    def __sub__(self, o): return self._bin(o, "broadcast_sub", "_minus_scalar")
    def __rsub__(self, o): return self.tracer.op("_rminus_scalar", [self], scalar=float(o))
    def __mul__(self, o): return self._bin(o, "broadcast_mul", "_mul_scalar")
    def __rmul__(self, o): return self._bin(o, "broadcast_mul", "_mul_scalar")
    def __truediv__(self, o): return self._bin(o, "broadcast_div", "_div_scalar")
    def __rtruediv__(self, o): return self.tracer.op("_rdiv_scalar", [self], scalar=float(o))
    def __neg__(self): return self.tracer.op("negative", [self])

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        return self.tracer.op("reshape", [self], shape=tuple(shape))


class Tracer:
    """The ``F`` of traced forward passes: ``F.<op>(inputs..., **params)`` appends an op step
    to ``program`` and returns a :class:`Symbol` (shape inferred for the ops layers use).

    Every array the trace creates is listed in ``created`` so the caller can release them.
    """

    def __init__(self, program, id_prefix):
        self.program = program
        self.session = program.session
        self._prefix = id_prefix
        self._n = 0
        self.created = []

    def new_id(self, suffix=""):
        self._n += 1
        aid = "%s%d%s" % (self._prefix, self._n, suffix)
        self.created.append(aid)
        return aid

    def param(self, p):
        """A parameter's server array as an input of traced ops."""
        data = p.data()
        return Symbol(self, data.id, data._shape, data._dtype)

    def wrap(self, x):
        """An ``NDArray`` (or Symbol) as a traced input."""
        if isinstance(x, Symbol):
            return x
        if isinstance(x, NDArray):
            return Symbol(self, x.id, x.shape, x._dtype)
        raise TypeError("traced operators take arrays, got %s" % type(x).__name__)

    def op(self, name, inputs, n_outputs=1, **params):
        syms = [self.wrap(i) for i in inputs if i is not None]
        shapes = infer_shape(name, [s.shape for s in syms], params)
        dtype = params.get("dtype")
        if not isinstance(dtype, str):
            dtype = syms[0].dtype if syms else "float32"
        ids = [self.new_id() for _ in range(n_outputs)]
        self.program.op(name, [s.id for s in syms], params, ids=ids)
        outs = [Symbol(self, i, shapes[k] if k < len(shapes) else None, dtype)
                for k, i in enumerate(ids)]
        return outs[0] if n_outputs == 1 else outs

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def fn(*args, **params):
            params.pop("name", None)
            inputs = []
            args = list(args)
            while args and (args[0] is None or isinstance(args[0], (Symbol, NDArray))):
                inputs.append(args.pop(0))
            if args:
                raise TypeError("traced %s: pass parameters by keyword" % name)
            return self.op(name, inputs, **params)

        fn.__name__ = name
        return fn

