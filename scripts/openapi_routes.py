#!/usr/bin/env python3
"""Prints the (METHOD, path-template) pairs of an OpenAPI document, one per line, sorted.

Usage: python3 scripts/openapi_routes.py [SPEC]     (SPEC defaults to openapi.yaml at the repo root)
Output lines look like `GET /v1/sessions/{sid}`; the Service's contract test compares them with
the code's route table.
"""
import os
import sys

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def routes(spec):
    """Returns the sorted list of (METHOD, path) pairs declared under `paths`."""
    pairs = set()
    for path, item in (spec.get("paths") or {}).items():
        for key in item or {}:
            if key in HTTP_METHODS:
                pairs.add((key.upper(), path))
    return sorted(pairs, key=lambda p: (p[1], p[0]))


def load(path):
    try:
        import yaml
    except ImportError:
        sys.exit("openapi_routes: PyYAML is missing (pip install PyYAML, or: source scripts/deps.sh; ensure_test_deps)")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def main(argv):
    if len(argv) > 2:
        sys.exit(__doc__.strip())
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openapi.yaml")
    spec_path = argv[1] if len(argv) == 2 else default
    try:
        spec = load(spec_path)
    except OSError as e:
        sys.exit(f"openapi_routes: cannot read {spec_path}: {e.strerror}")
    for method, path in routes(spec):
        print(f"{method} {path}")


if __name__ == "__main__":
    main(sys.argv)
