#!/usr/bin/env bash
# Start the test suite's Redis Cluster on loopback: three masters, no replicas
# (tests/cluster/). Does nothing when the cluster already answers with every slot served.
#   REDIS_CLUSTER_PORTS  the three ports (default "7301 7302 7303")
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a ports <<<"${REDIS_CLUSTER_PORTS:-7301 7302 7303}"
dir="$PWD/.cache/redis-cluster"

cluster_ok() {
  redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

if cluster_ok; then
  echo "redis cluster answering on 127.0.0.1:${ports[*]}"
  exit 0
fi

for port in "${ports[@]}"; do
  if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
    # A node that lost its data (no persistence) must not rejoin with a stale slot table.
    rm -rf "$dir/$port" && mkdir -p "$dir/$port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir/$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --save "" --appendonly no --logfile "$dir/$port/redis.log"
  fi
done
for port in "${ports[@]}"; do
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# Nodes that already know each other only wait for the slots to settle; fresh ones are joined.
if [[ "$(redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | grep -c '^cluster_known_nodes:1\b' || true)" == 1 ]]; then
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
fi
for _ in $(seq 100); do cluster_ok && break; sleep 0.1; done
cluster_ok || { echo "redis cluster on ${ports[*]} did not come up" >&2; exit 1; }
echo "redis cluster answering on 127.0.0.1:${ports[*]}"
