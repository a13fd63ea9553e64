"""Gluon losses, Trainer updates, TrainStep and parameter files against numpy references of
MXNet 1.9.1's formulas, on a real tensord."""

import numpy as np
import pytest

from tensord import TensordError, gluon
from tensord.mx import autograd, nd

pytestmark = pytest.mark.usefixtures("mxs")
nn, loss = gluon.nn, gluon.loss
RNG = np.random.RandomState(11)


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape).astype(np.float32)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_l2_and_l1_loss_values_and_weights():
    pred, label, sw = rand(4, 3), rand(4, 3), rand(4, 1)
    out = loss.L2Loss()(nd.array(pred), nd.array(label)).asnumpy()
    np.testing.assert_allclose(out, 0.5 * ((label - pred) ** 2).mean(1), rtol=1e-5)
    out = loss.L2Loss(weight=3.0)(nd.array(pred), nd.array(label), nd.array(sw)).asnumpy()
    np.testing.assert_allclose(out, (1.5 * (label - pred) ** 2 * sw).mean(1), rtol=1e-5, atol=1e-7)
    out = loss.L1Loss()(nd.array(pred), nd.array(label)).asnumpy()
    np.testing.assert_allclose(out, np.abs(label - pred).mean(1), rtol=1e-5)
    # a label of shape (N,) is reshaped like the (N, 1) prediction
    p1, l1 = rand(5, 1), rand(5)
    out = loss.L1Loss(weight=2.0)(nd.array(p1), nd.array(l1)).asnumpy()
    np.testing.assert_allclose(out, 2 * np.abs(l1 - p1[:, 0]), rtol=1e-5)


def test_softmax_cross_entropy_sparse_dense_and_from_logits():
    pred = rand(5, 4) * 3
    label = np.array([0, 3, 1, 1, 2], np.float32)
    ls = log_softmax(pred.astype(np.float64))
    expected = -ls[np.arange(5), label.astype(int)]
    out = loss.SoftmaxCrossEntropyLoss()(nd.array(pred), nd.array(label)).asnumpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    onehot = np.eye(4, dtype=np.float32)[label.astype(int)]
    out = loss.SoftmaxCrossEntropyLoss(sparse_label=False)(nd.array(pred), nd.array(onehot)).asnumpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    out = loss.SoftmaxCrossEntropyLoss(from_logits=True)(nd.array(pred), nd.array(label)).asnumpy()
    np.testing.assert_allclose(out, -pred[np.arange(5), label.astype(int)], rtol=1e-6)
    # gradient of the summed loss w.r.t. the logits: softmax - onehot
    p = nd.array(pred)
    p.attach_grad()
    with autograd.record():
        total = loss.SoftmaxCrossEntropyLoss()(p, nd.array(label)).sum()
    total.backward()
    np.testing.assert_allclose(p.grad.asnumpy(), np.exp(ls) - onehot, rtol=1e-4, atol=1e-6)


def test_sigmoid_bce_logits_and_probabilities():
    x, z = rand(6, 2) * 4, (rand(6, 2) > 0).astype(np.float32)
    out = loss.SigmoidBinaryCrossEntropyLoss()(nd.array(x), nd.array(z)).asnumpy()
    sig = 1 / (1 + np.exp(-x.astype(np.float64)))
    expected = -(z * np.log(sig) + (1 - z) * np.log(1 - sig)).mean(1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    out = loss.SigmoidBCELoss(from_sigmoid=True)(nd.array(sig.astype(np.float32)), nd.array(z)).asnumpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4)


class Ref:
    """MXNet 1.9.1's optimizer formulas in float64 numpy."""

    @staticmethod
    def sgd(w, g, state, lr, wd, rescale, momentum, t):
        g = rescale * g
        if momentum == 0:
            return (1 - lr * wd) * w - lr * g
        state[:] = momentum * state - lr * (g + wd * w)
        return w + state

    @staticmethod
    def adam(w, g, state, lr, wd, rescale, t, b1=0.9, b2=0.999, eps=1e-8):
        m, v = state
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        g = rescale * g + wd * w
        m[:] = b1 * m + (1 - b1) * g
        v[:] = b2 * v + (1 - b2) * g * g
        return w - lr_t * m / (np.sqrt(v) + eps)


@pytest.mark.parametrize("optimizer,params", [
    ("sgd", {"learning_rate": 0.1, "wd": 0.01}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "wd": 0.001}),
    ("adam", {"learning_rate": 0.01, "wd": 0.002}),
])
def test_trainer_updates_match_mxnet_formulas(optimizer, params):
    net = nn.Dense(3, in_units=4)
    net.initialize(gluon.init.Normal(0.3))
    trainer = gluon.Trainer(net.collect_params(), optimizer, params)
    ref = {p.name: p.data().asnumpy().astype(np.float64) for p in net.collect_params().values()}
    states = {n: ([np.zeros_like(w), np.zeros_like(w)] if optimizer == "adam" else np.zeros_like(w))
              for n, w in ref.items()}
    batch = 5
    for t in range(1, 4):
        x, y = rand(batch, 4), rand(batch, 3)
        with autograd.record():
            L = loss.L2Loss()(net(nd.array(x)), nd.array(y))
        L.backward()
        grads = {p.name: p.grad().asnumpy().astype(np.float64) for p in net.collect_params().values()}
        trainer.step(batch)
        for name, w in ref.items():
            if optimizer == "adam":
                ref[name] = Ref.adam(w, grads[name], states[name], params["learning_rate"],
                                     params["wd"], 1.0 / batch, t)
            else:
                ref[name] = Ref.sgd(w, grads[name], states[name], params["learning_rate"],
                                    params["wd"], 1.0 / batch, params.get("momentum", 0.0), t)
        for p in net.collect_params().values():
            np.testing.assert_allclose(p.data().asnumpy(), ref[p.name], rtol=1e-5, atol=1e-6)
    assert trainer.learning_rate == params["learning_rate"]
    trainer.set_learning_rate(0.5)
    assert trainer.optimizer.lr == 0.5


def test_trainer_rejects_unknown_optimizer_and_skips_null_params():
    net = nn.BatchNorm(in_channels=2)
    net.initialize()
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        gluon.Trainer(net.collect_params(), "lbfgs")
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        out = net(nd.array(rand(4, 2)))
    out.backward(nd.array(rand(4, 2)))
    before = net.running_mean.data().asnumpy()
    trainer.step(1)
    np.testing.assert_array_equal(net.running_mean.data().asnumpy(), before)


def count_requests(session):
    """Counts the session's HTTP requests (waited-for and pipelined); returns the counter list
    and a function restoring the transport."""
    transport = session.client.transport
    counter = [0]
    originals = {name: getattr(transport, name) for name in ("request", "submit")}

    def counting(original):
        def wrapper(*args, **kwargs):
            counter[0] += 1
            return original(*args, **kwargs)
        return wrapper

    for name, original in originals.items():
        setattr(transport, name, counting(original))
    return counter, lambda: [setattr(transport, n, o) for n, o in originals.items()]


def test_trainer_step_is_one_request(mxs):
    net = nn.HybridSequential()
    net.add(nn.Dense(4, in_units=3), nn.BatchNorm(in_channels=4), nn.Dense(2, in_units=4))
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "adam")
    with autograd.record():
        out = net(nd.array(rand(5, 3)))
    out.backward()
    mxs.sync()          # a pipelined session sends the queued backward now, not in the count
    counter, restore = count_requests(mxs)
    try:
        trainer.step(5)
        trainer.step(5)
        net.collect_params().zero_grad()
    finally:
        restore()
    assert counter[0] == 3


def make_cnn():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.BatchNorm(), nn.MaxPool2D(2),
                nn.Dropout(0.0), nn.Dense(8, activation="tanh"), nn.Dense(3))
    return net


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_step_matches_eager_loop_in_one_request(mxs, optimizer):
    x, y = rand(6, 1, 4, 4), np.array([0, 1, 2, 1, 0, 2], np.float32)
    nets = [make_cnn(), make_cnn()]
    for net in nets:
        net.initialize(gluon.init.Xavier())
        net(nd.array(x))  # infer shapes
    for p, q in zip(nets[0].collect_params().values(), nets[1].collect_params().values()):
        q.set_data(p.data().asnumpy())
    lf = loss.SoftmaxCrossEntropyLoss()
    opts = {"learning_rate": 0.1, "momentum": 0.9} if optimizer == "sgd" else {"learning_rate": 0.01}
    eager_tr = gluon.Trainer(nets[0].collect_params(), optimizer, opts)
    step = gluon.TrainStep(nets[1], lf, gluon.Trainer(nets[1].collect_params(), optimizer, opts))
    X, Y = nd.array(x), nd.array(y)
    counter, restore = count_requests(mxs)
    try:
        losses = []
        for rows in ([0, 1, 2], [3, 4, 5], [5, 0, 2]):
            before = counter[0]
            losses.append(step(X, Y, rows=rows))
            assert counter[0] - before == 1
        losses.append(step(x[:4], y[:4]))  # numpy inputs travel inside the same request
        assert counter[0] == 4
    finally:
        restore()
    for k, rows in enumerate(([0, 1, 2], [3, 4, 5], [5, 0, 2], [0, 1, 2, 3])):
        with autograd.record():
            L = lf(nets[0](nd.array(x[rows])), nd.array(y[rows]))
        L.backward()
        eager_tr.step(len(rows))
        assert abs(float(L.mean().asscalar()) - losses[k]) < 1e-5
    for (name, p), q in zip(nets[0].collect_params().items(), nets[1].collect_params().values()):
        np.testing.assert_allclose(q.data().asnumpy(), p.data().asnumpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_train_step_releases_its_arrays(mxs):
    net = nn.Dense(2, in_units=3)
    net.initialize()
    step = gluon.TrainStep(net, loss.L2Loss(), gluon.Trainer(net.collect_params(), "sgd"))
    x, y = rand(4, 3), rand(4, 2)
    step(x, y)
    after_one = mxs.info()["usage"]["arrays"]
    for _ in range(20):
        step(x, y)
    assert mxs.info()["usage"]["arrays"] == after_one


def test_save_and_load_parameters_round_trip(tmp_path):
    net = make_cnn()
    net.initialize(gluon.init.Xavier())
    x = rand(2, 1, 4, 4)
    expected = net(nd.array(x)).asnumpy()
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    with np.load(path) as data:
        keys = list(data.files)
        assert keys == ["0.weight", "0.bias", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
                        "4.weight", "4.bias", "5.weight", "5.bias"]
        np.testing.assert_array_equal(data["4.weight"], net[4].weight.data().asnumpy())
    fresh = make_cnn()  # parameters never initialised: shapes come from the file
    fresh.load_parameters(path)
    np.testing.assert_array_equal(fresh(nd.array(x)).asnumpy(), expected)
    other = make_cnn()
    other.initialize()
    other(nd.array(x))
    other.load_parameters(path)
    np.testing.assert_array_equal(other(nd.array(x)).asnumpy(), expected)
    with pytest.raises(AssertionError, match="is missing"):
        nn.Dense(3).load_parameters(path)
    small = nn.Dense(3)
    small.load_parameters(path, allow_missing=True, ignore_extra=True)
    assert not small.weight.initialized
    params = net.collect_params()
    params.save(str(tmp_path / "dict.npz"), strip_prefix=net.prefix)
    with np.load(str(tmp_path / "dict.npz")) as data:
        assert data.files[0] == "conv0_weight"


def test_train_step_recovers_after_a_failed_step(mxs):
    net = nn.Dense(2, in_units=3)
    net.initialize()
    w = net.weight.data().asnumpy()
    step = gluon.TrainStep(net, loss.SoftmaxCrossEntropyLoss(), gluon.Trainer(net.collect_params(), "sgd"))
    x, y = rand(4, 3), np.array([0, 1, 1, 0], np.float32)
    for _ in range(2):  # the second failure is the same one: the first's arrays were released
        with pytest.raises(TensordError) as info:
            step(x, y[:3])  # 3 labels for 4 predictions: the step fails on the server
        assert info.value.code == "shape-mismatch"
    np.testing.assert_array_equal(net.weight.data().asnumpy(), w)  # no update happened
    assert mxs.flags() == {"is_recording": False, "is_training": False}
    step(x, y)
    assert not np.array_equal(net.weight.data().asnumpy(), w)
