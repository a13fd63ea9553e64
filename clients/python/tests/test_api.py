"""The low-level client against a real tensord: sessions, arrays, run programs, errors, GC."""

import gc
import time

import numpy as np
import pytest

import tensord
from tensord import mx
from tensord.mx import autograd, nd


def live_arrays(session):
    return session.info()["usage"]["arrays"]


def test_livez_readyz_catalog(client):
    assert client.livez() == {"status": "ok"}
    assert client.readyz() is True
    ops = client.ops()
    for name in ("broadcast_add", "_plus_scalar", "_mul_scalar", "sum", "dot", "FullyConnected"):
        assert name in ops, name
    spec = client.op("broadcast_add")
    assert spec["name"] == "broadcast_add" and spec["inputs"] == ["lhs", "rhs"]


def test_every_catalog_op_is_an_nd_function(mxs, client):
    explicit = 0
    for name, spec in client.ops().items():
        fn = getattr(nd, name)
        assert callable(fn) and fn.__name__ == name and fn.__doc__
        if fn.__module__ == nd.__name__ and name in vars(nd):
            explicit += 1        # MXNet's Python-level functions (nd.add, nd.zeros, ...)
        else:
            assert (spec.get("summary") or "") in fn.__doc__
    assert explicit < 30


def test_session_context_manager_deletes(client):
    with client.create_session() as s:
        sid = s.id
        assert any(x["id"] == sid for x in client.sessions())
    with pytest.raises(tensord.TensordError) as err:
        client.attach(sid).flags()
    assert err.value.code == "session-not-found" and err.value.status == 404


def test_session_lifetime_is_sent_and_shown(client):
    with client.create_session(ttl_s=120, idle_timeout_s=60) as s:
        info = client.request_json("GET", "/v1/sessions/" + s.id)
        assert info["ttl_s"] == 120 and info["idle_timeout_s"] == 60
    with pytest.raises(tensord.TensordError) as failure:
        client.create_session(ttl_s=0)
    assert failure.value.code == "invalid-argument" and "ttl_s" in str(failure.value)


def test_low_level_seed_example(session):
    x = session.create_array([1, 2, 3, 4], id="x")
    assert x["shape"] == [4] and x["dtype"] == "float32" and x["id"] == "x"
    session.attach_grad("x")
    scope = session.push_scope("record")
    xx = session.invoke("broadcast_mul", ["x", "x"], ids=["xx"])[0]
    y = session.invoke("_plus_scalar", [xx["id"]], {"scalar": 1}, ids=["y"])[0]
    session.pop_scope(scope["id"])
    assert session.backward([y["id"]]) == ["x"]
    np.testing.assert_array_equal(session.get_grad("x"), [2, 4, 6, 8])
    np.testing.assert_array_equal(session.get_data("y"), [2, 5, 10, 17])


def test_run_program_seed_example(session):
    p = session.program()
    x = p.create([1, 2, 3, 4], id="x")
    p.attach_grad(x)
    with p.scope("record", train_mode=True):
        xx = p.op("broadcast_mul", [x, x])
        y = p.op("_plus_scalar", [xx], scalar=1, id="y")
    p.backward([y])
    p.release([xx])
    result = p.run(fetch=["x.grad", "y"])
    assert result["steps"] == len(p.steps)
    np.testing.assert_array_equal(result["fetched"]["x.grad"], [2, 4, 6, 8])
    np.testing.assert_array_equal(result["fetched"]["y"], [2, 5, 10, 17])
    assert session.flags() == {"is_recording": False, "is_training": False}


def test_run_program_error_reports_step_and_exits_scopes(session):
    p = session.program()
    a = p.create([1, 2, 3])
    with p.scope("record"):
        p.op("broadcast_add", [a, p.create([1, 2])])
    with pytest.raises(tensord.TensordError) as err:
        p.run()
    assert err.value.code == "shape-mismatch" and err.value.status == 422
    assert err.value.step == "1.1"
    assert session.scopes() == []
    assert session.array(a)["shape"] == [3]       # created before the failure: kept


def test_flags_scopes_seed_low_level(session):
    assert session.set_flags(is_recording=True) == {
        "previous": {"is_recording": False, "is_training": False},
        "current": {"is_recording": True, "is_training": False}}
    session.set_flags(is_recording=False)
    frame = session.push_scope("pause", train_mode=True)
    assert frame["kind"] == "pause" and frame["is_training"] is True
    inner = session.push_scope("predict_mode")
    with pytest.raises(tensord.TensordError) as err:
        session.pop_scope(frame["id"])
    assert err.value.code == "scope-order"
    session.pop_scope(inner["id"])
    assert session.pop_scope(frame["id"]) == {"is_recording": False, "is_training": False}
    with pytest.raises(tensord.TensordError) as err:
        session.push_scope("sideways")
    assert err.value.code == "invalid-argument"


@pytest.mark.parametrize("call,code,status", [
    (lambda s: s.invoke("no_such_op", []), "unknown-op", 404),
    (lambda s: s.get_data("missing"), "array-not-found", 404),
    (lambda s: s.invoke("broadcast_add", [s.create_array([1, 2])["id"],
                                          s.create_array([1, 2, 3])["id"]]), "shape-mismatch", 422),
    (lambda s: s.invoke("broadcast_add", [s.create_array([1.])["id"],
                                          s.create_array([1.], dtype="float64")["id"]]),
     "dtype-mismatch", 422),
    (lambda s: [s.create_array([1], id="dup"), s.create_array([2], id="dup")], "array-exists", 409),
    (lambda s: s.get_grad(s.create_array([1])["id"]), "grad-not-attached", 404),
    (lambda s: s.attach_grad(s.create_array([1])["id"], "sideways"), "invalid-argument", 400),
    (lambda s: s.put_data(s.create_array([1, 2])["id"], [1, 2, 3]), "data-size-mismatch", 422),
    (lambda s: s.client.request("POST", s._base + "/arrays", body=b"{nope",
                                content_type="application/json"), "invalid-body", 400),
    (lambda s: s.invoke("clip", [s.create_array([1])["id"]], {"a_min": "x", "a_max": 1}),
     "invalid-attribute", 422),
])
def test_error_mapping(session, call, code, status):
    with pytest.raises(tensord.TensordError) as err:
        call(session)
    e = err.value
    assert (e.code, e.status) == (code, status)
    assert isinstance(e, mx.base.MXNetError) and isinstance(e, RuntimeError)
    assert str(e) == e.detail and e.detail


def test_mxnet_messages_pass_through(mxs):
    x = nd.array([1., 2.])
    with autograd.record():
        y = x * 2                                  # x never attached: not in a graph
    with pytest.raises(mx.base.MXNetError) as err:
        y.backward()
        nd.waitall()
    assert err.value.detail.startswith(
        "Cannot differentiate node because it is not in a computational graph. You need to set "
        "is_recording to true or use autograd.record() to save computational graphs for backward.")
    v = nd.array([1.])
    v.attach_grad(grad_req="null")
    with autograd.record():
        w = v * 2
    with pytest.raises(mx.base.MXNetError) as err:
        w.backward()
        nd.waitall()
    assert err.value.code == "no-grad-variables"
    assert "There are no inputs in computation graph that require gradients." in str(err.value)


def test_garbage_collected_arrays_are_freed_on_the_server(mxs):
    base = live_arrays(mxs)
    xs = [nd.array([float(i)]) for i in range(20)]
    ys = [x * 2 for x in xs]
    assert live_arrays(mxs) == base + 40
    del xs, ys
    gc.collect()
    assert live_arrays(mxs) == base
    keep = nd.array([1., 2.])
    tmp = keep + 1
    del tmp
    assert live_arrays(mxs) == base + 1
    np.testing.assert_array_equal(keep.asnumpy(), [1., 2.])


def test_ten_thousand_ops_leave_no_server_arrays_behind(mxs):
    """10,000 ops in an SGD-like loop through tensord.mx: only the live arrays remain."""
    base = live_arrays(mxs)
    w = nd.array(np.zeros(4))
    x = nd.array([1., 2., 3., 4.])
    started = time.monotonic()
    ops = 0
    while ops < 10_000:
        y = w * x + 1           # 2 ops
        w -= y * 0.001          # 2 ops (one in place)
        ops += 4
    elapsed = time.monotonic() - started
    assert elapsed < 60, "10,000 ops took %.1f s" % elapsed
    del y
    gc.collect()
    assert live_arrays(mxs) == base + 2          # w and x
    want = np.zeros(4, np.float32)
    for _ in range(2500):
        want -= (want * np.array([1, 2, 3, 4], np.float32) + 1) * np.float32(0.001)
    np.testing.assert_allclose(w.asnumpy(), want, rtol=1e-4)


def test_ten_thousand_steps_in_run_programs_leave_nothing(session):
    base = live_arrays(session)
    x = session.create_array([1., 2., 3.])["id"]
    for _ in range(4):
        p = session.program()
        prev = x
        made = []
        for _ in range(2500):
            prev = p.op("_plus_scalar", [prev], scalar=1)
            made.append(prev)
        p.release(made[:-1])
        result = p.run(fetch=[prev])
        np.testing.assert_array_equal(result["fetched"][prev], [2501., 2502., 2503.])
        session.release([prev])
    assert live_arrays(session) == base + 1


def test_graph_rendering(mxs):
    x = nd.array([1., 2.])
    x.attach_grad()
    with autograd.record():
        y = x * x + 2 * x - 1
    sym = autograd.get_symbol(y)
    ops = [n["op"] for n in sym.graph["nodes"]]
    for op in ("broadcast_mul", "_mul_scalar", "broadcast_add", "_minus_scalar"):
        assert op in ops
    assert sym.to_svg().lstrip().startswith(("<svg", "<?xml"))
    assert "digraph" in sym.to_dot()


def test_pipelined_ops_do_not_wait_and_errors_surface_at_sync(client):
    with client.create_session(pipeline=True) as s:
        previous = mx.set_session(s)
        try:
            a, b = nd.array([1., 2., 3.]), nd.array([1., 2.])
            outs = [a + i for i in range(10)]
            assert s.queued == 10 and client.transport.in_flight == 0   # queued, not sent yet
            assert outs[3].shape == (3,)                   # reading a shape waits for its response
            bad = a + b                                    # shape mismatch: reported later
            good = a * 2
            with pytest.raises(mx.base.MXNetError) as err:
                good.asnumpy()
            e = err.value
            assert e.code == "shape-mismatch" and e.operation == "broadcast_add"
            assert str(e).startswith("broadcast_add: ") and str(e) == "broadcast_add: " + e.detail
            np.testing.assert_array_equal(good.asnumpy(), [2., 4., 6.])   # the session goes on
            with pytest.raises(mx.base.MXNetError) as err:
                bad.shape
            assert err.value.code == "array-not-found"
            assert mx.set_pipelining(False) is True and not s.pipeline
        finally:
            mx.set_session(previous) if previous is not None else None


@pytest.fixture
def pipelined(client):
    """``tensord.mx`` on a fresh pipelined session."""
    with client.create_session(pipeline=True) as s:
        previous = mx.set_session(s)
        try:
            yield s
        finally:
            mx.set_session(previous) if previous is not None else None


def count_submits(transport):
    """Counts ``transport.submit`` calls (each one HTTP request); returns (counter, restore)."""
    original = transport.submit
    counter = [0]

    def counting(*args, **kwargs):
        counter[0] += 1
        return original(*args, **kwargs)

    transport.submit = counting
    return counter, lambda: setattr(transport, "submit", original)


def test_pipelined_iteration_and_its_read_are_one_run_request(pipelined, client):
    x = nd.array([1., 2., 3., 4.])
    x.attach_grad()
    x.grad.asnumpy()
    counter, restore = count_submits(client.transport)
    try:
        with autograd.record():
            y = x * 2 + 1
        y.backward()
        assert pipelined.queued == 4 and counter[0] == 0      # scope(2 ops), backward
        np.testing.assert_array_equal(x.grad.asnumpy(), [2., 2., 2., 2.])
        assert counter[0] == 1                                # one run, its fetch the read
    finally:
        restore()
    assert y.shape == (4,) and y.dtype == np.float32          # infos came with the run
    assert pipelined.scopes() == [] and autograd.is_recording() is False


def test_pipelined_asscalar_of_a_fresh_result_is_one_request(pipelined, client):
    x = nd.array([1., 2., 3.])
    x.asnumpy()
    counter, restore = count_submits(client.transport)
    try:
        total = (x * 2).sum()
        assert total.asscalar() == 12.0 and counter[0] == 1
        assert total.shape == (1,)                            # its info came with the run
        with pytest.raises(ValueError, match="not a scalar"):
            (x + 1).asscalar()
        assert counter[0] == 2
    finally:
        restore()


def test_pipelined_batch_failure_names_the_step_and_later_steps_still_run(pipelined):
    a, b = nd.array([1., 2., 3.]), nd.array([1., 2.])
    with autograd.record():
        with autograd.pause():
            before = a * 3
            bad = a + b                                   # fails inside two queued scopes
            after = a - 1                                 # still runs, as its own request would
    later = after * 2
    with pytest.raises(mx.base.MXNetError) as err:
        nd.waitall()
    e = err.value
    assert e.code == "shape-mismatch" and e.operation == "broadcast_add"
    assert str(e) == "broadcast_add: " + e.detail
    assert "step" not in e.problem and "completed" not in e.problem
    # The failed run's response carried no infos: shapes are asked for when needed.
    assert before.shape == (3,) and after.shape == (3,)
    np.testing.assert_array_equal(later.asnumpy(), [0., 2., 4.])
    with pytest.raises(mx.base.MXNetError) as err:
        bad.shape
    assert err.value.code == "array-not-found"
    assert pipelined.scopes() == [] and autograd.is_recording() is False


def test_pipelined_scope_open_across_a_read_is_entered_on_the_server(pipelined):
    x = nd.array([1., 2., 3.])
    x.attach_grad()
    with autograd.record():
        y = x * x
        assert autograd.is_recording() is True            # the batch left with the scope open
        assert [s["kind"] for s in pipelined.scopes()] == ["record"]
        np.testing.assert_array_equal(y.asnumpy(), [1., 4., 9.])
        with autograd.pause():
            z = y * 2                                     # not recorded
        w = y + z
    w.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [2., 4., 6.])
    assert pipelined.scopes() == [] and autograd.is_recording() is False


def test_pipelined_batch_is_sent_when_full_also_inside_a_scope(pipelined, client):
    from tensord import client as client_module
    x0 = nd.array([0.])
    x0.attach_grad()
    x0.grad.asnumpy()
    counter, restore = count_submits(client.transport)
    try:
        x = x0
        with autograd.record():
            n = client_module.BATCH_STEPS // 2 + 3     # 2 ops each: one batch fills up
            for _ in range(n):
                x = x * 1 + 1
            assert counter[0] == 2          # the full batch's run, then entering the scope
        x.backward()
        assert x.asscalar() == n
        assert x0.grad.asscalar() == 1
    finally:
        restore()
    assert pipelined.scopes() == []


def test_pipelined_read_of_a_missing_gradient_fails_as_a_read(pipelined):
    x = nd.array([1., 2.])
    y = x * 2
    with pytest.raises(mx.base.MXNetError) as err:
        pipelined.get_grad(x, size_hint=2)    # rides as the fetch of the queued op's run
    assert err.value.code == "grad-not-attached"
    assert getattr(err.value, "operation", None) is None
    np.testing.assert_array_equal(y.asnumpy(), [2., 4.])


def test_export_npz_is_read_by_numpy_and_imports_into_another_session(client, session, tmp_path):
    w = np.array([[1.5, np.nan], [-0.0, 2.0 ** -1074]])
    session.create_array(w, dtype="float64", id="w")
    session.create_array(np.array([1, 2, 3], dtype=np.int64), id="k")
    session.attach_grad("w", grad_req="add")
    path = tmp_path / "s.npz"
    data = session.export_npz(path)
    with np.load(path) as archive:
        assert sorted(archive.files) == ["grad/add/w", "k", "w"]
        assert archive["w"].tobytes() == w.tobytes()
        assert archive["k"].tolist() == [1, 2, 3]
        assert archive["grad/add/w"].tolist() == [[0, 0], [0, 0]]
    with client.create_session() as other:
        infos = other.import_npz(data)
        assert [i["id"] for i in infos] == ["w", "k"]
        assert other.array("w")["grad_req"] == "add"
        assert other.get_data("w", size_hint=10_000).tobytes() == w.tobytes()
        with pytest.raises(tensord.TensordError) as error:
            other.import_npz(path)
        assert error.value.code == "array-exists"
