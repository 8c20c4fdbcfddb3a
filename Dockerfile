# syntax=docker/dockerfile:1
#
# One image, two programs: /usr/local/bin/lb (the entrypoint) and
# /usr/local/bin/backend (the demo backend; run it with
# `--entrypoint /usr/local/bin/backend`, or `command:` in Kubernetes).
#
#   docker build -t deno-lb:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9901:9901 deno-lb:0.1.0 \
#     --admin-host 0.0.0.0 --backends http://host.docker.internal:8081
#
# See docs/operations.md for Docker and Kubernetes deployment.

# --- build: standalone binaries with `deno task compile` ----------------------
# Same Deno as the repository pins (.ci/run, README). `deno compile` downloads
# its `denort` runtime from dl.deno.land during this stage; where the build
# can't reach it, copy a denort of the same version into the context and set
# `ENV DENORT_BIN=/src/denort` before the compile step.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
# Dependencies first, so editing sources doesn't re-download them. `--frozen`
# fails the build when deno.lock doesn't match deno.json instead of quietly
# resolving something else.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
# Building also proves the binaries start: both print their version and exit.
RUN deno task compile && ./dist/lb --version && ./dist/backend --version

# --- runtime -------------------------------------------------------------------
# debian-slim rather than distroless: the binaries need only glibc and libgcc
# (both images have them), but a HEALTHCHECK needs something to run, and
# distroless has no shell, curl or wget. bash is here anyway (it is Essential
# in Debian), so the check below costs no extra package. Same Debian family as
# the build stage, so the binaries' glibc requirement is met.
FROM debian:bookworm-slim

# A fixed numeric UID/GID: Kubernetes' `runAsNonRoot` can only verify a
# numeric USER, and the manifests set the same runAsUser (10001).
RUN groupadd --system --gid 10001 lb \
  && useradd --system --uid 10001 --gid lb --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin lb

COPY --from=build /src/dist/lb /src/dist/backend /usr/local/bin/

# The binaries write nothing but an optional V8 code cache (in the temp dir,
# or the Deno cache dir in newer Deno versions) that only speeds up the next
# start. Point both at /tmp, which the Kubernetes manifests mount as an
# emptyDir under readOnlyRootFilesystem.
ENV DENO_DIR=/tmp/deno-dir

USER 10001:10001

# 8080: traffic (--port). 9901: admin (--admin-port: /livez, /readyz,
# /metrics, /status). The admin listener binds 127.0.0.1 by default, which is
# enough for the HEALTHCHECK below; pass `--admin-host 0.0.0.0` (or
# ADMIN_HOST) to publish it, as the Kubernetes manifests do for the kubelet.
EXPOSE 8080 9901

# GET /livez over bash's /dev/tcp: 0 when the status line says 200. Liveness,
# not /readyz: a container with no healthy backend is working as designed and
# restarting it would not help. HEALTHCHECK_PORT defaults to the admin port;
# for the backend (which serves /livez on its own --port) run with
# `-e HEALTHCHECK_PORT=8081`. Kubernetes ignores HEALTHCHECK and uses the
# probes in deploy/kubernetes/ instead. The probe comes from inside the
# container, so it works with the default 127.0.0.1 admin address too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HEALTHCHECK_PORT:-9901} && printf 'GET /livez HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# Exec form: lb is PID 1 and gets SIGTERM itself. It handles SIGTERM, SIGINT
# (and SIGHUP for reloads), so PID 1's default of ignoring unhandled signals
# doesn't matter, and it starts no children, so nothing needs reaping. Give
# `docker stop` more than --shutdown-delay + --shutdown-timeout (default 0s +
# 30s; Docker's default is 10s): `docker stop -t 40`.
ENTRYPOINT ["/usr/local/bin/lb"]
