"""``mx.autograd``: recording scopes, backward, grad and custom Functions, run by the server."""

import html

from ..client import to_param
from ..errors import TensordError
from . import _state
from .ndarray import NDArray, add_tracer, check_grad_req, remove_tracer

__all__ = ["record", "pause", "train_mode", "predict_mode", "set_recording", "set_training",
           "is_recording", "is_training", "backward", "grad", "mark_variables", "get_symbol",
           "Function", "Symbol"]


class _Scope:
    """A server-side scope: pushed on ``__enter__``, popped on ``__exit__`` (also on errors)."""

    def __init__(self, kind, train_mode=None):
        self._kind = kind
        self._train_mode = train_mode
        self._frames = []

    def __enter__(self):
        s = _state.session()
        if s.pipeline:
            # Queued as a scope step of the next `run`; entered for real (with a client-chosen
            # id, so leaving needs no answer from entering) only if that is sent while open.
            self._frames.append((s, s.enter_scope(self._kind, s.ids.next(), self._train_mode), True))
        else:
            self._frames.append((s, s.push_scope(self._kind, self._train_mode), None))

    def __exit__(self, exc_type, exc, tb):
        s, frame, pipelined = self._frames.pop()
        try:
            if pipelined:
                # If entering failed, so does this; the next sync raises the first failure.
                s.exit_scope(frame)
            else:
                s.pop_scope(frame["id"])
        except TensordError:
            if exc_type is None:
                raise
        return False


def record(train_mode=True):
    """Scope that records operations for differentiation (``with autograd.record():``)."""
    return _Scope("record", train_mode)


def pause(train_mode=False):
    """Scope in which operations are not recorded."""
    return _Scope("pause", train_mode)


def train_mode():
    """Scope that sets is_training (operators like Dropout behave as in training)."""
    return _Scope("train_mode")


def predict_mode():
    """Scope that clears is_training."""
    return _Scope("predict_mode")


def set_recording(is_recording):
    """Sets is_recording; returns the previous value."""
    return _state.session().set_flags(is_recording=is_recording)["previous"]["is_recording"]


def set_training(train_mode):
    """Sets is_training; returns the previous value."""
    return _state.session().set_flags(is_training=train_mode)["previous"]["is_training"]


def is_recording():
    return _state.session().flags()["is_recording"]


def is_training():
    return _state.session().flags()["is_training"]


def _session_of(arrays):
    for a in arrays:
        if isinstance(a, NDArray):
            return a.session
    return _state.session()


def _parse_head(heads, head_grads):
    if isinstance(heads, NDArray):
        heads = [heads]
    if isinstance(head_grads, NDArray):
        head_grads = [head_grads]
    heads = list(heads)
    if head_grads is not None:
        head_grads = list(head_grads)
        assert len(heads) == len(head_grads), \
            "heads and head_grads must be lists of the same length"
    return heads, head_grads


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Computes the gradients of ``heads`` w.r.t. the marked variables into their ``.grad``."""
    heads, head_grads = _parse_head(heads, head_grads)
    s = _session_of(heads)
    if s.pipeline:
        s.queue({"backward": s.backward_body(heads, head_grads, retain_graph, train_mode)}, "backward")
    else:
        s.backward(heads, head_grads, retain_graph=retain_graph, train_mode=train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):
    """Returns the gradients of ``heads`` w.r.t. ``variables`` (always a list), leaving
    ``.grad`` buffers untouched. ``create_graph=True`` records them for higher order."""
    heads, head_grads = _parse_head(heads, head_grads)
    if isinstance(variables, NDArray):
        variables = [variables]
    else:
        assert len(variables), "variables cannot be an empty list."
    variables = list(variables)
    s = _session_of(heads)
    infos = s.grad(heads, variables, head_grads, retain_graph=retain_graph,
                   create_graph=create_graph, train_mode=train_mode,
                   ids=s.ids.take(len(variables)))
    return [NDArray._from_info(s, info) for info in infos]


def mark_variables(variables, gradients, grad_reqs="write"):
    """Marks ``variables`` as differentiable with the caller's own ``gradients`` buffers."""
    if isinstance(variables, NDArray):
        assert isinstance(gradients, NDArray)
        variables = [variables]
        gradients = [gradients]
    variables, gradients = list(variables), list(gradients)
    reqs = grad_reqs if isinstance(grad_reqs, str) else list(grad_reqs)
    for r in ([reqs] if isinstance(reqs, str) else reqs):
        check_grad_req(r)
    _session_of(variables).mark_variables(variables, gradients, reqs)
    for v, g in zip(variables, gradients):
        v._grad = g


class Symbol:
    """The recorded history of an array (``get_symbol``), as returned by the server."""

    def __init__(self, session, head_id, graph):
        self._session = session
        self._head_id = head_id
        self.graph = graph

    def list_arguments(self):
        return list(self.graph.get("arguments") or [])

    def list_outputs(self):
        names = {n["id"]: n["name"] for n in self.graph["nodes"]}
        return ["%s_output" % names.get(h, h) for h in self.graph["heads"]]

    def tojson(self):
        import json
        return json.dumps(self.graph)

    def to_svg(self):
        return self._session.graph(self._head_id, format="svg")

    def to_dot(self):
        return self._session.graph(self._head_id, format="dot")

    def _repr_svg_(self):
        """Jupyter: the graph as SVG drawn by the server (variables the last backward reached are
        highlighted); ``None`` (plain repr) when the server cannot draw it, e.g. a freed graph."""
        try:
            return self.to_svg()
        except TensordError:
            return None

    def _repr_html_(self):
        """Jupyter: the SVG under a caption naming the outputs; ``None`` like ``_repr_svg_``."""
        svg = self._repr_svg_()
        if svg is None:
            return None
        return '<div class="tensord-symbol"><div><code>%s</code></div>%s</div>' % (
            html.escape(repr(self)), svg)

    def __repr__(self):
        return "<Symbol %s>" % ", ".join(self.list_outputs())


def get_symbol(x):
    """The recorded computation that produced ``x``."""
    assert isinstance(x, NDArray), \
        "get_symbol: Invalid argument type, expecting %s, got %s" % (NDArray, type(x))
    return Symbol(x.session, x.id, x.session.graph(x.id))


class _Tracer:
    """Collects the op steps run while tracing a Function, renaming arrays to program names."""

    def __init__(self, names, prefix):
        self.names = names  # real array id -> program name (shared by forward and backward)
        self.prefix = prefix
        self.steps = []
        self.constants = []  # arrays used but not produced by the trace: keep them alive
        self._n = 0

    def _name(self, array):
        name = self.names.get(array.id)
        if name is None:
            self.constants.append(array)
            name = self.names[array.id] = array.id
        return name

    def record(self, op, inputs, params, out, outputs):
        step = {"op": op, "inputs": [self._name(a) for a in inputs]}
        if params:
            step["params"] = {k: to_param(v) for k, v in params.items()}
        if out is not None:
            step["out"] = [self._name(a) for a in out]
        else:
            fresh = []
            for a in outputs:
                name = "%s%d" % (self.prefix, self._n)
                self._n += 1
                self.names[a.id] = name
                fresh.append(name)
            if len(fresh) == 1:
                step["id"] = fresh[0]
            else:
                step["ids"] = fresh
        self.steps.append(step)


class Function:
    """A custom differentiable function (MXNet ``autograd.Function``).

    Subclass it and write ``forward(*inputs)`` and ``backward(*output_grads)`` with NDArray
    operations. On the (single) call both are traced once, by running them on the actual
    inputs and on placeholder head gradients with recording off, into server-side programs;
    the server then runs the forward and records one custom node whose backward program it
    executes during ``backward`` with no call back to the client.
    """

    def __init__(self):
        self._used = False
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        self.saved_tensors = args

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError

    def __call__(self, *inputs):
        assert not self._used, \
            "Each Function instance can only be called once. Please create another instance."
        self._used = True
        for x in inputs:
            if not isinstance(x, NDArray):
                raise TypeError("autograd.Function inputs must be NDArrays, got %s" % type(x).__name__)
        s = _session_of(inputs)
        names = {x.id: "in%d" % i for i, x in enumerate(inputs)}

        # Trace the forward on the actual inputs, with recording off (as MXNet runs it).
        forward_tracer = _Tracer(names, "f")
        was_recording = s.set_flags(is_recording=False)["previous"]["is_recording"]
        try:
            add_tracer(forward_tracer)
            try:
                outputs = self.forward(*inputs)
            finally:
                remove_tracer(forward_tracer)
            single = isinstance(outputs, NDArray)
            outs = [outputs] if single else list(outputs)
            for o in outs:
                assert isinstance(o, NDArray), \
                    "autograd.Function.forward must return NDArrays, not %s" % type(o)

            # Trace the backward on placeholder head gradients (ones of the outputs' shapes). The
            # server runs it with the forward's local names visible, so saved tensors resolve.
            from . import nd
            placeholders = [nd.ones(o.shape, dtype=o.dtype) for o in outs]
            for i, p in enumerate(placeholders):
                names[p.id] = "og%d" % i
            backward_tracer = _Tracer(names, "b")
            add_tracer(backward_tracer)
            try:
                grads = self.backward(*placeholders)
            finally:
                remove_tracer(backward_tracer)
        finally:
            if was_recording:
                s.set_flags(is_recording=True)
        grads = [grads] if isinstance(grads, NDArray) else list(grads)
        for g in grads:
            assert isinstance(g, NDArray), \
                "autograd.Function.backward must return NDArrays, not %s" % type(g)
        if len(grads) != len(inputs):
            raise ValueError("%s.backward returned %d gradients, expected %d (one per input)"
                             % (type(self).__name__, len(grads), len(inputs)))

        forward_program = {"inputs": ["in%d" % i for i in range(len(inputs))],
                           "steps": forward_tracer.steps,
                           "outputs": [forward_tracer._name(o) for o in outs]}
        backward_program = {"inputs": ["og%d" % i for i in range(len(outs))],
                            "steps": backward_tracer.steps,
                            "outputs": [backward_tracer._name(g) for g in grads]}
        self._constants = forward_tracer.constants + backward_tracer.constants
        fid = s.define_function(forward_program, backward_program)
        infos = s.call_function(fid, inputs, ids=s.ids.take(len(outs)))
        results = [NDArray._from_info(s, info) for info in infos]
        return results[0] if single else tuple(results)
