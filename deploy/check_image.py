#!/usr/bin/env python3
"""Check the Dockerfile against what the docs promise and against the binary it ships.

* two stages: a Swift build stage and a slim runtime stage;
* runtime: non-root USER, EXPOSE 8080, HEALTHCHECK on /livez, STOPSIGNAL SIGTERM, ENTRYPOINT tensord;
* every shared library that `ldd` resolves for the release binary, and (with --maps) every shared
  object the running binary mapped, including those it loads with dlopen (OpenBLAS), belongs (per
  `dpkg -S`) to a package the runtime stage installs with apt-get.
"""
import argparse
import os
import re
import subprocess
import sys


def stages(text):
    out, cur = [], None
    for raw in re.sub(r"\\\n", " ", text).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split()[0].upper()
        if word == "FROM":
            cur = {"from": line, "lines": []}
            out.append(cur)
        elif cur is not None:
            cur["lines"].append(line)
    return out


def fail(msg):
    print(f"check_image: FAIL: {msg}")
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dockerfile", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--maps", help="/proc/PID/maps of the running binary (adds the libraries it dlopened)")
    a = p.parse_args()
    st = stages(open(a.dockerfile).read())
    if len(st) != 2:
        fail(f"expected 2 stages, found {len(st)}")
    build, runtime = st
    if "swift" not in build["from"].lower() and "SWIFT_IMAGE" not in build["from"]:
        fail("first stage is not the Swift build image")
    if " AS RUNTIME" not in runtime["from"].upper():
        fail("second stage must be named runtime")
    lines = runtime["lines"]

    def directive(name):
        return [l[len(name):].strip() for l in lines if l.upper().startswith(name + " ")]

    user = directive("USER")
    if not user or user[-1].split(":")[0] in ("root", "0"):
        fail("runtime stage must switch to a non-root USER")
    if "8080" not in " ".join(directive("EXPOSE")):
        fail("runtime stage must EXPOSE 8080")
    hc = " ".join(directive("HEALTHCHECK"))
    if "/livez" not in hc:
        fail("HEALTHCHECK must probe /livez")
    if directive("STOPSIGNAL") != ["SIGTERM"]:
        fail("STOPSIGNAL must be SIGTERM")
    if "tensord" not in " ".join(directive("ENTRYPOINT")):
        fail("ENTRYPOINT must run tensord")
    packages = set()
    for l in directive("RUN"):
        for m in re.finditer(r"apt-get install ([^&;]+)", l):
            packages |= {w for w in m.group(1).split() if not w.startswith("-")}
    if not packages:
        fail("runtime stage installs no packages")

    ldd = subprocess.run(["ldd", a.binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in ldd.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            paths.append(m.group(1))
    if a.maps:
        real = {os.path.realpath(p) for p in paths}
        for line in open(a.maps):
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith("/") and ".so" in os.path.basename(fields[5]) \
                    and os.path.realpath(fields[5]) not in real:
                real.add(os.path.realpath(fields[5]))
                paths.append(fields[5])
    missing, seen = [], []
    for path in paths:
        if "/opt/swift" in path or "libswift" in path:
            fail(f"binary links the Swift runtime dynamically: {path} (build with --static-swift-stdlib)")
        q = None
        # ldd reports /lib paths (merged-usr) and alternatives symlinks; dpkg knows the real file.
        for candidate in (path, path.replace("/lib/", "/usr/lib/", 1), path.replace("/usr/lib/", "/lib/", 1), os.path.realpath(path)):
            q = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if q.returncode == 0:
                break
        if q.returncode != 0:
            fail(f"no Debian package provides {path}")
        pkg = q.stdout.split(":")[0].strip()
        seen.append((path, pkg))
        if pkg not in packages:
            missing.append(f"{path} ({pkg})")
    if missing:
        fail("runtime stage lacks packages for: " + ", ".join(missing))
    for path, pkg in seen:
        print(f"check_image: {path} <- {pkg}")
    print(f"check_image: ok: {len(seen)} libraries, all provided by the runtime stage {sorted(packages)}")


if __name__ == "__main__":
    main()
