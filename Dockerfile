# syntax=docker/dockerfile:1
# AURA-GDPR: `aura-api` (the service) and `aura` (the admin CLI) in one small image.
#
#   docker build -t aura-gdpr .
#   docker run --rm -e APP_ENV=development -p 127.0.0.1:8080:8080 aura-gdpr   # demo mode
#
# The image defaults to APP_ENV=production: it then needs DATABASE_URL, PASSWORD_PEPPER
# and a signing key in JWT_KEYS_DIR (see docker-compose.yml and docs/deploy.md).

# --- Build stage: both release binaries, exactly the locked dependency versions ---------
# Keep the tag at the channel of rust-toolchain.toml (a test checks it). That file is not
# copied in: the image's toolchain is the pinned one, and rustup would otherwise fetch
# the clippy and rustfmt components it lists.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Only what the build reads, never target/, .git, .env or keys from the working tree.
COPY Cargo.toml Cargo.lock ./
COPY apps apps
COPY crates crates
COPY migrations migrations
COPY tests tests
# BuildKit caches the registry and target/ between builds; the binaries are copied out
# of the cache mount so the next stage can take them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p aura-api -p aura-cli \
 && mkdir -p /out \
 && cp target/release/aura-api target/release/aura /out/

# --- Runtime stage: Debian slim (same glibc as the build stage), non-root ---------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 aura \
 && useradd --system --uid 10001 --gid aura --home-dir /var/lib/aura \
      --shell /usr/sbin/nologin aura \
 && install -d -o aura -g aura -m 0700 /var/lib/aura /var/lib/aura/keys
COPY --from=build /out/aura-api /out/aura /usr/local/bin/
# Container defaults; every one can be overridden at run time. A named volume mounted on
# /var/lib/aura keeps the signing keys (and, in development, the generated pepper).
ENV APP_ENV=production \
    BIND_ADDR=0.0.0.0:8080 \
    JWT_KEYS_DIR=/var/lib/aura/keys \
    MAIL_DIR=/var/lib/aura/mail \
    LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/aura
EXPOSE 8080
# SIGTERM drains in-flight requests for SHUTDOWN_GRACE_SECS (30 s by default): give the
# container longer than that before it is killed (`docker stop -t 40`,
# `stop_grace_period: 40s` in compose, terminationGracePeriodSeconds in Kubernetes).
STOPSIGNAL SIGTERM
# The binary asks its own GET /health on BIND_ADDR: no shell or curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/aura-api", "--health-check"]
CMD ["/usr/local/bin/aura-api"]
