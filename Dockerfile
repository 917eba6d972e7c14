# Build stage: compile the two binaries in release mode.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p aura-api -p aura-cli

# Runtime stage: a small Debian image, non-root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/aura aura \
 && mkdir -p /var/lib/aura && chown aura /var/lib/aura
COPY --from=build /src/target/release/aura-api /src/target/release/aura /usr/local/bin/
USER aura
WORKDIR /var/lib/aura
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/aura-api", "--health-check"]
ENTRYPOINT ["/usr/local/bin/aura-api"]
