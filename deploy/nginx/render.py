#!/usr/bin/env python3
"""Render the nginx configuration that fronts N tensord replicas.

Routing rule (docs/API.md, api-design §4.2): a session id starts with `r<replica>e<epoch>-`.
* `POST /v1/sessions` (create) goes to any ready replica; a 503 `capacity` (or a dead replica)
  is retried on the next one.
* Every `/v1/sessions/{sid}/...` request goes to the replica that owns `sid`, never retried
  elsewhere (no other replica has the session). An id naming no known replica gets a 404 problem.
* Everything else (`/v1/ops`, `/openapi.yaml`, health) goes to any replica.

Usage:
  render.py --listen 127.0.0.1:8080 --replica 0=127.0.0.1:8101 --replica 1=127.0.0.1:8102 [--full]
  --full wraps the http block in a complete nginx.conf (for `nginx -c`); without it the output is
  an http-context include (conf.d style, as the Docker nginx image and the Kubernetes ConfigMap use).
  --resolve adds `resolve` to upstream servers (Kubernetes DNS names; nginx >= 1.27.3).
"""
import argparse
import sys

PROBLEM_404 = ('{"type":"https://tensord.dev/problems/session-not-found","title":"Session not found",'
               '"status":404,"code":"session-not-found","reason":"unknown-replica",'
               '"detail":"No replica owns this session id. Create a new session with POST /v1/sessions."}')


def render(listen, replicas, resolve=False, resolver=None):
    opt = " resolve" if resolve else ""
    out = []
    if resolver:
        out.append(f"resolver {resolver} valid=10s;")
    out.append("# Creation and stateless routes: any ready replica.")
    out.append("upstream tensord_any {")
    out.append("    least_conn;")
    if resolve:
        out.append("    zone tensord_any 64k;")
    for rid, addr in replicas:
        out.append(f"    server {addr} max_fails=1 fail_timeout=2s{opt};")
    out.append("    keepalive 32;")
    out.append("}")
    for rid, addr in replicas:
        out.append(f"upstream tensord_replica_{rid} {{")
        if resolve:
            out.append(f"    zone tensord_replica_{rid} 64k;")
        out.append(f"    server {addr}{opt};")
        out.append("    keepalive 16;")
        out.append("}")
    out.append("# Owner of a session, from the id prefix r<replica>e<epoch>-.")
    out.append("map $uri $tensord_owner {")
    out.append("    ~^/v1/sessions/r(?<rid>[0-9]+)e[0-9a-z]+-[0-9a-z]+(/|$) $rid;")
    out.append('    default "";')
    out.append("}")
    out.append("map $tensord_owner $tensord_upstream {")
    for rid, _ in replicas:
        out.append(f"    {rid} tensord_replica_{rid};")
    out.append('    default "";')
    out.append("}")
    out.append("server {")
    out.append(f"    listen {listen};")
    out.append("    client_max_body_size 512m;")
    out.append("    proxy_http_version 1.1;")
    out.append('    proxy_set_header Connection "";')
    out.append("    proxy_set_header Host $host;")
    out.append("    proxy_set_header X-Request-Id $request_id;")
    out.append("    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    out.append("    proxy_request_buffering off;")
    out.append("    proxy_buffering off;")
    out.append("    location = /v1/sessions {")
    out.append("        proxy_pass http://tensord_any;")
    out.append("        # POST is not idempotent, but a 503 `capacity` or a refused connection created nothing.")
    out.append("        proxy_next_upstream error timeout http_503 non_idempotent;")
    out.append("        proxy_next_upstream_tries 0;")
    out.append("    }")
    out.append("    location /v1/sessions/ {")
    out.append('        if ($tensord_upstream = "") {')
    out.append("            add_header Content-Type application/problem+json always;")
    out.append(f"            return 404 '{PROBLEM_404}';")
    out.append("        }")
    out.append("        proxy_pass http://$tensord_upstream;")
    out.append("        proxy_next_upstream off;")
    out.append("    }")
    out.append("    location / {")
    out.append("        proxy_pass http://tensord_any;")
    out.append("        proxy_next_upstream error timeout http_503;")
    out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default="8080")
    p.add_argument("--replica", action="append", default=[], help="ID=HOST:PORT")
    p.add_argument("--full", action="store_true")
    p.add_argument("--resolve", action="store_true")
    p.add_argument("--resolver")
    p.add_argument("--prefix", default=".", help="with --full: directory for pid/temp files")
    a = p.parse_args(argv)
    replicas = []
    for spec in a.replica:
        rid, _, addr = spec.partition("=")
        if not rid.isdigit() or not addr:
            p.error(f"--replica wants ID=HOST:PORT, got {spec!r}")
        replicas.append((int(rid), addr))
    if not replicas:
        p.error("at least one --replica")
    body = render(a.listen, replicas, a.resolve, a.resolver)
    if a.full:
        pre = a.prefix
        body = (f"worker_processes 1;\npid {pre}/nginx.pid;\nerror_log {pre}/error.log warn;\n"
                "events { worker_connections 4096; }\nhttp {\n"
                f"    access_log off;\n    client_body_temp_path {pre}/body;\n    proxy_temp_path {pre}/proxy;\n"
                f"    fastcgi_temp_path {pre}/fastcgi;\n    uwsgi_temp_path {pre}/uwsgi;\n    scgi_temp_path {pre}/scgi;\n"
                + "".join("    " + line + "\n" if line else "\n" for line in body.splitlines()) + "}\n")
    sys.stdout.write(body)


if __name__ == "__main__":
    main(sys.argv[1:])
