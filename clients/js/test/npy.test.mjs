// Offline tests of the client's codecs (no server needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { encodeNpy, decodeNpy, flatten } from "../tensord.mjs";

test("flatten nested arrays row-major and rejects ragged input", () => {
  assert.deepEqual(flatten([[1, 2, 3], [4, 5, 6]]), { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] });
  assert.deepEqual(flatten(7), { data: [7], shape: [] });
  assert.throws(() => flatten([[1, 2], [3]]), /ragged/);
});

test("npy round trip keeps shape, dtype and bits, header 64-byte aligned", () => {
  const data = new Float32Array([1.5, -2, NaN, Infinity, 3.25, 0.1]);
  const bytes = encodeNpy(data, [2, 3], "float32");
  assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0);
  const t = decodeNpy(bytes);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, "float32");
  assert.deepEqual(Array.from(t.data), Array.from(data));
});

test("npy written by this client is read by numpy, and numpy's is read by the client", (t) => {
  let python = true;
  try { execFileSync("python3", ["-c", "import numpy"]); } catch { python = false; }
  if (!python) { t.skip("python3 with numpy not available"); return; }
  const bytes = encodeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2], "float64");
  const out = execFileSync("python3", ["-c",
    "import sys, io, numpy as np; a = np.load(io.BytesIO(sys.stdin.buffer.read())); print(a.dtype, a.shape, a.sum())"],
    { input: Buffer.from(bytes) }).toString().trim();
  assert.equal(out, "float64 (3, 2) 21.0");
  const fromNumpy = execFileSync("python3", ["-c",
    "import sys, io, numpy as np; b = io.BytesIO(); np.save(b, np.arange(12, dtype='<i4').reshape(3, 4)); sys.stdout.buffer.write(b.getvalue())"]);
  const t2 = decodeNpy(new Uint8Array(fromNumpy));
  assert.deepEqual(t2.shape, [3, 4]);
  assert.equal(t2.dtype, "int32");
  assert.deepEqual(Array.from(t2.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test("npy decoder rejects Fortran order, big-endian and garbage", () => {
  const good = encodeNpy(new Float32Array([1, 2]), [2], "float32");
  // Patch the ASCII header in place (the magic's 0x93 byte is not text).
  const patch = (from, to) => {
    const out = good.slice();
    const header = String.fromCharCode(...out.subarray(0, 80));
    const at = header.indexOf(from);
    assert.ok(at > 0 && from.length === to.length);
    for (let i = 0; i < to.length; i++) out[at + i] = to.charCodeAt(i);
    return out;
  };
  assert.throws(() => decodeNpy(patch("'fortran_order': False", "'fortran_order': True ")), /Fortran/);
  assert.throws(() => decodeNpy(patch("'<f4'", "'>f4'")), /unsupported/);
  assert.throws(() => decodeNpy(new Uint8Array([1, 2, 3])), /not an .npy/);
});
