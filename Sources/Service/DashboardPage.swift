/// The built-in web dashboard served at `/`: one self-contained page (HTML, CSS and a little
/// JavaScript; no external files or CDNs) that polls the REST API and shows server status, the
/// caller's sessions, each session's flags, scope stack and arrays (shape, dtype, grad_req, bytes)
/// with a value preview, a histogram and the recorded graph.
///
/// Deep links: `/#session=<sid>&array=<aid>` selects a session and an array.
enum DashboardPage {
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tensord dashboard</title>
<style>
  :root { --bg:#f7f7f5; --panel:#fff; --ink:#1d1f21; --muted:#6b7075; --line:#e2e2dd; --accent:#2f6fdb; --ok:#2e8b57; --bad:#c0392b; --warn:#b7791f; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:10px 18px; background:#1d1f21; color:#fff; }
  header h1 { font-size:17px; margin:0; font-weight:600; letter-spacing:.3px; }
  header .grow { flex:1; }
  header input { background:#2b2e31; border:1px solid #44484c; color:#fff; border-radius:4px; padding:4px 8px; width:220px; }
  .pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .pill.ok { background:#d9f2e3; color:var(--ok); } .pill.bad { background:#f8dcd8; color:var(--bad); }
  .pill.on { background:#dde8fb; color:var(--accent); } .pill.off { background:#ecece8; color:var(--muted); }
  header .pill.ok { background:#1f5e3b; color:#cff3dd; } header .pill.bad { background:#6b231b; color:#ffd9d3; }
  main { display:grid; grid-template-columns: 300px 1fr; gap:14px; padding:14px 18px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:12px 14px; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); margin:0 0 8px; }
  .session { padding:7px 8px; border-radius:4px; cursor:pointer; border:1px solid transparent; }
  .session:hover { background:#f1f3f7; } .session.sel { border-color:var(--accent); background:#eef3fd; }
  .sid { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; word-break:break-all; }
  .muted { color:var(--muted); font-size:12px; }
  table { border-collapse:collapse; width:100%; font-size:13px; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); }
  th { color:var(--muted); font-weight:600; font-size:12px; }
  tr.arr { cursor:pointer; } tr.arr:hover { background:#f5f7fb; } tr.arr.sel { background:#eef3fd; }
  code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  .grid2 { display:grid; grid-template-columns: 1fr 1fr; gap:14px; }
  .stack { display:flex; flex-direction:column; gap:14px; }
  .scopes span { display:inline-block; margin:2px 4px 2px 0; padding:2px 8px; border:1px solid var(--line); border-radius:4px; font-size:12px; }
  #graph { overflow:auto; max-height:560px; border:1px solid var(--line); border-radius:4px; background:#fff; min-height:80px; }
  #graph svg { display:block; }
  #preview { max-height:180px; overflow:auto; white-space:pre-wrap; background:#fafaf8; border:1px solid var(--line); border-radius:4px; padding:6px; }
  .empty { color:var(--muted); font-style:italic; padding:8px 0; }
  .err { color:var(--bad); }
</style>
</head>
<body>
<header>
  <h1>tensord</h1>
  <span id="live" class="pill bad">connecting</span>
  <span id="ready" class="pill bad">?</span>
  <span id="stats" class="muted" style="color:#c9ccd0"></span>
  <span class="grow"></span>
  <label class="muted" style="color:#c9ccd0">API key <input id="apikey" type="password" placeholder="(none)" autocomplete="off"></label>
</header>
<main>
  <section>
    <h2>Sessions</h2>
    <div id="sessions"><div class="empty">loading…</div></div>
  </section>
  <div class="stack">
    <section id="sessionPanel">
      <h2>Session</h2>
      <div id="sessionInfo" class="empty">Select a session.</div>
    </section>
    <section>
      <h2>Arrays</h2>
      <div id="arrays" class="empty">—</div>
    </section>
    <div class="grid2">
      <section>
        <h2>Values <span id="valTitle" class="muted"></span></h2>
        <div id="preview" class="mono empty">Select an array.</div>
        <div style="margin-top:8px"><svg id="hist" width="100%" height="120" viewBox="0 0 400 120" preserveAspectRatio="none"></svg></div>
      </section>
      <section>
        <h2>Graph <span id="graphTitle" class="muted"></span></h2>
        <div id="graph"><div class="empty">Select an array that is in a recorded graph.</div></div>
      </section>
    </div>
  </div>
</main>
<script>
"use strict";
const state = { session: null, array: null, lastGraphKey: null, lastValuesKey: null };
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
const fmtBytes = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n/1024).toFixed(1) + " KiB" : (n/1048576).toFixed(1) + " MiB";

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("session")) state.session = h.get("session");
  if (h.get("array")) state.array = h.get("array");
}
function writeHash() {
  const p = new URLSearchParams();
  if (state.session) p.set("session", state.session);
  if (state.array) p.set("array", state.array);
  history.replaceState(null, "", "#" + p.toString());
}
function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("apikey").value || localStorage.getItem("tensord.apikey") || "";
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}
async function api(path, accept) {
  const r = await fetch(path, { headers: headers({ "Accept": accept || "application/json" }) });
  if (!r.ok) {
    let detail = r.status + "";
    try { const p = await r.json(); detail = (p.code || r.status) + ": " + (p.detail || p.title || ""); } catch (_) {}
    const e = new Error(detail); e.status = r.status; throw e;
  }
  return (accept && accept !== "application/json") ? r.text() : r.json();
}

async function refreshStatus() {
  try { await api("/livez"); $("live").className = "pill ok"; $("live").textContent = "live"; }
  catch (_) { $("live").className = "pill bad"; $("live").textContent = "down"; }
  try { await api("/readyz"); $("ready").className = "pill ok"; $("ready").textContent = "ready"; }
  catch (e) { $("ready").className = "pill bad"; $("ready").textContent = e.status === 503 ? "not ready" : "?"; }
}

function fill(id, html) { const el = $(id); el.classList.remove("empty"); el.innerHTML = html; }
function flagPill(name, on) { return `<span class="pill ${on ? "on" : "off"}">${esc(name)} ${on ? "on" : "off"}</span>`; }

async function refreshSessions() {
  let list;
  try { list = (await api("/v1/sessions")).sessions || []; }
  catch (e) { $("sessions").innerHTML = `<div class="err">${esc(e.message)}</div>`; return []; }
  const totalBytes = list.reduce((a, s) => a + ((s.usage && s.usage.bytes) || 0), 0);
  $("stats").textContent = `${list.length} session${list.length === 1 ? "" : "s"} · ${fmtBytes(totalBytes)} in arrays`;
  if (!state.session && list.length) state.session = list[list.length - 1].id;
  $("sessions").innerHTML = list.length ? list.map(s => {
    const st = s.state || {}, u = s.usage || {};
    return `<div class="session ${s.id === state.session ? "sel" : ""}" data-sid="${esc(s.id)}">
      <div class="sid">${esc(s.id)}</div>
      <div class="muted">${u.arrays || 0} arrays · ${fmtBytes(u.bytes || 0)} · graph ${fmtBytes(u.graph_bytes || 0)}</div>
      <div>${flagPill("recording", st.is_recording)} ${flagPill("training", st.is_training)}</div></div>`;
  }).join("") : `<div class="empty">No sessions yet. Create one with POST /v1/sessions.</div>`;
  for (const el of document.querySelectorAll(".session")) {
    el.onclick = () => { state.session = el.dataset.sid; state.array = null; writeHash(); tick(); };
  }
  return list;
}

async function refreshSession() {
  if (!state.session) return;
  let s, arrays;
  try {
    s = await api(`/v1/sessions/${encodeURIComponent(state.session)}`);
    arrays = (await api(`/v1/sessions/${encodeURIComponent(state.session)}/arrays`)).arrays || [];
  } catch (e) {
    $("sessionInfo").innerHTML = `<div class="err">${esc(e.message)}</div>`; $("arrays").innerHTML = ""; return;
  }
  const st = s.state || {}, u = s.usage || {}, lim = s.limits || {};
  const scopes = (st.scopes || []);
  fill("sessionInfo", `
    <div class="sid">${esc(s.id)}</div>
    <div style="margin:6px 0">${flagPill("recording", st.is_recording)} ${flagPill("training", st.is_training)}
      <span class="muted">· ${u.arrays || 0} arrays · ${fmtBytes(u.bytes || 0)} of ${lim.max_bytes ? fmtBytes(lim.max_bytes) : "∞"} · graph ${fmtBytes(u.graph_bytes || 0)}
      · idle timeout ${s.idle_timeout_s ?? "?"} s · expires ${esc(s.expires_at || "?")}</span></div>
    <div class="scopes"><span class="muted" style="border:0;padding-left:0">scope stack:</span>${
      scopes.length ? scopes.map(f => `<span>${esc(f.kind)}${f.train_mode === undefined || f.train_mode === null ? "" : "(train_mode=" + f.train_mode + ")"}</span>`).join("→")
                    : `<span class="muted">empty</span>`}</div>`);
  if (!state.array && arrays.length) {
    const inGraph = arrays.filter(a => a.in_graph);
    state.array = (inGraph.length ? inGraph[inGraph.length - 1] : arrays[arrays.length - 1]).id;
  }
  fill("arrays", arrays.length ? `<table><thead><tr><th>id</th><th>shape</th><th>dtype</th><th>grad_req</th><th>in graph</th><th>bytes</th></tr></thead><tbody>${
    arrays.map(a => `<tr class="arr ${a.id === state.array ? "sel" : ""}" data-aid="${esc(a.id)}"><td class="mono">${esc(a.id)}</td>
      <td class="mono">(${(a.shape || []).join(", ")})</td><td>${esc(a.dtype)}</td><td>${a.grad_req ? esc(a.grad_req) : "—"}</td>
      <td>${a.in_graph ? "yes" : "no"}</td><td>${fmtBytes(a.bytes || 0)}</td></tr>`).join("")}</tbody></table>`
    : `<div class="empty">No arrays in this session.</div>`);
  for (const el of document.querySelectorAll("tr.arr")) {
    el.onclick = () => { state.array = el.dataset.aid; state.lastGraphKey = null; state.lastValuesKey = null; writeHash(); tick(); };
  }
  const sel = arrays.find(a => a.id === state.array);
  if (sel) { await refreshValues(sel); await refreshGraph(sel); }
}

function drawHistogram(values) {
  const svg = $("hist"); const finite = values.filter(Number.isFinite);
  if (!finite.length) { svg.innerHTML = ""; return; }
  let lo = Math.min(...finite), hi = Math.max(...finite); if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const bins = new Array(24).fill(0);
  for (const v of finite) bins[Math.min(23, Math.floor((v - lo) / (hi - lo) * 24))]++;
  const max = Math.max(...bins), w = 400 / 24;
  svg.innerHTML = bins.map((b, i) => `<rect x="${i * w + 1}" y="${110 - b / max * 100}" width="${w - 2}" height="${b / max * 100}" fill="#2f6fdb" opacity="0.75"><title>${b}</title></rect>`).join("")
    + `<text x="2" y="119" font-size="9" fill="#6b7075">${esc(lo.toPrecision(4))}</text><text x="398" y="119" font-size="9" fill="#6b7075" text-anchor="end">${esc(hi.toPrecision(4))}</text>`;
}

async function refreshValues(a) {
  const key = `${state.session}/${a.id}/${(a.shape || []).join("x")}/${a.version ?? ""}/${Date.now() >> 12}`;
  if (key === state.lastValuesKey) return;
  state.lastValuesKey = key;
  $("valTitle").textContent = `${a.id} (${(a.shape || []).join("×")}, ${a.dtype})`;
  if ((a.size || 0) > 1 << 20) { $("preview").textContent = "too large to preview"; $("hist").innerHTML = ""; return; }
  try {
    const t = await api(`/v1/sessions/${encodeURIComponent(state.session)}/arrays/${encodeURIComponent(a.id)}/data`);
    const vals = (t.data || []).map(v => typeof v === "number" ? v : Number(v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN));
    let text = vals.slice(0, 64).map(v => Number.isInteger(v) ? v.toFixed(1) : String(+v.toPrecision(6))).join("  ");
    if (vals.length > 64) text += `  … (${vals.length} values)`;
    if (a.grad_req) {
      try {
        const g = await api(`/v1/sessions/${encodeURIComponent(state.session)}/arrays/${encodeURIComponent(a.id)}/grad`);
        text += "\n\ngrad: " + (g.data || []).slice(0, 64).map(v => typeof v === "number" ? String(+v.toPrecision(6)) : v).join("  ");
      } catch (_) {}
    }
    $("preview").textContent = text; $("preview").classList.remove("empty");
    drawHistogram(vals);
  } catch (e) { $("preview").innerHTML = `<span class="err">${esc(e.message)}</span>`; }
}

async function refreshGraph(a) {
  const key = `${state.session}/${a.id}/${a.in_graph}/${Date.now() >> 12}`;
  if (key === state.lastGraphKey) return;
  state.lastGraphKey = key;
  $("graphTitle").textContent = a.id;
  if (!a.in_graph) { $("graph").innerHTML = `<div class="empty">${esc(a.id)} has no recorded history (not in a graph).</div>`; return; }
  try {
    const svg = await api(`/v1/sessions/${encodeURIComponent(state.session)}/arrays/${encodeURIComponent(a.id)}/graph?format=svg`, "image/svg+xml");
    fill("graph", svg);
  } catch (e) { $("graph").innerHTML = `<div class="err">${esc(e.message)}</div>`; }
}

let busy = false;
async function tick() {
  if (busy) return; busy = true;
  try { await refreshStatus(); await refreshSessions(); await refreshSession(); }
  finally { busy = false; }
}
$("apikey").value = localStorage.getItem("tensord.apikey") || "";
$("apikey").onchange = () => { localStorage.setItem("tensord.apikey", $("apikey").value); tick(); };
window.onhashchange = () => { readHash(); tick(); };
readHash();
tick();
setInterval(tick, 2000);
</script>
</body>
</html>
"""#
}
