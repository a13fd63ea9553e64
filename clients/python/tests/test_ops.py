"""Operator results and gradients through ``tensord.mx`` against numpy closed forms."""

import numpy as np
import pytest

from tensord.mx import autograd, nd

pytestmark = pytest.mark.usefixtures("mxs")

RNG = np.random.default_rng(7)
X = RNG.uniform(0.2, 0.9, size=(3, 4)).astype(np.float32)           # inside every domain used below

XS = X - 0.55                                      # mixed signs, no zeros

# (name, input, forward, derivative) for elementwise unary ops.
UNARY = [
    ("exp", X, np.exp, np.exp),
    ("log", X, np.log, lambda x: 1 / x),
    ("sqrt", X, np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    ("square", XS, np.square, lambda x: 2 * x),
    ("sin", XS, np.sin, np.cos),
    ("cos", XS, np.cos, lambda x: -np.sin(x)),
    ("tanh", XS, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("sigmoid", XS, lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("relu", XS, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(np.float64)),
    ("reciprocal", X, lambda x: 1 / x, lambda x: -1 / x ** 2),
    ("abs", XS, np.abs, np.sign),
    ("log1p", X, np.log1p, lambda x: 1 / (1 + x)),
    ("expm1", XS, np.expm1, np.exp),
    ("negative", XS, np.negative, lambda x: -np.ones_like(x)),
]


def grad_of(fn, *values):
    arrays = [nd.array(v) for v in values]
    for a in arrays:
        a.attach_grad()
    with autograd.record():
        out = fn(*arrays)
    out.backward()
    return out.asnumpy(), [a.grad.asnumpy() for a in arrays]


@pytest.mark.parametrize("name,x,forward,derivative", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward_and_gradient(name, x, forward, derivative):
    out, (g,) = grad_of(lambda a: getattr(nd, name)(a), x)
    np.testing.assert_allclose(out, forward(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, derivative(x), rtol=1e-4, atol=1e-6)


A = RNG.uniform(0.5, 2.0, size=(2, 3)).astype(np.float32)
B = RNG.uniform(0.5, 2.0, size=(3,)).astype(np.float32)

BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: (b + 0 * a, a)),
    ("div", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: (1 / b + 0 * a, -a / b ** 2)),
    ("pow", lambda a, b: a ** b, lambda a, b: a ** b,
     lambda a, b: (b * a ** (b - 1), a ** b * np.log(a))),
    ("maximum", nd.maximum, np.maximum, lambda a, b: (a > b, b > a)),
]


@pytest.mark.parametrize("name,fn,forward,grads", BINARY, ids=[b[0] for b in BINARY])
def test_broadcast_binary_forward_and_gradient_summed_to_operand_shape(name, fn, forward, grads):
    out, (ga, gb) = grad_of(fn, A, B)
    np.testing.assert_allclose(out, forward(A, B), rtol=1e-5, atol=1e-6)
    da, db = np.broadcast_arrays(*grads(A, B))
    np.testing.assert_allclose(ga, da.astype(np.float64), rtol=1e-4, atol=1e-6)
    assert gb.shape == B.shape
    np.testing.assert_allclose(gb, db.sum(axis=0), rtol=1e-4, atol=1e-6)


SCALARS = [
    ("x+2", lambda a: a + 2, lambda x: x + 2, lambda x: np.ones_like(x)),
    ("2-x", lambda a: 2 - a, lambda x: 2 - x, lambda x: -np.ones_like(x)),
    ("x*3", lambda a: a * 3, lambda x: 3 * x, lambda x: 3 * np.ones_like(x)),
    ("2/x", lambda a: 2 / a, lambda x: 2 / x, lambda x: -2 / x ** 2),
    ("x**3", lambda a: a ** 3, lambda x: x ** 3, lambda x: 3 * x ** 2),
    ("2**x", lambda a: 2 ** a, lambda x: 2 ** x, lambda x: np.log(2) * 2 ** x),
    ("-x", lambda a: -a, lambda x: -x, lambda x: -np.ones_like(x)),
]


@pytest.mark.parametrize("name,fn,forward,derivative", SCALARS, ids=[s[0] for s in SCALARS])
def test_scalar_ops(name, fn, forward, derivative):
    out, (g,) = grad_of(fn, X)
    np.testing.assert_allclose(out, forward(X), rtol=1e-5)
    np.testing.assert_allclose(g, derivative(X), rtol=1e-4)


def test_comparisons_return_zero_one_in_input_dtype():
    a, b = nd.array([1., 2., 3.]), nd.array([2., 2., 2.])
    for got, want in [(a == b, [0, 1, 0]), (a != b, [1, 0, 1]), (a > b, [0, 0, 1]),
                      (a >= b, [0, 1, 1]), (a < b, [1, 0, 0]), (a <= b, [1, 1, 0]),
                      (a > 1.5, [0, 1, 1])]:
        assert got.dtype is np.float32
        np.testing.assert_array_equal(got.asnumpy(), want)


def test_reductions_shape_and_gradient():
    x = nd.array(X)
    assert nd.sum(x).shape == (1,)
    np.testing.assert_allclose(nd.sum(x, axis=1).asnumpy(), X.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(x.mean(axis=0, keepdims=True).asnumpy(), X.mean(axis=0, keepdims=True),
                               rtol=1e-6)
    np.testing.assert_allclose(x.max().asnumpy(), [X.max()], rtol=1e-6)
    np.testing.assert_array_equal(x.argmax(axis=1).asnumpy(), X.argmax(axis=1).astype(np.float32))
    _, (g,) = grad_of(lambda a: nd.mean(a * a), X)
    np.testing.assert_allclose(g, 2 * X / X.size, rtol=1e-5)
    _, (g,) = grad_of(lambda a: nd.max(a), np.array([1., 3., 3.]))
    np.testing.assert_array_equal(g, [0., 1., 1.])


def test_dot_and_fully_connected():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    out, (ga, gb) = grad_of(nd.dot, a, b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ga, np.ones((2, 4)) @ b.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, a.T @ np.ones((2, 4)), rtol=1e-5, atol=1e-6)
    x, w, bias = RNG.normal(size=(5, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=(2,))
    out, (gx, gw, gbias) = grad_of(lambda x_, w_, b_: nd.FullyConnected(x_, w_, b_, num_hidden=2),
                                   x, w, bias)
    np.testing.assert_allclose(out, x @ w.T + bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw, np.ones((5, 2)).T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gbias, [5., 5.])


def test_softmax_log_softmax_pick():
    z = RNG.normal(size=(4, 3))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    sm = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nd.softmax(nd.array(z)).asnumpy(), sm, rtol=1e-5)
    labels = np.array([0., 2., 1., 2.])
    label_array = nd.array(labels)                       # a constant: no gradient wanted
    out, (g,) = grad_of(lambda a: -nd.pick(nd.log_softmax(a), label_array).sum(), z)
    np.testing.assert_allclose(out, [-np.log(sm[np.arange(4), labels.astype(int)]).sum()], rtol=1e-5)
    np.testing.assert_allclose(g, sm - np.eye(3)[labels.astype(int)], rtol=1e-4, atol=1e-6)


def test_shape_ops_and_indexing_gradients():
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = nd.array(base)
    assert x.reshape((0, -1)).shape == (2, 12)
    assert x.reshape((-3, 4)).shape == (6, 4)
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(nd.transpose(x, axes=(1, 0, 2)).asnumpy(), base.transpose(1, 0, 2))
    np.testing.assert_array_equal(nd.concat(x, x, dim=2).asnumpy(), np.concatenate([base, base], 2))
    parts = nd.split(x, num_outputs=3, axis=1, squeeze_axis=True)
    assert len(parts) == 3 and parts[1].shape == (2, 4)
    np.testing.assert_array_equal(x[1, 2].asnumpy(), base[1, 2])
    np.testing.assert_array_equal(x[:, 1].asnumpy(), base[:, 1])
    assert x[0, 1, 2].shape == (1,)
    for key in [(slice(None, None, -1),), (1, slice(None, None, -2), slice(1, None, 2)),
                (Ellipsis, -1), (slice(-1, 0, -1), 0)]:
        np.testing.assert_array_equal(x[key].asnumpy(), base[key])
    _, (g,) = grad_of(lambda a: a[1, 1:3] * 2, base)
    want = np.zeros_like(base)
    want[1, 1:3] = 2
    np.testing.assert_array_equal(g, want)


def test_array_index_takes_rows():
    base = np.arange(12, dtype=np.float32).reshape(4, 3)
    x = nd.array(base)
    np.testing.assert_array_equal(x[[3, 0]].asnumpy(), base[[3, 0]])
    np.testing.assert_array_equal(x[nd.array([1, 1])].asnumpy(), base[[1, 1]])


def test_setitem_regions():
    x = nd.zeros((3, 4))
    x[1] = 5
    x[:, 2] = nd.array([1., 2., 3.])
    x[0, 0:2] = 9
    want = np.zeros((3, 4), np.float32)
    want[1] = 5
    want[:, 2] = [1, 2, 3]
    want[0, 0:2] = 9
    np.testing.assert_array_equal(x.asnumpy(), want)


def test_creation_functions_and_random():
    assert nd.zeros((2, 3)).asnumpy().sum() == 0
    np.testing.assert_array_equal(nd.ones((2,), dtype="float64").asnumpy(), [1., 1.])
    assert nd.ones((2,), dtype="float64").dtype is np.float64
    np.testing.assert_array_equal(nd.full((2,), 7).asnumpy(), [7., 7.])
    np.testing.assert_array_equal(nd.arange(0, 5).asnumpy(), np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(nd.arange(3, repeat=2).asnumpy(), [0, 0, 1, 1, 2, 2])
    x = nd.array([[1., 2.]])
    assert nd.zeros_like(x).shape == (1, 2) and nd.ones_like(x).asnumpy().sum() == 2
    from tensord import mx
    mx.random.seed(42)
    u1 = nd.random.uniform(-1, 1, shape=(1000,)).asnumpy()
    mx.random.seed(42)
    u2 = nd.random.uniform(-1, 1, shape=(1000,)).asnumpy()
    np.testing.assert_array_equal(u1, u2)
    assert -1 <= u1.min() and u1.max() < 1 and abs(u1.mean()) < 0.1
    n = nd.random.normal(2, 3, shape=(4000,)).asnumpy()
    assert abs(n.mean() - 2) < 0.3 and abs(n.std() - 3) < 0.3
    r = nd.random.randint(0, 5, shape=(500,))
    assert r.dtype is np.int32
    assert set(np.unique(r.asnumpy()).tolist()) == {0, 1, 2, 3, 4}


def test_astype_copy_and_large_values_roundtrip():
    x = nd.array([1.7, -1.7])
    i = x.astype("int32")
    assert i.dtype is np.int32
    np.testing.assert_array_equal(i.asnumpy(), [1, -1])
    big = RNG.normal(size=(300, 301)).astype(np.float32)       # travels as .npy both ways
    y = nd.array(big)
    np.testing.assert_array_equal(y.asnumpy(), big)
    c = y.copy()
    assert c.id != y.id
    np.testing.assert_array_equal((c * 1).asnumpy(), big)
    np.testing.assert_array_equal(nd.array([np.nan, np.inf]).asnumpy(), [np.nan, np.inf])
