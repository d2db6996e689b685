# NATS server with JetStream from Debian's package (nats-server 2.9), for the compose profile
# `nats` (a 3-node cluster: nats-1.conf, nats-2.conf, nats-3.conf) on machines that cannot pull
# from Docker Hub. Build context: this directory. The package creates the system user `nats`.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/jetstream && chown -R nats /data
# The JetStream store (jetstream.store_dir in the configs): a volume per node.
VOLUME /data
USER nats
# clients, cluster routes, monitoring (/varz, /routez, /jsz)
EXPOSE 4222 6222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
CMD ["--config", "/etc/nats/nats.conf"]
