#!/usr/bin/env bash
# Start/stop the development OpenSearch node (Main.java) in the background.
#   node.sh start   builds the launcher if needed, starts the node, waits for yellow/green health,
#                   prints OPENSEARCH_URL=...; idempotent (an already running node is reused)
#   node.sh stop    SIGTERM (the node closes cleanly), SIGKILL after 30 s
# Environment: OPENSEARCH_PORT (9200), OPENSEARCH_HEAP (512m), OPENSEARCH_HOME (var/opensearch),
# OPENSEARCH_START_TIMEOUT (180 s), JAVA (java).
# No security plugin: plain HTTP, no authentication, bound to 127.0.0.1. Development and CI only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${OPENSEARCH_PORT:-9200}"
heap="${OPENSEARCH_HEAP:-512m}"
home="${OPENSEARCH_HOME:-$root/var/opensearch}"
timeout="${OPENSEARCH_START_TIMEOUT:-180}"
java="${JAVA:-java}"
pidfile="$home/node.pid"
log="$home/node.log"
url="http://127.0.0.1:$port"

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
healthy() { curl -fsS --max-time 3 "$url/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1; }

build() {
  # Rebuilt when the pom or Main.java changed; first build downloads ~60 MB into ~/.m2.
  local stamp="$here/target/.built"
  if [ ! -f "$stamp" ] || [ "$here/pom.xml" -nt "$stamp" ] \
     || [ -n "$(find "$here/src" -newer "$stamp" -type f 2>/dev/null)" ]; then
    echo "building the OpenSearch dev node (Maven)..." >&2
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" package >&2  # stdout carries only OPENSEARCH_URL
    touch "$stamp"
  fi
}

start() {
  if alive; then
    if healthy; then echo "OPENSEARCH_URL=$url"; return 0; fi
    echo "a node (pid $(cat "$pidfile")) is running but $url is not healthy; see $log" >&2
    return 1
  fi
  build
  mkdir -p "$home"
  # setsid: its own session, so the node outlives the make/CI step that started it and is
  # stopped only through the pid file.
  setsid "$java" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -cp "$here/target/classes:$here/target/lib/*:$here/target/knn/*" \
    councilsearch.devnode.Main --port "$port" --home "$home" >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local waited=0
  until healthy; do
    if ! alive; then
      echo "the OpenSearch node exited during start-up; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      rm -f "$pidfile"
      return 1
    fi
    if [ "$waited" -ge "$timeout" ]; then
      echo "no healthy cluster at $url after ${timeout}s; stopping it (log: $log)" >&2
      stop
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "OpenSearch 2.19.1 (k-NN, no security plugin) on $url, pid $(cat "$pidfile"), data in $home, log $log" >&2
  echo "OPENSEARCH_URL=$url"
}

stop() {
  if ! alive; then rm -f "$pidfile"; echo "no OpenSearch dev node running" >&2; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "stopped OpenSearch dev node (pid $pid)" >&2; return 0; }
    sleep 1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "killed OpenSearch dev node (pid $pid) after 30 s" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  build) build ;;
  *) echo "usage: $0 start|stop|build" >&2; exit 2 ;;
esac
