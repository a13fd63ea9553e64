"""Schemathesis hooks for tensord (loaded by scripts/checks/schemathesis.sh via SCHEMATHESIS_HOOKS).

Teaches schemathesis the one binary media type the spec uses, `.npy`:
- request bodies declared `application/x-npy` are sent as raw bytes, as octet-stream ones are
  (a generated string is rarely a valid .npy: the server must answer it with 400 invalid-body);
- `application/x-npy` responses must load with numpy; they are then validated as the `Npy`
  string schema (one character per byte, as the spec's examples are written).
"""
import io

import numpy as np
import schemathesis

schemathesis.serializer.alias("application/x-npy", "application/octet-stream")


@schemathesis.deserializer("application/x-npy")
def npy(ctx, response):
    body = response.content
    np.load(io.BytesIO(body), allow_pickle=False)   # raises (a reported failure) when not a valid .npy
    return body.decode("latin-1")
