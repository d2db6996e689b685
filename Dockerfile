# perpgw: multi-stage image. The build stage runs the README's build script in its lean mode
# (`build.sh --image`: build packages only, and only the shipped programs; no tests, benchmarks
# or fuzzers); the runtime stage carries only runtime libraries and the binaries.
# Tested for real with podman (scripts/container-test.sh; deploy/README.md).
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
# + perpgw-nats-book (bench/nats_book.cmake), the NATS book consumer of the compose profile
# `nats` (deploy/README.md): the same build tree with bench/ configured in, that target only.
RUN bash scripts/build.sh --image \
 && cmake -S . -B build -DPERPGW_TOP_DIRS="sim;gateway;bench;examples" >/dev/null \
 && cmake --build build -j"${PERPGW_JOBS:-2}" --target perpgw-nats-book

FROM debian:bookworm-slim AS runtime
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      ca-certificates libabsl20220623 libc-ares2 libcivetweb1 libfmt9 libgrpc++1.51 libgrpc29 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libprotobuf32 libre2-9 libsecp256k1-1 \
      libsimdjson14 libspdlog1.10 libssl3 libyaml-cpp0.7 zlib1g libboost-system1.74.0 libnats3.4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin perpgw \
 && mkdir -p /var/lib/perpgw/journal && chown -R perpgw /var/lib/perpgw
COPY --from=build /src/build/gateway/perpgwd /src/build/gateway/perpgw-replay /usr/local/bin/
COPY --from=build /src/build/sim/perpgw-sim /src/build/examples/perpgw-cli /usr/local/bin/
COPY --from=build /src/build/bench/perpgw-nats-book /usr/local/bin/
COPY config/ /etc/perpgw/
# The order journal (orders.journal_dir): mount a volume here so it survives the container.
VOLUME /var/lib/perpgw
USER perpgw
# gRPC, Prometheus metrics
EXPOSE 50051 9464
# Plaintext probe of the default listen address; a TLS config needs its own health command
# (`perpgwd health-check --addr 127.0.0.1:50051 --tls-ca CA.pem`, see deploy/README.md).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["perpgwd", "health-check", "--addr", "127.0.0.1:50051"]
ENTRYPOINT ["perpgwd"]
CMD ["--config", "/etc/perpgw/docker.yaml"]
