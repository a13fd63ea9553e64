"""Gluon layers against numpy: forward values, parameter gradients (closed forms), names,
initialisation and deferred shapes, on a real tensord."""

import re

import numpy as np
import pytest

from tensord import gluon, mx
from tensord.mx import autograd, nd

pytestmark = pytest.mark.usefixtures("mxs")
nn = gluon.nn
RNG = np.random.RandomState(7)


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape).astype(np.float32)


def grads_of(block, x, head):
    """Forward ``x`` in training mode, backward with head gradient ``head``; returns the output."""
    with autograd.record():
        out = block(nd.array(x))
    out.backward(nd.array(head))
    return out.asnumpy()


def test_mx_gluon_is_tensord_gluon():
    assert mx.gluon is gluon
    assert mx.init.Xavier is gluon.init.Xavier


def test_dense_forward_gradients_and_inferred_in_units():
    layer = nn.Dense(5, activation="relu")
    layer.initialize()
    assert layer.weight.shape == (5, 0)
    with pytest.raises(gluon.DeferredInitializationError):
        layer.weight.data()
    x = rand(4, 2, 3)  # flatten=True: in_units = 6
    layer(nd.array(x))
    assert layer.weight.shape == (5, 6)
    w, b = rand(5, 6), rand(5)
    layer.weight.set_data(w)
    layer.bias.set_data(b)
    head = rand(4, 5)
    out = grads_of(layer, x, head)
    pre = x.reshape(4, 6) @ w.T + b
    np.testing.assert_allclose(out, np.maximum(pre, 0), rtol=1e-5, atol=1e-6)
    g = head * (pre > 0)
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), g.T @ x.reshape(4, 6), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad().asnumpy(), g.sum(0), rtol=1e-5, atol=1e-6)
    assert re.fullmatch(r"dense\d+_weight", layer.weight.name)
    assert layer.weight.data().grad is layer.weight.grad()


def test_dense_no_flatten_and_no_bias():
    layer = nn.Dense(3, use_bias=False, flatten=False, in_units=4)
    layer.initialize(gluon.init.Normal(0.5))
    assert [p.name.split("_")[-1] for p in layer.collect_params().values()] == ["weight"]
    x = rand(2, 5, 4)
    out = layer(nd.array(x)).asnumpy()
    w = layer.weight.data().asnumpy()
    assert out.shape == (2, 5, 3)
    np.testing.assert_allclose(out, x @ w.T, rtol=1e-5, atol=1e-6)


def test_sequential_names_and_collect_params():
    net = nn.Sequential()
    with net.name_scope():
        net.add(nn.Dense(4), nn.Dense(2))
    names = list(net.collect_params().keys())
    prefix = net.prefix
    assert re.fullmatch(r"sequential\d+_", prefix)
    assert names == [prefix + n for n in ("dense0_weight", "dense0_bias", "dense1_weight", "dense1_bias")]
    assert list(net.collect_params(".*bias").keys()) == [names[1], names[3]]
    assert len(net) == 2 and isinstance(net[1], nn.Dense)
    assert repr(net) == "Sequential(\n  (0): Dense(None -> 4, linear)\n  (1): Dense(None -> 2, linear)\n)"
    assert repr(nn.Dense(3, activation="relu", in_units=5)) == "Dense(5 -> 3, Activation(relu))"
    hnet = nn.HybridSequential()
    hnet.add(nn.Dense(3, in_units=2))
    hnet.hybridize()
    hnet.initialize()
    assert hnet(nd.ones((1, 2))).shape == (1, 3)


def test_initializers_draw_from_their_ranges_and_force_reinit():
    layer = nn.Dense(40, in_units=60)
    layer.initialize(mx.init.Xavier())
    w = layer.weight.data().asnumpy()
    scale = np.sqrt(3.0 / ((40 + 60) / 2.0))
    assert np.abs(w).max() <= scale and np.abs(w).max() > 0.8 * scale
    np.testing.assert_array_equal(layer.bias.data().asnumpy(), np.zeros(40))
    layer.initialize(mx.init.Xavier())  # already initialised: unchanged
    np.testing.assert_array_equal(layer.weight.data().asnumpy(), w)
    layer.initialize(force_reinit=True)  # default Uniform(0.07)
    w2 = layer.weight.data().asnumpy()
    assert np.abs(w2).max() <= 0.07 and not np.array_equal(w, w2)
    layer.initialize(gluon.init.Normal(0.01), force_reinit=True)
    assert abs(layer.weight.data().asnumpy().std() - 0.01) < 0.002
    with pytest.raises(ValueError):
        mx.init.Xavier().step("v_weight", (5,))


def test_uninitialized_parameter_errors():
    layer = nn.Dense(2, in_units=2)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        layer.weight.data()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        layer(nd.ones((1, 2)))


def test_zero_grad_and_grad_req_null():
    layer = nn.Dense(2, in_units=3)
    layer.initialize()
    grads_of(layer, rand(2, 3), np.ones((2, 2), np.float32))
    assert np.abs(layer.weight.grad().asnumpy()).sum() > 0
    layer.collect_params().zero_grad()
    np.testing.assert_array_equal(layer.weight.grad().asnumpy(), np.zeros((2, 3)))
    layer.bias.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        layer.bias.grad()


def conv2d_numpy(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, f, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b.reshape(1, f, 1, 1), xp


def test_conv2d_forward_and_weight_gradient():
    layer = nn.Conv2D(4, kernel_size=3, strides=2, padding=1)
    layer.initialize()
    x = rand(2, 3, 7, 7)
    layer(nd.array(x))
    assert layer.weight.shape == (4, 3, 3, 3)
    w, b = layer.weight.data().asnumpy(), rand(4)
    layer.bias.set_data(b)
    expected, xp = conv2d_numpy(x, w, b, 2, 1)
    head = rand(*expected.shape)
    out = grads_of(layer, x, head)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    dw = np.zeros_like(w, dtype=np.float64)
    for i in range(expected.shape[2]):
        for j in range(expected.shape[3]):
            patch = xp[:, :, i * 2:i * 2 + 3, j * 2:j * 2 + 3]
            dw += np.tensordot(head[:, :, i, j], patch, axes=([0], [0]))
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), dw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad().asnumpy(), head.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)


def test_maxpool2d_forward_and_gradient_routing():
    x = rand(2, 3, 4, 6)
    pool = nn.MaxPool2D(pool_size=2)
    xn = nd.array(x)
    xn.attach_grad()
    with autograd.record():
        out = pool(xn)
    head = rand(2, 3, 2, 3)
    out.backward(nd.array(head))
    blocks = x.reshape(2, 3, 2, 2, 3, 2)
    np.testing.assert_allclose(out.asnumpy(), blocks.max(axis=(3, 5)))
    expected = np.zeros_like(x)
    for i in range(2):
        for j in range(3):
            win = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(2, 3, 4)
            k = win.argmax(-1)
            for n in range(2):
                for c in range(3):
                    expected[n, c, 2 * i + k[n, c] // 2, 2 * j + k[n, c] % 2] = head[n, c, i, j]
    np.testing.assert_allclose(xn.grad.asnumpy(), expected)


def test_dropout_train_vs_predict():
    drop = nn.Dropout(0.5)
    x = np.ones((40, 50), np.float32)
    np.testing.assert_array_equal(drop(nd.array(x)).asnumpy(), x)  # predict: identity
    with autograd.record():
        y = drop(nd.array(x)).asnumpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6


def test_batchnorm_gluon_defaults_train_predict_and_running_stats():
    bn = nn.BatchNorm()
    bn.initialize()
    x = rand(6, 3, 2, 2) * 3 + 1
    bn(nd.array(x))  # predict mode: running stats 0/1 -> x / sqrt(1 + eps)
    assert bn.gamma.shape == (3,)
    np.testing.assert_array_equal(bn.running_var.data().asnumpy(), np.ones(3))
    gamma, beta = np.array([0.5, 2.0, -1.0], np.float32), np.array([0.1, 0.2, 0.3], np.float32)
    bn.gamma.set_data(gamma)
    bn.beta.set_data(beta)
    head = rand(*x.shape)
    out = grads_of(bn, x, head)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    xhat = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(out, xhat * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1),
                               rtol=1e-4, atol=1e-5)
    # fix_gamma is False in Gluon: gamma keeps its value and gets a gradient
    np.testing.assert_allclose(bn.gamma.data().asnumpy(), gamma)
    np.testing.assert_allclose(bn.gamma.grad().asnumpy(), (head * xhat).sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.beta.grad().asnumpy(), head.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)
    # momentum 0.9: running = 0.9 * running + 0.1 * batch statistic (biased variance)
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.data().asnumpy(), 0.9 + 0.1 * var, rtol=1e-5)
    pred = bn(nd.array(x)).asnumpy()
    rm, rv = 0.1 * mean, 0.9 + 0.1 * var
    np.testing.assert_allclose(pred, (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
                               * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1), rtol=1e-4, atol=1e-5)
    assert [n.split("_", 1)[1] for n in bn.collect_params()] == ["gamma", "beta", "running_mean", "running_var"]
    assert bn.running_mean.grad_req == "null"


def test_embedding_forward_and_scatter_gradient():
    emb = nn.Embedding(6, 3)
    emb.initialize()
    w = emb.weight.data().asnumpy()
    idx = np.array([[0, 2], [2, 5]], np.float32)
    head = rand(2, 2, 3)
    out = grads_of(emb, idx, head)
    np.testing.assert_allclose(out, w[idx.astype(int)])
    expected = np.zeros_like(w)
    np.add.at(expected, idx.astype(int).reshape(-1), head.reshape(-1, 3))
    np.testing.assert_allclose(emb.weight.grad().asnumpy(), expected, rtol=1e-6, atol=1e-6)


def test_avg_pooling_flatten_activation_and_slicing():
    x = rand(2, 3, 4, 4)
    net = nn.HybridSequential()
    net.add(nn.AvgPool2D(2), nn.Activation("tanh"), nn.GlobalAvgPool2D(), nn.Flatten())
    pooled = x.reshape(2, 3, 2, 2, 2, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(net[0](nd.array(x)).asnumpy(), pooled, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(net[:2](nd.array(x)).asnumpy(), np.tanh(pooled), rtol=1e-5)
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), np.tanh(pooled).mean(axis=(2, 3)), rtol=1e-5)


class Residual(gluon.HybridBlock):
    """A user-defined block using operators and Python arithmetic in hybrid_forward."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = nn.Dense(3, in_units=3)
            self.scale = self.params.get("scale", shape=(1, 3), init=mx.init.Constant(0.5))

    def hybrid_forward(self, F, x, scale):
        return F.broadcast_mul(F.relu(self.dense(x)), scale) * 2 + x - 1


def test_custom_hybrid_block_traced_equals_eager(mxs):
    x, y = rand(4, 3), rand(4, 3)
    nets = [Residual(), Residual()]
    for net in nets:
        net.initialize()
    assert [n.split("_", 1)[1] for n in nets[0].collect_params()] == ["scale", "dense0_weight", "dense0_bias"]
    np.testing.assert_array_equal(nets[0].scale.data().asnumpy(), np.full((1, 3), 0.5))
    for p, q in zip(nets[0].collect_params().values(), nets[1].collect_params().values()):
        q.set_data(p.data().asnumpy())
    trainers = [gluon.Trainer(n.collect_params(), "sgd", {"learning_rate": 0.2}) for n in nets]
    with autograd.record():
        L = gluon.loss.L2Loss()(nets[0](nd.array(x)), nd.array(y))
    L.backward()
    trainers[0].step(4)
    fused = gluon.TrainStep(nets[1], gluon.loss.L2Loss(), trainers[1])(x, y)
    assert abs(fused - float(L.mean().asscalar())) < 1e-6
    for p, q in zip(nets[0].collect_params().values(), nets[1].collect_params().values()):
        np.testing.assert_allclose(q.data().asnumpy(), p.data().asnumpy(), rtol=1e-6, atol=1e-7)
