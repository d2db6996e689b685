# Prometheus from Debian's package (2.42, the same release as the default prom/prometheus tag),
# for machines that cannot pull from Docker Hub: build it once, then run compose with
# PROMETHEUS_IMAGE=perpgw-prometheus:local. Build context: this directory.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus && chown prometheus /prometheus
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
