# tensord container image.
#   docker build -t tensord .
#   docker run --rm -p 8080:8080 -e TENSORD_ALLOW_OPEN=1 tensord
# Stage 1 builds a release binary with the Swift runtime linked statically; stage 2 carries only
# the runtime libraries the binary links or loads (checked by scripts/checks/deploy.sh).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config zlib1g-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first so the dependency-free package resolution layer is cached.
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product tensord --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/tensord" /out/tensord
COPY openapi.yaml /out/openapi.yaml

FROM ${RUNTIME_IMAGE} AS runtime
# Runtime libraries only: OpenBLAS (loaded with dlopen at start-up, so it is not in ldd's list; with its
# Fortran runtime, libgfortran5 + libquadmath0), zlib, OpenSSL, the C++ runtime.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libopenblas0-pthread libgfortran5 libquadmath0 zlib1g libssl3 libstdc++6 libgcc-s1 libc6 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tensord \
 && useradd --system --uid 10001 --gid tensord --home-dir /var/lib/tensord --create-home tensord \
 && install -d -o tensord -g tensord -m 0750 /data
COPY --from=build /out/tensord /usr/local/bin/tensord
COPY --from=build /out/openapi.yaml /usr/local/share/tensord/openapi.yaml

USER tensord:tensord
WORKDIR /var/lib/tensord
ENV TENSORD_HOST=0.0.0.0 \
    TENSORD_PORT=8080 \
    TENSORD_OPENAPI=/usr/local/share/tensord/openapi.yaml \
    TENSORD_LOG_FORMAT=json
EXPOSE 8080
# bash's /dev/tcp keeps the image free of curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TENSORD_PORT} && printf 'GET /livez HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]
# tensord handles SIGTERM: stops accepting, finishes in-flight requests, exits 0.
STOPSIGNAL SIGTERM
# /data (owned by tensord) takes session snapshots with TENSORD_DATA_DIR=/data and a volume mounted there.
ENTRYPOINT ["/usr/local/bin/tensord"]
