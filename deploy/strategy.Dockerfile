# The Python example strategy (examples/python) on the perpgw client package (clients/python),
# installed offline into a venv over Debian's python3-grpcio/python3-protobuf; its stubs are
# generated at build time from proto/ (never committed). Build context: the repository root.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-grpcio python3-protobuf \
      python3-venv python3-setuptools python3-wheel protobuf-compiler protobuf-compiler-grpc \
      libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --home-dir /nonexistent --shell /usr/sbin/nologin strategy
WORKDIR /app
COPY proto/ proto/
COPY clients/python/ clients/python/
COPY examples/python/ examples/python/
RUN python3 -m venv --system-site-packages /opt/perpgw \
 && /opt/perpgw/bin/pip install -q --no-index --no-build-isolation ./clients/python \
 && /opt/perpgw/bin/python -c "import perpgw"
USER strategy
ENTRYPOINT ["/opt/perpgw/bin/python", "/app/examples/python/funding_arb.py"]
CMD ["--help"]
