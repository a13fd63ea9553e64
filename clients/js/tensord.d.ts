// TypeScript declarations for tensord.mjs.
export type DType = "float32" | "float64" | "int32" | "int64" | "uint8";
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
export type GradReq = "write" | "add" | "null";
export type ScopeKind = "record" | "pause" | "train_mode" | "predict_mode";
export type NestedNumbers = number | NestedNumbers[];
export interface Tensor { shape: number[]; dtype: DType; data: TypedArray }
export interface ArrayInfo {
  id: string; shape: number[]; dtype: DType; size: number; bytes: number;
  grad_req: GradReq | null; in_graph: boolean; data?: Array<number | string>;
}
export interface Problem { type: string; title: string; status: number; detail: string; code: string; [extra: string]: unknown }
export interface OpSpec {
  name: string; aliases: string[]; inputs: string[]; variadic: boolean; outputs: number;
  params: { name: string; type: string; default?: unknown; required: boolean; doc?: string }[];
  differentiable: boolean; summary: string;
}
export interface Flags { is_recording: boolean; is_training: boolean }
export type ArrayRef = NDArray | string;

export const NPY_THRESHOLD: number;
export class TensordError extends Error {
  readonly status: number; readonly code: string; readonly detail: string; readonly problem: Problem;
}
export function flatten(value: NestedNumbers): { data: number[]; shape: number[] };
export function encodeNpy(typed: TypedArray, shape: number[], dtype: DType): Uint8Array;
export function decodeNpy(buffer: ArrayBuffer | Uint8Array): Tensor;

export class Client {
  constructor(options?: { url?: string; apiKey?: string; fetch?: typeof fetch });
  readonly url: string;
  request(method: string, path: string, options?: { json?: unknown; body?: BodyInit; contentType?: string; accept?: string }): Promise<any>;
  ops(): Promise<OpSpec[]>;
  createSession(options?: { idle_timeout_s?: number; ttl_s?: number; seed?: number; labels?: Record<string, string> }): Promise<Session>;
  sessions(): Promise<any[]>;
}

export class Session {
  readonly client: Client; readonly id: string; catalog: OpSpec[] | null;
  get(): Promise<any>;
  delete(): Promise<void>;
  array(values: NestedNumbers | TypedArray, options?: { shape?: number[]; dtype?: DType; id?: string }): Promise<NDArray>;
  handle(id: string): NDArray;
  arrays(): Promise<ArrayInfo[]>;
  release(arrays: ArrayRef[]): Promise<{ released: number }>;
  op(name: string, inputs: ArrayRef[], params?: Record<string, unknown>,
     options?: { out?: ArrayRef | ArrayRef[]; ids?: string[]; returnData?: boolean }): Promise<NDArray | NDArray[]>;
  /** Every catalog operator: arrays first, then an optional params object. */
  readonly nd: Record<string, (...args: Array<NDArray | ArrayRef[] | Record<string, unknown>>) => Promise<NDArray | NDArray[]>>;
  flags(): Promise<Flags>;
  setFlags(flags: Partial<Flags>): Promise<Flags>;
  setRecording(on: boolean): Promise<boolean>;
  setTraining(on: boolean): Promise<boolean>;
  isRecording(): Promise<boolean>;
  isTraining(): Promise<boolean>;
  seed(seed: number): Promise<unknown>;
  scope<T>(kind: ScopeKind, body: () => Promise<T>, trainMode?: boolean): Promise<T>;
  record<T>(body: () => Promise<T>, options?: { trainMode?: boolean }): Promise<T>;
  pause<T>(body: () => Promise<T>, options?: { trainMode?: boolean }): Promise<T>;
  trainMode<T>(body: () => Promise<T>): Promise<T>;
  predictMode<T>(body: () => Promise<T>): Promise<T>;
  backward(heads: ArrayRef[], options?: { headGrads?: Array<ArrayRef | null>; retainGraph?: boolean; trainMode?: boolean }): Promise<{ updated: string[] }>;
  grad(heads: ArrayRef[], variables: ArrayRef[], options?: { headGrads?: Array<ArrayRef | null>; retainGraph?: boolean; createGraph?: boolean; trainMode?: boolean }): Promise<NDArray[]>;
  markVariables(variables: ArrayRef[], gradients: ArrayRef[], gradReqs?: GradReq | GradReq[]): Promise<unknown>;
  program(): Program;
}

export class NDArray {
  readonly session: Session; readonly id: string; info: Partial<ArrayInfo>;
  readonly shape: number[]; readonly dtype: DType;
  values(): Promise<Tensor>;
  grad(): Promise<Tensor>;
  attachGrad(gradReq?: GradReq): Promise<this>;
  assign(values: NestedNumbers | TypedArray): Promise<this>;
  backward(options?: { headGrads?: Array<ArrayRef | null>; retainGraph?: boolean; trainMode?: boolean }): Promise<{ updated: string[] }>;
  detach(): Promise<NDArray>;
  symbol(options?: { format?: "svg" | "dot" }): Promise<any>;
  /** get_symbol drawn as an SVG string (same as `symbol({ format: "svg" })`). */
  svg(): Promise<string>;
  release(): Promise<null>;
}

export class Program {
  create(id: string, values: NestedNumbers | TypedArray, options?: { shape?: number[]; dtype?: DType }): this;
  op(name: string, inputs: ArrayRef[], params?: Record<string, unknown>, id?: string | string[]): this;
  attachGrad(id: ArrayRef, gradReq?: GradReq): this;
  scope(kind: ScopeKind, build: (p: Program) => void, trainMode?: boolean): this;
  record(build: (p: Program) => void, trainMode?: boolean): this;
  pause(build: (p: Program) => void, trainMode?: boolean): this;
  trainMode(build: (p: Program) => void): this;
  predictMode(build: (p: Program) => void): this;
  backward(heads: ArrayRef[], options?: { headGrads?: Array<string | null>; retainGraph?: boolean; trainMode?: boolean }): this;
  grad(heads: string[], variables: string[], ids: string[], options?: { create_graph?: boolean; retain_graph?: boolean }): this;
  assign(id: string, values: NestedNumbers): this;
  release(ids: string[]): this;
  fetch(...names: string[]): this;
  toJSON(): { steps: unknown[]; fetch: string[] };
  run(): Promise<{ steps: number; fetched: Record<string, Tensor>; outputs: Record<string, ArrayInfo> }>;
}
