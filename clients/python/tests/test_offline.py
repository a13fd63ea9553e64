"""Client mechanics checked without a server: dispatch, repr, codec, ids, GC batching, errors."""

import gc
import json

import numpy as np
import pytest

import tensord
from tensord import _codec, client as client_mod
from tensord import mx
from tensord.mx import _state

from fake_server import FakeTransport


@pytest.fixture
def fake():
    transport = FakeTransport()
    session = tensord.Client(transport=transport).create_session()
    previous = _state.set_session(session)
    yield transport
    _state.set_session(previous) if previous is not None else None
    session.closed = True


# -- operator dispatch (mxnet-autograd.md §3, §9) ------------------------------------------------

ARRAY_DISPATCH = [
    (lambda a, b: a + b, "broadcast_add", np.add),
    (lambda a, b: a - b, "broadcast_sub", np.subtract),
    (lambda a, b: a * b, "broadcast_mul", np.multiply),
    (lambda a, b: a / b, "broadcast_div", np.divide),
    (lambda a, b: a % b, "broadcast_mod", np.mod),
    (lambda a, b: a ** b, "broadcast_power", np.power),
    (lambda a, b: a == b, "broadcast_equal", np.equal),
    (lambda a, b: a != b, "broadcast_not_equal", np.not_equal),
    (lambda a, b: a > b, "broadcast_greater", np.greater),
    (lambda a, b: a >= b, "broadcast_greater_equal", np.greater_equal),
    (lambda a, b: a < b, "broadcast_lesser", np.less),
    (lambda a, b: a <= b, "broadcast_lesser_equal", np.less_equal),
]


@pytest.mark.parametrize("fn,op,ref", ARRAY_DISPATCH, ids=[d[1] for d in ARRAY_DISPATCH])
def test_array_operators_dispatch_to_broadcast_ops(fake, fn, op, ref):
    a_np, b_np = np.array([1., 2., 3.], np.float32), np.array([2., 2., 1.], np.float32)
    a, b = mx.nd.array(a_np), mx.nd.array(b_np)
    fake.log.clear()
    c = fn(a, b)
    assert fake.ops_sent() == [(op, {"inputs": [a.id, b.id], "ids": [c.id]})]
    np.testing.assert_allclose(c.asnumpy(), ref(a_np, b_np).astype(np.float32))


SCALAR_DISPATCH = [
    (lambda a: a + 2, "_plus_scalar"), (lambda a: 2 + a, "_plus_scalar"),
    (lambda a: a - 2, "_minus_scalar"), (lambda a: 2 - a, "_rminus_scalar"),
    (lambda a: a * 2, "_mul_scalar"), (lambda a: 2 * a, "_mul_scalar"),
    (lambda a: a / 2, "_div_scalar"), (lambda a: 2 / a, "_rdiv_scalar"),
    (lambda a: a % 2, "_mod_scalar"), (lambda a: 2 % a, "_rmod_scalar"),
    (lambda a: a ** 2, "_power_scalar"), (lambda a: 2 ** a, "_rpower_scalar"),
    (lambda a: a == 2, "_equal_scalar"), (lambda a: a != 2, "_not_equal_scalar"),
    (lambda a: a > 2, "_greater_scalar"), (lambda a: a >= 2, "_greater_equal_scalar"),
    (lambda a: a < 2, "_lesser_scalar"), (lambda a: a <= 2, "_lesser_equal_scalar"),
    (lambda a: 2 < a, "_greater_scalar"), (lambda a: np.float32(2) * a, "_mul_scalar"),
]


@pytest.mark.parametrize("fn,op", SCALAR_DISPATCH)
def test_scalar_operators_dispatch_to_scalar_ops(fake, fn, op):
    a = mx.nd.array([1., 2., 3.])
    fake.log.clear()
    c = fn(a)
    sent = fake.ops_sent()
    assert sent == [(op, {"inputs": [a.id], "params": {"scalar": 2.0}, "ids": [c.id]})]
    assert isinstance(c, mx.nd.NDArray)


def test_negation_is_mul_scalar_minus_one(fake):
    a = mx.nd.array([1., -2.])
    fake.log.clear()
    b = -a
    assert fake.ops_sent() == [("_mul_scalar", {"inputs": [a.id], "params": {"scalar": -1.0},
                                                "ids": [b.id]})]
    np.testing.assert_array_equal(b.asnumpy(), [-1., 2.])


@pytest.mark.parametrize("name,op", [("__iadd__", "broadcast_add"), ("__isub__", "broadcast_sub"),
                                     ("__imul__", "broadcast_mul"), ("__itruediv__", "broadcast_div"),
                                     ("__imod__", "broadcast_mod")])
def test_inplace_operators_write_into_self(fake, name, op):
    a, b = mx.nd.array([4., 6.]), mx.nd.array([2., 4.])
    fake.log.clear()
    r = getattr(a, name)(b)
    assert r is a
    assert fake.ops_sent() == [(op, {"inputs": [a.id, b.id], "out": a.id})]
    a += 1
    assert fake.ops_sent()[-1] == ("_plus_scalar", {"inputs": [a.id], "params": {"scalar": 1.0},
                                                    "out": a.id})


def test_unsupported_operand_type_raises_typeerror(fake):
    a = mx.nd.array([1.])
    with pytest.raises(TypeError, match="not supported"):
        a + "x"


# -- generated operator functions --------------------------------------------------------------

def test_catalog_ops_take_positional_params_in_catalog_order(fake):
    a = mx.nd.array([[-1., 0.5], [2., 3.]])
    fake.log.clear()
    c = mx.nd.clip(a, 0, 1)
    assert fake.ops_sent() == [("clip", {"inputs": [a.id], "params": {"a_min": 0, "a_max": 1},
                                         "ids": [c.id]})]
    np.testing.assert_array_equal(c.asnumpy(), [[0., 0.5], [1., 1.]])


def test_variadic_ops_and_multi_output_ids(fake):
    a, b = mx.nd.array([[1., 2.]]), mx.nd.array([[3., 4.]])
    c = mx.nd.concat(a, b, dim=0)
    assert c.shape == (2, 2)
    parts = mx.nd.split(c, num_outputs=2, axis=0)
    assert isinstance(parts, list) and len(parts) == 2
    assert fake.ops_sent()[-1][1]["ids"] == [p.id for p in parts]
    np.testing.assert_array_equal(parts[1].asnumpy(), [[3., 4.]])


def test_out_keyword_returns_out(fake):
    a, o = mx.nd.array([1., 2.]), mx.nd.zeros((2,))
    r = mx.nd.exp(a, out=o)
    assert r is o
    assert fake.ops_sent()[-1] == ("exp", {"inputs": [a.id], "out": o.id})


def test_unknown_op_is_attribute_error(fake):
    with pytest.raises(AttributeError, match="catalog"):
        mx.nd.no_such_operator


def test_array_inputs_rejected_as_params(fake):
    a = mx.nd.array([1.])
    with pytest.raises(TypeError, match="not an input"):
        mx.nd.clip(a, a_min=a, a_max=1)


# -- NDArray surface ----------------------------------------------------------------------------

def test_repr_matches_mxnet(fake):
    x = mx.nd.array([2., 4., 6., 8.])
    assert repr(x) == "\n[2. 4. 6. 8.]\n<NDArray 4 @cpu(0)>"
    y = mx.nd.array([[1, 2, 3], [4, 5, 6]])
    assert repr(y) == "\n[[1. 2. 3.]\n [4. 5. 6.]]\n<NDArray 2x3 @cpu(0)>"
    assert str(y) == repr(y)


def test_properties_and_default_dtype(fake):
    x = mx.nd.array(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert x.shape == (2, 3) and x.size == 6 and x.ndim == 2
    assert x.dtype is np.float32          # MXNet: float32 unless dtype= is given
    assert mx.nd.array([1, 2], dtype="int32").dtype is np.int32
    assert x.context == mx.cpu() and str(x.context) == "cpu(0)"
    assert x.grad is None
    assert x.T.shape == (3, 2)


def test_asscalar(fake):
    assert mx.nd.array([3.5]).asscalar() == np.float32(3.5)
    with pytest.raises(ValueError, match="The current array is not a scalar"):
        mx.nd.array([1., 2.]).asscalar()


def test_attach_grad_rejects_unknown_grad_req(fake):
    with pytest.raises(KeyError):
        mx.nd.array([1.]).attach_grad(grad_req="sideways")


def test_attach_grad_marks_with_a_server_buffer(fake):
    x = mx.nd.array([1., 2.])
    x.attach_grad("add")
    _, path, body, _, _ = fake.log[-1]
    assert path.endswith("/run")                 # one request: zero buffer + mark_variables
    assert body["steps"] == [
        {"op": "zeros_like", "inputs": [x.id], "id": x.grad.id},
        {"mark_variables": {"variables": [x.id], "gradients": [x.grad.id], "grad_reqs": "add"}}]
    np.testing.assert_array_equal(x.grad.asnumpy(), [0., 0.])


def test_basic_indexing(fake):
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = mx.nd.array(base)
    for key in [1, (1, 2), (0, 1, 2), (slice(None), 1), (Ellipsis, 2), (slice(0, 2, 1), slice(1, 3)),
                (slice(None, None, -1),), (-1, slice(None), slice(None, None, 2))]:
        got = x[key]
        want = base[key]
        if want.ndim == 0:
            want = want.reshape(1)
        assert got.shape == want.shape, key
        np.testing.assert_array_equal(got.asnumpy(), want)
    assert x[:] is x
    with pytest.raises(IndexError):
        x[5]


def test_setitem_full_and_partial(fake):
    x = mx.nd.zeros((2, 3))
    x[:] = 7
    np.testing.assert_array_equal(x.asnumpy(), np.full((2, 3), 7, np.float32))
    x[1] = 2            # no slice-assign op in the fake catalog: read-modify-write path
    x[0, 1:] = mx.nd.array([5., 6.])
    np.testing.assert_array_equal(x.asnumpy(), [[7, 5, 6], [2, 2, 2]])
    y = mx.nd.array([[1., 1., 1.], [1., 1., 1.]])
    y[:] = x
    assert fake.ops_sent()[-1] == ("_copy", {"inputs": [x.id], "out": y.id})


# -- transport choices, ids, GC ---------------------------------------------------------------

def test_small_arrays_travel_as_json_large_as_npy(fake):
    small = mx.nd.array(np.ones(_codec.SMALL_ELEMENTS, np.float32))
    assert fake.log[-1][3] == "application/json"
    big = mx.nd.array(np.arange(_codec.SMALL_ELEMENTS + 1, dtype=np.float32))
    assert fake.log[-1][3] == "application/x-npy"
    assert "?id=" + big.id in fake.log[-1][1]
    np.testing.assert_array_equal(big.asnumpy(), np.arange(_codec.SMALL_ELEMENTS + 1))
    assert fake.log[-1][4] == "application/x-npy"
    small.asnumpy()
    assert fake.log[-1][4] == "application/json"


def test_client_chosen_ids_are_valid_and_unique(fake):
    import re
    xs = [mx.nd.array([float(i)]) for i in range(50)]
    ids = [x.id for x in xs]
    assert len(set(ids)) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", i) for i in ids)


def test_garbage_collected_arrays_are_released_in_batches(fake):
    sess = _state.session()
    before = len(fake.arrays)
    xs = [mx.nd.array([float(i)]) for i in range(10)]
    assert len(fake.arrays) == before + 10
    del xs
    gc.collect()
    assert len(sess._pending) == 10
    assert len(fake.arrays) == before + 10        # nothing sent per object
    info = sess.info()                            # flushes the batch first
    assert info["usage"]["arrays"] == before
    releases = [e for e in fake.log if e[1].endswith("/release")]
    assert len(releases) == 1 and len(releases[0][2]["ids"]) == 10


def test_release_batch_flushes_when_it_grows(fake):
    sess = _state.session()
    x = mx.nd.array([1.])
    for _ in range(client_mod.RELEASE_BATCH + 5):
        x + 1                                      # result dropped at once
    releases = [e for e in fake.log if e[1].endswith("/release")]
    assert len(releases) == 1
    assert len(releases[0][2]["ids"]) == client_mod.RELEASE_BATCH
    assert len(sess._pending) < client_mod.RELEASE_BATCH


def test_release_flushes_when_pending_bytes_grow(fake, monkeypatch):
    monkeypatch.setattr(client_mod, "RELEASE_BYTES", 4000)
    x = mx.nd.array(np.zeros(600, np.float32))    # 2400 bytes per result
    x + 1
    assert not [e for e in fake.log if e[1].endswith("/release")]
    x + 1                                          # 4800 pending bytes: flushed before the next
    x + 1
    releases = [e for e in fake.log if e[1].endswith("/release")]
    assert len(releases) == 1 and len(releases[0][2]["ids"]) == 2


# -- errors --------------------------------------------------------------------------------------

def test_problem_becomes_mxnet_error(fake):
    x = mx.nd.array([1.])
    fake.fail_next = (409, "not-recorded", "Cannot differentiate node because it is not in a "
                                           "computational graph.")
    with pytest.raises(mx.base.MXNetError) as info:
        x.backward()
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.code == "not-recorded" and err.status == 409
    assert str(err).startswith("Cannot differentiate node")


def test_non_problem_error_body(fake):
    from tensord.errors import error_from_response
    err = error_from_response(502, "text/plain", b"bad gateway")
    assert err.status == 502 and err.code == "http-502" and str(err) == "bad gateway"


def test_autograd_python_level_assertions(fake):
    x = mx.nd.array([1.])
    with pytest.raises(AssertionError, match="heads and head_grads must be lists of the same length"):
        mx.autograd.backward([x, x], [x])
    with pytest.raises(AssertionError, match="variables cannot be an empty list."):
        mx.autograd.grad([x], [])
    with pytest.raises(AssertionError, match="get_symbol: Invalid argument type"):
        mx.autograd.get_symbol(3)
    with pytest.raises(KeyError):
        mx.autograd.mark_variables([x], [x], "bogus")


# -- codec --------------------------------------------------------------------------------------

def test_tensor_json_non_finite_roundtrip():
    arr = np.array([1.5, np.nan, np.inf, -np.inf], np.float32)
    obj = json.loads(json.dumps(_codec.tensor_json(arr)))
    assert obj["data"][1:] == ["NaN", "Infinity", "-Infinity"]
    back = _codec.array_from_tensor(obj)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, arr)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_npy_roundtrip(dtype):
    arr = (np.arange(12) * 3).astype(dtype).reshape(3, 4)
    back = _codec.decode_npy(_codec.encode_npy(arr))
    assert back.dtype == arr.dtype
    np.testing.assert_array_equal(back, arr)


def test_dtype_names():
    assert _codec.dtype_name(None) == "float32"
    assert _codec.dtype_name(np.float64) == "float64"
    assert _codec.dtype_name("FP32") == "float32"
    with pytest.raises(TypeError, match="not supported"):
        _codec.dtype_name("float16")


def test_to_param_converts_tuples_numpy_and_dtypes():
    assert client_mod.to_param((1, (2, None))) == [1, [2, None]]
    assert client_mod.to_param(np.int64(3)) == 3 and type(client_mod.to_param(np.int64(3))) is int
    assert client_mod.to_param(np.float32) == "float32"
