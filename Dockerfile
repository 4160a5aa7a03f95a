# Two stages: build with the Rust toolchain, run on a slim Debian with only the binary and
# the files it reads at run time (config, prompts, lexicon, migrations are compiled in).
FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked
COPY . .
RUN cargo build --release --locked --bin guanjia

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app guanjia
WORKDIR /app
COPY --from=build /src/target/release/guanjia /usr/local/bin/guanjia
COPY config ./config
COPY prompts ./prompts
USER guanjia
ENV GUANJIA_SERVER__ADDR=0.0.0.0:8080 GUANJIA_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["guanjia"]
CMD ["serve"]
