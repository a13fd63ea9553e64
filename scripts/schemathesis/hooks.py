"""Schemathesis hooks for tensord (loaded by scripts/checks/schemathesis.sh via SCHEMATHESIS_HOOKS).

Teaches schemathesis the binary media types the spec uses, `.npy` and `.npz`:
- request bodies declared `application/x-npy`, `application/x-npz` or `application/zip` are sent
  as raw bytes, as octet-stream ones are (a generated string is rarely a valid file: the server
  must answer it with a 4xx problem);
- `application/x-npy` and `application/x-npz` responses must load with numpy; they are then validated as the `Npy`/`Npz`
  string schema (one character per byte, as the spec's examples are written).
"""
import io

import numpy as np
import schemathesis

for media_type in ("application/x-npy", "application/x-npz", "application/zip"):
    schemathesis.serializer.alias(media_type, "application/octet-stream")


@schemathesis.deserializer("application/x-npy")
def npy(ctx, response):
    body = response.content
    np.load(io.BytesIO(body), allow_pickle=False)   # raises (a reported failure) when not a valid .npy
    return body.decode("latin-1")


@schemathesis.deserializer("application/x-npz")
def npz(ctx, response):
    body = response.content
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:   # raises when not a valid .npz
        for name in archive.files:
            archive[name]
    return body.decode("latin-1")
