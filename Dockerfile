# syntax=docker/dockerfile:1
# infragen as a container, for CI jobs that `docker run` it:
#   docker build -t infragen .
#   docker run --rm -v "$PWD:/work" infragen synth --provider aws --env production --blueprint infra/shop.yaml
#
# Build stage: rust on Alpine, whose native target is musl, so the binary is static with no
# cross-compilation; the same script the release workflow uses (scripts/build-static.sh).
# Multi-arch works with `docker buildx build --platform linux/amd64,linux/arm64`.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache bash musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY providers providers
COPY src src
COPY crates crates
COPY templates templates
COPY README.md blueprint.schema.json ./
COPY scripts/build-static.sh scripts/
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && scripts/build-static.sh "$target" release \
 && cp "dist/infragen-$target/infragen" /infragen \
 && /infragen --version

# Runtime: distroless "static" — no shell, no package manager, CA certificates and tzdata
# only — running as its unprivileged `nonroot` user (uid 65532). infragen reads and writes
# only the mounted working directory. `diff --base <git revision>` needs git, which this
# image does not have: pass the base blueprint as a file (`--base old.yaml`) instead.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /infragen /usr/local/bin/infragen
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/infragen"]
CMD ["--help"]
