// tensord JavaScript client: one ES module, zero dependencies, Node 18+ and browsers.
//
//   import { Client } from "./tensord.mjs";
//   const client = new Client();                       // TENSORD_URL or http://127.0.0.1:8080
//   const s = await client.createSession();
//   const x = await s.array([1, 2, 3, 4]);
//   await x.attachGrad();
//   const y = await s.record(async () => {
//     const xx = await s.nd.broadcast_mul(x, x);
//     return s.nd._plus_scalar(xx, { scalar: 1 });
//   });
//   await y.backward();
//   (await x.grad()).data;                            // Float32Array [2, 4, 6, 8]
//
// The REST contract is docs/API.md / openapi.yaml.

const DEFAULT_URL = "http://127.0.0.1:8080";
/** Arrays with more elements than this travel as .npy instead of JSON. */
export const NPY_THRESHOLD = 4096;

const TYPED = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array,
};
const DESCR = { float32: "<f4", float64: "<f8", int32: "<i4", int64: "<i8", uint8: "|u1" };
const FROM_DESCR = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k]));

/** An RFC 9457 problem returned by tensord, with its stable `code`. */
export class TensordError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === "object" ? problem : { detail: String(problem ?? "") };
    super(p.detail || p.title || `HTTP ${status}`);
    this.name = "TensordError";
    this.status = status;
    this.code = p.code || (status >= 500 ? "internal" : "unknown");
    this.detail = p.detail || "";
    this.problem = p;
  }
}

function envURL() {
  try { return (typeof process !== "undefined" && process.env && process.env.TENSORD_URL) || undefined; }
  catch { return undefined; }
}

function decodeSpecial(v) {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  throw new TypeError(`unexpected tensor value ${JSON.stringify(v)}`);
}

function encodeSpecial(v) {
  if (typeof v === "bigint") return Number(v);
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

/** Flattens nested arrays; returns { data, shape }. */
export function flatten(value) {
  const shape = [];
  let probe = value;
  while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0]; }
  const data = [];
  const walk = (v, depth) => {
    if (depth === shape.length) { data.push(v); return; }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new TypeError("ragged nested array: every row must have the same length");
    for (const item of v) walk(item, depth + 1);
  };
  walk(value, 0);
  return { data, shape };
}

/** Encodes a typed array as a version 1.0 .npy file (64-byte aligned header). */
export function encodeNpy(typed, shape, dtype) {
  const descr = DESCR[dtype];
  if (!descr) throw new TypeError(`unsupported dtype ${dtype}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + typed.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), 10 + header.length);
  return out;
}

/** Decodes a .npy file (versions 1-3, little-endian, C order) into { shape, dtype, data: TypedArray }. */
export function decodeNpy(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new TypeError("not an .npy file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new TypeError("malformed .npy header");
  if (fortran === "True") throw new TypeError(".npy in Fortran order is not supported");
  const dtype = FROM_DESCR[descr];
  if (!dtype) throw new TypeError(`unsupported .npy dtype ${descr}`);
  const shape = shapeText.split(",").map(s => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = bytes.byteOffset + start + headerLen;
  const Typed = TYPED[dtype];
  const data = offset % Typed.BYTES_PER_ELEMENT === 0
    ? new Typed(bytes.buffer, offset, count)                                   // zero-copy view
    : new Typed(bytes.slice(start + headerLen, start + headerLen + count * Typed.BYTES_PER_ELEMENT).buffer);
  return { shape, dtype, data };
}

function tensorFromJSON(t) {
  const Typed = TYPED[t.dtype] || Float64Array;
  const values = t.data.map(decodeSpecial);
  return { shape: t.shape, dtype: t.dtype, data: Typed === BigInt64Array ? BigInt64Array.from(values, BigInt) : Typed.from(values) };
}

/** Low-level HTTP access: JSON in, JSON (or .npy) out, problems raised as TensordError. */
export class Client {
  constructor({ url = envURL() || DEFAULT_URL, apiKey, fetch: fetchImpl } = {}) {
    this.url = url.replace(/\/$/, "");
    this.apiKey = apiKey;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this._catalog = null;
  }

  async request(method, path, { json, body, contentType, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    else if (body !== undefined) headers["Content-Type"] = contentType || "application/octet-stream";
    const res = await this.fetch(this.url + path, { method, headers, body });
    const type = res.headers.get("content-type") || "";
    if (!res.ok) {
      let problem;
      try { problem = type.includes("json") ? await res.json() : await res.text(); } catch { problem = null; }
      throw new TensordError(res.status, problem);
    }
    if (res.status === 204) return null;
    if (type.includes("application/x-npy")) return decodeNpy(new Uint8Array(await res.arrayBuffer()));
    if (type.includes("json")) return res.json();
    return res.text();
  }

  /** The operator catalog (`GET /v1/ops`), cached. */
  async ops() {
    if (!this._catalog) this._catalog = (await this.request("GET", "/v1/ops")).ops;
    return this._catalog;
  }

  async createSession(options = {}) {
    const info = await this.request("POST", "/v1/sessions", { json: options });
    const session = new Session(this, info.id, info);
    session.catalog = await this.ops();
    return session;
  }

  async sessions() { return (await this.request("GET", "/v1/sessions")).sessions; }
}

/** A tensor session: arrays, scopes, operators, backward and grad. */
export class Session {
  constructor(client, id, info) {
    this.client = client;
    this.id = id;
    this.info = info;
    this.catalog = null;
    this._nd = null;
  }

  path(suffix = "") { return `/v1/sessions/${encodeURIComponent(this.id)}${suffix}`; }
  request(method, suffix, options) { return this.client.request(method, this.path(suffix), options); }

  async get() { return this.request("GET", ""); }
  async delete() { await this.request("DELETE", ""); }

  /**
   * Creates an array from nested arrays, a flat array with `shape`, or a typed array.
   * Large arrays travel as .npy. `dtype` defaults to the typed array's dtype, else float32.
   */
  async array(values, { shape, dtype, id } = {}) {
    let data;
    if (ArrayBuffer.isView(values)) {
      data = values;
      dtype = dtype || Object.keys(TYPED).find(k => values instanceof TYPED[k]) || "float32";
      shape = shape || [values.length];
    } else {
      const flat = flatten(values);
      data = flat.data;
      shape = shape || (flat.shape.length ? flat.shape : [1]);
      dtype = dtype || "float32";
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new TypeError(`shape [${shape}] needs ${count} values, got ${data.length}`);
    let info;
    if (count > NPY_THRESHOLD && TYPED[dtype]) {
      const Typed = TYPED[dtype];
      const typed = data instanceof Typed ? data : Typed.from(data);
      const query = id ? `?id=${encodeURIComponent(id)}` : "";
      info = await this.request("POST", `/arrays${query}`, { body: encodeNpy(typed, shape, dtype), contentType: "application/x-npy" });
    } else {
      const json = { shape, dtype, data: Array.from(data, encodeSpecial) };
      if (id) json.id = id;
      info = await this.request("POST", "/arrays", { json });
    }
    return new NDArray(this, info);
  }

  /** Wraps an existing server-side array id. */
  handle(id) { return new NDArray(this, { id }); }

  async arrays() { return (await this.request("GET", "/arrays")).arrays; }
  async release(arrays) {
    return this.request("POST", "/release", { json: { ids: arrays.map(a => (a instanceof NDArray ? a.id : a)) } });
  }

  /** Invokes an operator by its MXNet name: inputs are NDArrays or ids, params are named. */
  async op(name, inputs, params = {}, { out, ids, returnData } = {}) {
    const json = { inputs: inputs.map(a => (a instanceof NDArray ? a.id : a)), params };
    if (out) json.out = (Array.isArray(out) ? out : [out]).map(a => (a instanceof NDArray ? a.id : a));
    if (ids) json.ids = ids;
    if (returnData) json.return_data = true;
    const res = await this.request("POST", `/ops/${encodeURIComponent(name)}`, { json });
    const outputs = res.outputs.map(info => new NDArray(this, info));
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  /**
   * Every catalog operator as a method: `s.nd.broadcast_add(a, b)`, `s.nd.sum(x, { axis: 1 })`.
   * Array arguments come first; a trailing plain object holds the parameters.
   */
  get nd() {
    if (this._nd) return this._nd;
    const names = new Set((this.catalog || []).flatMap(op => [op.name, ...(op.aliases || [])]));
    this._nd = new Proxy({}, {
      get: (_, name) => {
        if (typeof name !== "string" || !names.has(name)) return undefined;
        return (...args) => {
          const last = args[args.length - 1];
          const params = last && !(last instanceof NDArray) && typeof last === "object" && !Array.isArray(last) ? args.pop() : {};
          const inputs = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
          return this.op(name, inputs, params);
        };
      },
      has: (_, name) => names.has(name),
      ownKeys: () => [...names],
      getOwnPropertyDescriptor: (_, name) => (names.has(name) ? { enumerable: true, configurable: true } : undefined),
    });
    return this._nd;
  }

  async flags() { return this.request("GET", "/flags"); }
  /** set_recording / set_training: returns the previous values. */
  async setFlags(flags) { return (await this.request("PATCH", "/flags", { json: flags })).previous; }
  async setRecording(on) { return (await this.setFlags({ is_recording: on })).is_recording; }
  async setTraining(on) { return (await this.setFlags({ is_training: on })).is_training; }
  async isRecording() { return (await this.flags()).is_recording; }
  async isTraining() { return (await this.flags()).is_training; }
  async seed(seed) { return this.request("POST", "/seed", { json: { seed } }); }

  /** Runs `body` inside a server-side scope; the scope is always exited, also when `body` throws. */
  async scope(kind, body, trainMode) {
    const json = { kind };
    if (trainMode !== undefined) json.train_mode = trainMode;
    const frame = await this.request("POST", "/scopes", { json });
    try {
      return await body();
    } finally {
      await this.request("DELETE", `/scopes/${encodeURIComponent(frame.id)}`);
    }
  }
  record(body, { trainMode = true } = {}) { return this.scope("record", body, trainMode); }
  pause(body, { trainMode = false } = {}) { return this.scope("pause", body, trainMode); }
  trainMode(body) { return this.scope("train_mode", body); }
  predictMode(body) { return this.scope("predict_mode", body); }

  async backward(heads, { headGrads, retainGraph = false, trainMode = true } = {}) {
    const json = { heads: heads.map(h => h.id ?? h), retain_graph: retainGraph, train_mode: trainMode };
    if (headGrads) json.head_grads = headGrads.map(g => (g == null ? null : g.id ?? g));
    return this.request("POST", "/backward", { json });
  }

  /** autograd.grad: returns new arrays, one per variable (higher order with createGraph). */
  async grad(heads, variables, { headGrads, retainGraph, createGraph = false, trainMode = true } = {}) {
    const json = { heads: heads.map(h => h.id ?? h), variables: variables.map(v => v.id ?? v),
                   create_graph: createGraph, train_mode: trainMode };
    if (retainGraph !== undefined) json.retain_graph = retainGraph;
    if (headGrads) json.head_grads = headGrads.map(g => (g == null ? null : g.id ?? g));
    const res = await this.request("POST", "/grad", { json });
    return res.grads.map(info => new NDArray(this, info));
  }

  async markVariables(variables, gradients, gradReqs = "write") {
    return this.request("POST", "/mark_variables", { json: {
      variables: variables.map(v => v.id ?? v), gradients: gradients.map(g => g.id ?? g), grad_reqs: gradReqs } });
  }

  /** A builder for one batched `run` request. */
  program() { return new Program(this); }
}

/** A server-side array handle. */
export class NDArray {
  constructor(session, info) {
    this.session = session;
    this.id = info.id;
    this.info = info;
  }
  get shape() { return this.info.shape; }
  get dtype() { return this.info.dtype; }

  /** Values as { shape, dtype, data: TypedArray }; large arrays are fetched as .npy. */
  async fetch(suffix = "/data") {
    const size = this.info.size ?? 0;
    const accept = size > NPY_THRESHOLD ? "application/x-npy" : "application/json";
    const t = await this.session.request("GET", `/arrays/${encodeURIComponent(this.id)}${suffix}`, { accept });
    return t.data && !ArrayBuffer.isView(t.data) ? tensorFromJSON(t) : t;
  }
  values() { return this.fetch("/data"); }
  /** The gradient buffer's values (throws TensordError code grad-not-attached when none). */
  grad() { return this.fetch("/grad"); }
  async attachGrad(gradReq = "write") {
    this.info = await this.session.request("PUT", `/arrays/${encodeURIComponent(this.id)}/grad`, { json: { grad_req: gradReq } });
    return this;
  }
  async assign(values) {
    const { data, shape } = ArrayBuffer.isView(values) ? { data: values, shape: this.shape } : flatten(values);
    this.info = await this.session.request("PUT", `/arrays/${encodeURIComponent(this.id)}/data`, {
      json: { shape: shape.length ? shape : this.shape, dtype: this.dtype, data: Array.from(data, encodeSpecial) } });
    return this;
  }
  backward(options) { return this.session.backward([this], options); }
  async detach() {
    return new NDArray(this.session, await this.session.request("POST", `/arrays/${encodeURIComponent(this.id)}/detach`, { json: {} }));
  }
  /** get_symbol as JSON, or as an SVG / DOT string with { format: "svg" | "dot" }. */
  symbol({ format } = {}) {
    const q = format ? `?format=${format}` : "";
    const accept = format === "svg" ? "image/svg+xml" : format === "dot" ? "text/vnd.graphviz" : "application/json";
    return this.session.request("GET", `/arrays/${encodeURIComponent(this.id)}/graph${q}`, { accept });
  }
  /** get_symbol drawn as an SVG string (variables the last backward reached are highlighted). */
  svg() { return this.symbol({ format: "svg" }); }
  release() { return this.session.request("DELETE", `/arrays/${encodeURIComponent(this.id)}`); }
}

/** Builds a batched program for `POST /v1/sessions/{sid}/run` (see docs/API.md). */
export class Program {
  constructor(session) { this.session = session; this.steps = []; this._fetch = []; }
  _push(step) { this.steps.push(step); return this; }
  create(id, values, { shape, dtype } = {}) {
    const flat = ArrayBuffer.isView(values) ? { data: Array.from(values), shape: [values.length] } : flatten(values);
    const create = { data: flat.data.map(encodeSpecial), shape: shape || (flat.shape.length ? flat.shape : [1]) };
    if (dtype) create.dtype = dtype;
    return this._push({ create, id });
  }
  op(name, inputs, params = {}, id) {
    const step = { op: name, inputs: inputs.map(a => a.id ?? a) };
    if (Object.keys(params).length) step.params = params;
    if (Array.isArray(id)) step.ids = id; else if (id) step.id = id;
    return this._push(step);
  }
  attachGrad(id, gradReq = "write") { return this._push({ attach_grad: id.id ?? id, grad_req: gradReq }); }
  scope(kind, build, trainMode) {
    const inner = new Program(this.session);
    build(inner);
    const step = { scope: kind, steps: inner.steps };
    if (trainMode !== undefined) step.train_mode = trainMode;
    return this._push(step);
  }
  record(build, trainMode) { return this.scope("record", build, trainMode); }
  pause(build, trainMode) { return this.scope("pause", build, trainMode); }
  trainMode(build) { return this.scope("train_mode", build); }
  predictMode(build) { return this.scope("predict_mode", build); }
  backward(heads, { headGrads, retainGraph, trainMode } = {}) {
    const step = { backward: heads.map(h => h.id ?? h) };
    if (headGrads) step.head_grads = headGrads;
    if (retainGraph !== undefined) step.retain_graph = retainGraph;
    if (trainMode !== undefined) step.train_mode = trainMode;
    return this._push(step);
  }
  grad(heads, variables, ids, options = {}) {
    return this._push({ grad: { heads, variables, ...options }, ids });
  }
  assign(id, values) { return this._push({ assign: id, data: flatten(values).data.map(encodeSpecial) }); }
  release(ids) { return this._push({ release: ids }); }
  fetch(...names) { this._fetch.push(...names); return this; }
  toJSON() { return { steps: this.steps, fetch: this._fetch }; }
  /** Sends the program; returns { fetched: { name: {shape, dtype, data: TypedArray} }, outputs, steps }. */
  async run() {
    const res = await this.session.request("POST", "/run", { json: this.toJSON() });
    const fetched = {};
    for (const [k, t] of Object.entries(res.fetched || {})) fetched[k] = tensorFromJSON(t);
    return { ...res, fetched };
  }
}
