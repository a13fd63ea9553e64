// The seed example with the JavaScript client:  node examples/seed.mjs
// (tensord must be running: bash scripts/serve.sh; TENSORD_URL overrides http://127.0.0.1:8080)
import { Client } from "../clients/js/tensord.mjs";

const client = new Client();
const s = await client.createSession();
try {
  const x = await s.array([1, 2, 3, 4]);
  await x.attachGrad();
  const y = await s.record(async () => s.nd._plus_scalar(await s.nd.broadcast_mul(x, x), { scalar: 1 }));
  await y.backward();
  console.log(Array.from((await x.grad()).data));   // [ 2, 4, 6, 8 ]
} finally {
  await s.delete();
}
