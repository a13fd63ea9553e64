"""Tensor encodings: Tensor JSON for small arrays, ``.npy`` for large ones."""

import io
import json
import math

import numpy as np

NPY_TYPE = "application/x-npy"
JSON_TYPE = "application/json"

#: Arrays with more elements than this travel as ``.npy``; smaller ones as JSON.
SMALL_ELEMENTS = 1024

#: dtypes tensord stores (MXNet's legacy set minus the half/bool types).
DTYPES = ("float32", "float64", "int32", "int64", "uint8")

_ALIASES = {"FP32": "float32", "FP64": "float64", "INT32": "int32", "INT64": "int64",
            "UINT8": "uint8"}


def dtype_name(dtype):
    """Normalises a dtype given as a string, numpy type or numpy dtype to tensord's name."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
    else:
        name = np.dtype(dtype).name
    if name not in DTYPES:
        raise TypeError("dtype %r is not supported by tensord (supported: %s)"
                        % (dtype, ", ".join(DTYPES)))
    return name


def np_type(name):
    """The numpy scalar type for a tensord dtype name (what ``NDArray.dtype`` returns)."""
    return np.dtype(name).type


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def tensor_json(arr):
    """The Tensor JSON object for a numpy array (flat data, non-finite values as strings)."""
    flat = arr.reshape(-1).tolist()
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        flat = [_json_value(v) for v in flat]
    return {"shape": list(arr.shape), "dtype": arr.dtype.name, "data": flat}


def _from_json_value(v):
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return v


def array_from_tensor(obj):
    """A numpy array from a Tensor JSON object returned by the server."""
    name = dtype_name(obj.get("dtype", "float32"))
    data = obj["data"]
    if not isinstance(data, list):
        data = [data]
    if str in map(type, data):
        data = [_from_json_value(v) for v in data]
    # Python floats are doubles: converting them straight to float32 rounds as float64 -> float32 does.
    arr = np.array(data, dtype=name)
    shape = obj.get("shape")
    return arr.reshape(shape) if shape is not None else arr


def encode_npy(arr):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def decode_npy(body):
    arr = np.load(io.BytesIO(body), allow_pickle=False)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr


def decode_values(resp):
    """A numpy array from a data response, JSON or ``.npy`` according to its Content-Type."""
    ctype = resp.content_type
    if ctype.startswith(NPY_TYPE) or ctype.startswith("application/octet-stream"):
        return decode_npy(resp.body)
    return array_from_tensor(json.loads(resp.body.decode("utf-8")))


def encode_values(arr, extra=None):
    """``(body, content_type)`` for uploading ``arr``: JSON when small, ``.npy`` when large.

    ``extra`` (JSON only) adds fields such as ``id`` to the Tensor object; with ``.npy`` the
    caller passes them as query parameters instead.
    """
    if arr.size > SMALL_ELEMENTS:
        return encode_npy(arr), NPY_TYPE
    obj = tensor_json(arr)
    if extra:
        obj.update(extra)
    return json.dumps(obj, separators=(",", ":")).encode("utf-8"), JSON_TYPE
