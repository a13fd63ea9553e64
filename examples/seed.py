"""The seed example: d(x*x + 1)/dx at x = [1, 2, 3, 4], computed by tensord.

Run a server (`bash scripts/serve.sh`), then `python3 examples/seed.py`
(server URL from TENSORD_URL, default http://127.0.0.1:8080). Prints:

[2. 4. 6. 8.]
<NDArray 4 @cpu(0)>
"""

from tensord import mx          # instead of: import mxnet as mx

x = mx.nd.array([1, 2, 3, 4])
x.attach_grad()
with mx.autograd.record():
    y = x * x + 1
y.backward()
print(x.grad)
