// Tests against a real tensord: started on an ephemeral port from TENSORD_BIN (or the debug build).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { Client, TensordError, NDArray } from "../tensord.mjs";

let proc, client;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on("error", reject);
  });
}

before(async () => {
  const bin = process.env.TENSORD_BIN ||
    execFileSync("swift", ["build", "--show-bin-path"], { cwd: new URL("../../..", import.meta.url).pathname }).toString().trim() + "/tensord";
  const port = await freePort();
  proc = spawn(bin, ["--port", String(port)], { stdio: "ignore" });
  client = new Client({ url: `http://127.0.0.1:${port}` });
  for (let i = 0; i < 200; i++) {
    try { if ((await client.request("GET", "/livez")).status === "ok") return; } catch { /* not up yet */ }
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error("tensord did not start");
});

after(() => { proc?.kill("SIGTERM"); });

test("seed example step by step gives x.grad == [2, 4, 6, 8]", async () => {
  const s = await client.createSession();
  try {
    const x = await s.array([1, 2, 3, 4]);
    await x.attachGrad();
    const y = await s.record(async () => {
      assert.equal(await s.isRecording(), true);
      const xx = await s.nd.broadcast_mul(x, x);
      return s.nd._plus_scalar(xx, { scalar: 1 });
    });
    assert.equal(await s.isRecording(), false);
    await y.backward();
    const g = await x.grad();
    assert.ok(g.data instanceof Float32Array);
    assert.deepEqual(Array.from(g.data), [2, 4, 6, 8]);
  } finally { await s.delete(); }
});

test("seed example as one batched run program", async () => {
  const s = await client.createSession();
  try {
    const res = await s.program()
      .create("x", [1, 2, 3, 4]).attachGrad("x")
      .record(p => p.op("broadcast_mul", ["x", "x"], {}, "xx").op("_plus_scalar", ["xx"], { scalar: 1 }, "y"))
      .backward(["y"]).fetch("x.grad", "y").run();
    assert.deepEqual(Array.from(res.fetched["x.grad"].data), [2, 4, 6, 8]);
    assert.deepEqual(Array.from(res.fetched.y.data), [2, 5, 10, 17]);
  } finally { await s.delete(); }
});

test("errors are TensordError with the problem code and MXNet's text", async () => {
  const s = await client.createSession();
  try {
    const x = await s.array([1, 2, 3]);
    await x.attachGrad();
    const y = await s.record(() => s.nd._mul_scalar(x, { scalar: 3 }));
    await y.backward();
    await assert.rejects(y.backward(), (e) => e instanceof TensordError && e.code === "graph-freed" && e.status === 409 &&
      /Cannot differentiate node because it is not in a computational graph/.test(e.detail));
    await assert.rejects(s.op("no_such_op", [x]), (e) => e.code === "unknown-op" && e.status === 404);
    const a = await s.array([[1, 2, 3], [4, 5, 6]]);
    const b = await s.array([[1, 2], [3, 4], [5, 6]]);
    await assert.rejects(s.nd.broadcast_add(a, b), (e) => e.code === "shape-mismatch" && e.status === 422);
  } finally { await s.delete(); }
});

test("scopes are exited even when the body throws", async () => {
  const s = await client.createSession();
  try {
    await assert.rejects(s.record(async () => { throw new Error("boom"); }), /boom/);
    assert.deepEqual(await s.flags(), { is_recording: false, is_training: false });
    await s.trainMode(async () => assert.equal(await s.isTraining(), true));
    assert.equal(await s.isTraining(), false);
    assert.equal(await s.setRecording(true), false);
    assert.equal(await s.setRecording(false), true);
  } finally { await s.delete(); }
});

test("grad with createGraph gives the second derivative of x^3 (6x)", async () => {
  const s = await client.createSession();
  try {
    const x = await s.array([1, 2, 3], { dtype: "float64" });
    await x.attachGrad();
    const dx = await s.record(async () => {
      const y = await s.nd._power_scalar(x, { scalar: 3 });
      const [d] = await s.grad([y], [x], { createGraph: true, retainGraph: true });
      return d;
    });
    assert.deepEqual(Array.from((await dx.values()).data), [3, 12, 27]);
    await dx.backward();
    assert.deepEqual(Array.from((await x.grad()).data), [6, 12, 18]);
  } finally { await s.delete(); }
});

test("large arrays travel as .npy and round-trip bit for bit", async () => {
  const s = await client.createSession();
  try {
    const n = 100_000;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 1e3;
    data[7] = NaN; data[8] = -Infinity;
    const x = await s.array(data, { shape: [100, 1000] });
    assert.deepEqual(x.shape, [100, 1000]);
    const back = await x.values();
    assert.deepEqual(back.shape, [100, 1000]);
    assert.ok(back.data instanceof Float32Array);
    assert.equal(Buffer.compare(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength),
                                Buffer.from(data.buffer)), 0);
  } finally { await s.delete(); }
});

test("catalog operators are methods, get_symbol returns SVG", async () => {
  const s = await client.createSession();
  try {
    assert.ok("broadcast_add" in s.nd && "FullyConnected" in s.nd);
    const x = await s.array([1, 2, 3, 4]);
    await x.attachGrad();
    const y = await s.record(async () => s.nd._plus_scalar(await s.nd.broadcast_mul(x, x), { scalar: 1 }));
    assert.ok(y instanceof NDArray);
    const sym = await y.symbol();
    assert.deepEqual(sym.arguments.length, 1);
    const svg = await y.symbol({ format: "svg" });
    assert.match(svg, /^<svg|<\?xml/);
    assert.match(svg, /broadcast_mul/);
    assert.equal(await y.svg(), svg);
  } finally { await s.delete(); }
});

test("examples/seed.mjs prints [ 2, 4, 6, 8 ]", async () => {
  const example = new URL("../../../examples/seed.mjs", import.meta.url).pathname;
  const out = execFileSync(process.execPath, [example], { env: { ...process.env, TENSORD_URL: client.url } }).toString();
  assert.equal(out.trim(), "[ 2, 4, 6, 8 ]");
});
