"""Every ``mx.autograd`` function against a real tensord (expected values: mxnet-autograd.md)."""

import numpy as np
import pytest

from tensord import mx
from tensord.mx import autograd, nd

pytestmark = pytest.mark.usefixtures("mxs")


def flags():
    return (autograd.is_recording(), autograd.is_training())


def test_seed_example_exact():
    x = nd.array([1, 2, 3, 4])
    x.attach_grad()
    with autograd.record():
        y = x * x + 1
    y.backward()
    assert repr(x.grad) == "\n[2. 4. 6. 8.]\n<NDArray 4 @cpu(0)>"
    np.testing.assert_array_equal(y.asnumpy(), [2, 5, 10, 17])


def test_flags_start_false_and_setters_return_previous():
    assert flags() == (False, False)
    assert autograd.set_recording(True) is False
    assert autograd.set_recording(True) is True
    assert autograd.set_training(True) is False
    assert flags() == (True, True)
    assert autograd.set_recording(False) is True
    assert autograd.set_training(False) is True
    assert flags() == (False, False)


def test_scope_nesting_matches_mxnet():
    with autograd.record():
        assert flags() == (True, True)
        with autograd.pause():
            assert flags() == (False, False)
            with autograd.record(train_mode=False):
                assert flags() == (True, False)
            assert flags() == (False, False)
        with autograd.pause(train_mode=True):
            assert flags() == (False, True)
        with autograd.predict_mode():
            assert flags() == (True, False)
        assert flags() == (True, True)
    assert flags() == (False, False)
    with autograd.train_mode():
        assert flags() == (False, True)
    assert flags() == (False, False)


def test_scope_exits_when_block_raises():
    with pytest.raises(ZeroDivisionError):
        with autograd.record():
            1 / 0
    assert flags() == (False, False)
    assert mx.session().scopes() == []


def test_scope_exit_quirk_keeps_flag_when_value_was_unchanged():
    autograd.set_recording(True)
    with autograd.record():
        autograd.set_recording(False)
    # record() saved True and set True: exit restores nothing, the manual False survives.
    assert autograd.is_recording() is False


def test_backward_head_grads_and_multiple_heads():
    x = nd.array([1., 2., 3.])
    x.attach_grad()
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.asnumpy(), 2 + 2 * np.array([1., 2., 3.]))
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [None, nd.ones((3,)) * 10])
    np.testing.assert_allclose(x.grad.asnumpy(), 2 + 20 * np.array([1., 2., 3.]))
    with autograd.record():
        y = x * 3
    y.backward(out_grad=nd.array([1., 10., 100.]))
    np.testing.assert_allclose(x.grad.asnumpy(), [3., 30., 300.])


def test_second_backward_needs_retain_graph_and_add_accumulates():
    x = nd.array([1., 2., 3.])
    x.attach_grad(grad_req="add")
    with autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.asnumpy(), [2., 4., 6.])
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [4., 8., 12.])
    with pytest.raises(mx.base.MXNetError) as err:
        y.backward()
        nd.waitall()
    assert err.value.code == "graph-freed"
    assert "Cannot differentiate node because it is not in a computational graph" in str(err.value)
    x.grad[:] = 0
    np.testing.assert_array_equal(x.grad.asnumpy(), [0., 0., 0.])


def test_backward_outside_record_is_mxnet_error():
    x = nd.array([1., 2.])
    x.attach_grad()
    y = x * 2
    with pytest.raises(mx.base.MXNetError) as err:
        y.backward()
        nd.waitall()
    assert isinstance(err.value, RuntimeError)
    assert err.value.code == "not-recorded" and err.value.status == 409


def test_grad_returns_list_and_leaves_grad_buffers_alone():
    x = nd.array([1., 2., 3.])
    x.attach_grad()
    x.grad[:] = 7
    with autograd.record():
        y = x * x
    gs = autograd.grad(y, x)
    assert isinstance(gs, list) and len(gs) == 1
    np.testing.assert_allclose(gs[0].asnumpy(), [2., 4., 6.])
    np.testing.assert_array_equal(x.grad.asnumpy(), [7., 7., 7.])
    with pytest.raises(mx.base.MXNetError):
        autograd.grad(y, [x])            # retain_graph defaults to create_graph (False)


def test_grad_create_graph_second_order():
    x = nd.array([1.])
    x.attach_grad()
    with autograd.record():
        z = nd.elemwise_add(nd.exp(x), x)
    dx = autograd.grad(z, [x], create_graph=True)[0]
    np.testing.assert_allclose(dx.asnumpy(), [np.e + 1], rtol=1e-6)
    dx.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [np.e], rtol=1e-6)


@pytest.mark.parametrize("op,derivs", [
    ("sin", [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)]),
    ("tanh", [lambda x: 1 - np.tanh(x) ** 2, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)]),
    ("log", [lambda x: 1 / x, lambda x: -1 / x ** 2]),
])
def test_higher_order_grad_with_head_grads(op, derivs):
    """MXNet's test_higher_order_grad pattern: repeated grad(create_graph=True) inside record."""
    rng = np.random.default_rng(3)
    xv = rng.uniform(0.5, 1.5, size=(2, 3)).astype(np.float32)
    x = nd.array(xv)
    x.attach_grad()
    heads = []
    with autograd.record():
        y = getattr(nd, op)(x)
        for k, deriv in enumerate(derivs):
            hg = rng.uniform(0.5, 1.5, size=xv.shape).astype(np.float32)
            heads.append(hg)
            y = autograd.grad(y, [x], head_grads=[nd.array(hg)], create_graph=True,
                              retain_graph=True)[0]
            np.testing.assert_allclose(y.asnumpy(), deriv(xv) * np.prod(heads, axis=0),
                                       rtol=1e-4, atol=1e-5, err_msg="order %d" % (k + 1))


def test_grad_variable_errors():
    x, w = nd.array([1., 2.]), nd.array([3., 4.])
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = x * 2
    with pytest.raises(mx.base.MXNetError) as err:
        autograd.grad(y, [w], retain_graph=True)
    assert err.value.code == "variable-unreachable"
    assert "because it is unreachable from the outputs" in str(err.value)
    plain = nd.array([1., 1.])
    with pytest.raises(mx.base.MXNetError) as err:
        autograd.grad(y, [plain])
    assert err.value.code == "variable-not-attached"


def test_mark_variables_uses_caller_buffers():
    x, u = nd.array([1., 2.]), nd.array([3., 4.])
    gx, gu = nd.zeros((2,)), nd.ones((2,)) * 100
    autograd.mark_variables([x, u], [gx, gu], ["write", "add"])
    assert x.grad is gx and u.grad is gu
    with autograd.record():
        y = x * u
    y.backward()
    np.testing.assert_allclose(gx.asnumpy(), [3., 4.])
    np.testing.assert_allclose(gu.asnumpy(), [101., 102.])


def test_pause_is_a_stop_gradient_and_detach_blocks():
    x = nd.array([1., 2., 3.])
    x.attach_grad()
    with autograd.record():
        with autograd.pause():
            c = x * x
        y = 2 * x + c
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2., 2., 2.])
    with autograd.record():
        y = (x * x).detach() * x
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [1., 4., 9.])
    d = x.detach()
    assert d.grad is None
    d[:] = 9
    np.testing.assert_array_equal(x.asnumpy(), [9., 9., 9.])   # shares memory


def test_attach_grad_on_intermediate_becomes_leaf():
    x = nd.array([1., 2.])
    x.attach_grad()
    with autograd.record():
        y = x * 2
        y.attach_grad()
        z = y * 3
    z.backward()
    np.testing.assert_allclose(y.grad.asnumpy(), [3., 3.])
    np.testing.assert_allclose(x.grad.asnumpy(), [0., 0.])


def test_inplace_inside_record_errors():
    x = nd.array([1., 2.])
    x.attach_grad()
    c = nd.array([0., 0.])
    with autograd.record():
        with pytest.raises(mx.base.MXNetError) as err:
            x += 1
            nd.waitall()
        assert err.value.code == "inplace-in-graph"
        assert err.value.detail.startswith("Assigning to NDArrays that are already in a computational graph")
        with pytest.raises(mx.base.MXNetError) as err:
            c += x
            nd.waitall()
        assert err.value.code == "inplace-while-recording"
        c += 1                                  # neither in a graph: allowed
    np.testing.assert_array_equal(c.asnumpy(), [1., 1.])


def test_train_mode_changes_dropout_and_backward_train_mode():
    x = nd.ones((200,))
    x.attach_grad()
    with autograd.record():
        y = nd.Dropout(x, p=0.5)
    values = set(np.unique(y.asnumpy()).tolist())
    assert values <= {0.0, 2.0} and values == {0.0, 2.0}
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), y.asnumpy())
    with autograd.record(train_mode=False):
        y = nd.Dropout(x, p=0.5)
    np.testing.assert_array_equal(y.asnumpy(), np.ones(200))
    y.backward(train_mode=False)
    np.testing.assert_array_equal(x.grad.asnumpy(), np.ones(200))


def test_get_symbol_argument_count():
    x, z = nd.array([1., 2.]), nd.array([3., 4.])
    x.attach_grad()
    z.attach_grad()
    with autograd.record():
        y = x * x + 2 * x - 1
    assert len(autograd.get_symbol(y).list_arguments()) == 1
    with autograd.record():
        y = x * x + 2 * z - 1
    assert len(autograd.get_symbol(y).list_arguments()) == 2
    with pytest.raises(mx.base.MXNetError) as err:
        autograd.get_symbol(nd.array([1.]))
    assert err.value.code == "not-in-graph"


class DivMul(autograd.Function):
    """Two outputs (x/y, x*y) with a hand-written backward, as in MXNet's test_function."""

    def forward(self, x, y):
        a = x / y
        b = x * y
        self.save_for_backward(x, y)
        return a, b

    def backward(self, da, db):
        x, y = self.saved_tensors
        dx = da / y + db * y
        dy = -da * x / (y * y) + db * x
        return dx, dy


def test_function_matches_builtin_gradients():
    xv, yv = np.array([1., 2., 3.], np.float32), np.array([4., 5., 6.], np.float32)
    x, y = nd.array(xv), nd.array(yv)
    x.attach_grad()
    y.attach_grad()
    with autograd.record():
        a, b = DivMul()(x, y)
        loss = a * 2 + b * 3
    loss.backward()
    np.testing.assert_allclose(a.asnumpy(), xv / yv, rtol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), xv * yv, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 / yv + 3 * yv, rtol=1e-6)
    np.testing.assert_allclose(y.grad.asnumpy(), -2 * xv / yv ** 2 + 3 * xv, rtol=1e-6)


class Sigmoid(autograd.Function):
    def forward(self, x):
        y = 1 / (1 + nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        y, = self.saved_tensors
        return dy * y * (1 - y)


def test_function_called_once_and_chained_on_plain_arrays():
    f = Sigmoid()
    x = nd.array([0.5, -1.])
    with autograd.record():
        out = f(x)
        for _ in range(4):
            out = Sigmoid()(out)           # MXNet test_function1: must not crash
    with pytest.raises(AssertionError, match="Each Function instance can only be called once"):
        f(x)
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x)
    y.backward()
    s = 1 / (1 + np.exp(-np.array([0.5, -1.])))
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-6)
