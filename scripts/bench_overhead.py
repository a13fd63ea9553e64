#!/usr/bin/env python3
"""Issue 7.4: per-iteration time of the MXNet overhead loop

    x = nd.array([1, 2, 3, 4]); x.attach_grad()
    for i in range(N):
        with autograd.record():
            y = x * 2 + 1
        y.backward()
        x.grad.asnumpy()

  bench_overhead.py mxnet          real MXNet in-process
  bench_overhead.py tensord-mx     the same code through tensord.mx, pipelined session
  bench_overhead.py tensord-run    the same iteration as one `run` request (record{y=x*2+1};
                                   backward; fetch x.grad)

Each prints `us_per_iter X`: the median over ROUNDS rounds of N iterations (after a warm-up),
and checks the gradient (2, 2, 2, 2) so that a broken path cannot look fast.
"""
import os
import statistics
import sys
import time

N = int(os.environ.get("N", "2000"))
ROUNDS = int(os.environ.get("ROUNDS", "7"))


def measure(step):
    for _ in range(max(N // 10, 20)):
        step()
    rounds = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(N):
            step()
        rounds.append((time.perf_counter() - t) / N)
    return statistics.median(rounds) * 1e6


def check(grad):
    assert [float(v) for v in grad] == [2.0, 2.0, 2.0, 2.0], grad


def loop(mx):
    nd, autograd = mx.nd, mx.autograd
    x = nd.array([1, 2, 3, 4])
    x.attach_grad()

    def step():
        with autograd.record():
            y = x * 2 + 1
        y.backward()
        return x.grad.asnumpy()

    check(step())
    return measure(step)


def run_program():
    from tensord.client import Client
    client = Client()
    session = client.create_session()
    x = session.program()
    x.create([1, 2, 3, 4], id="x")
    x.attach_grad("x")
    x.run()
    steps = [{"scope": "record", "steps": [
                 {"op": "_mul_scalar", "inputs": ["x"], "params": {"scalar": 2}, "id": "t"},
                 {"op": "_plus_scalar", "inputs": ["t"], "params": {"scalar": 1}, "id": "y"}]},
             {"backward": ["y"]},
             {"release": ["t", "y"]}]

    def step():
        return session.run(steps, fetch=["x.grad"])["fetched"]["x.grad"]

    check(step())
    result = measure(step)
    session.close()
    return result


def main():
    kind = sys.argv[1]
    if kind == "mxnet":
        import mxnet
        us = loop(mxnet)
    elif kind == "tensord-mx":
        os.environ["TENSORD_PIPELINE"] = "1"
        import tensord.mx
        us = loop(tensord.mx)
    else:
        us = run_program()
    print(f"us_per_iter {us:.1f}")


if __name__ == "__main__":
    main()
