# The Python example strategy (examples/python) on Debian's python3-grpcio; stubs are generated
# at build time from proto/ (never committed). Build context: the repository root.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-grpcio python3-protobuf \
      protobuf-compiler protobuf-compiler-grpc \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --home-dir /nonexistent --shell /usr/sbin/nologin strategy
WORKDIR /app
COPY proto/ proto/
COPY examples/python/ examples/python/
RUN bash examples/python/gen_stubs.sh
USER strategy
ENTRYPOINT ["/usr/bin/python3", "/app/examples/python/funding_arb.py"]
CMD ["--help"]
