# syntax=docker/dockerfile:1
# The production image: build the release binary with the Rust version Cargo.toml's
# rust-version asks for (tests/process/build_files.rs keeps the two equal), then run it on a
# slim Debian with only the CA certificates it needs for TLS to the provider and Postgres.

FROM rust:1.95-bookworm AS build
WORKDIR /app

# Dependencies first, in their own layer, so a change to the crate alone does not rebuild
# them: build the locked dependency graph against empty stand-ins for the crate's sources.
COPY Cargo.toml Cargo.lock ./
RUN mkdir backend \
    && echo 'fn main() {}' > backend/main.rs \
    && touch backend/lib.rs \
    && cargo build --release --locked \
    && rm -rf backend

COPY backend backend
COPY migrations migrations
# COPY keeps the sources' modification times, which may be older than the stand-ins' build:
# touch the crate roots so cargo rebuilds the crate itself.
RUN touch backend/main.rs backend/lib.rs \
    && cargo build --release --locked \
    && cp target/release/governed-chat /governed-chat

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin governed
WORKDIR /app
COPY --from=build /governed-chat /app/governed-chat
USER governed
# railway.json runs `./governed-chat migrate` before each deploy and `./governed-chat serve`.
CMD ["/app/governed-chat", "serve"]
