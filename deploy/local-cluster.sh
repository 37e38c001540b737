#!/usr/bin/env bash
# A three-silo Kyros.Perf cluster on loopback with its own Redis.
#   deploy/local-cluster.sh start    build the silo (Release), start Redis and silos 1-3
#   deploy/local-cluster.sh stop     stop the silos and Redis (by their pids)
#   deploy/local-cluster.sh status   what runs: Redis, and each silo's /healthz
#   deploy/local-cluster.sh rolling-restart   stop each silo gracefully (SIGTERM) and start it again, one after another
#   deploy/local-cluster.sh kill-redis   kill -9 this cluster's Redis (by its pid), for fault drills
#   deploy/local-cluster.sh start-redis  start that Redis again on the same data directory (it reloads its AOF)
# Silo N: HTTP 508(N-1), silo port 1111N, gateway 3000(N-1). Redis: $KYROS_REDIS_PORT (default 6390), with an
# append-only file fsynced every second in deploy/run/redis/, so a Redis killed and started again keeps what it acknowledged.
# Logs, pids and the shared SQLite history live in deploy/run/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run="$root/deploy/run"
redis_port="${KYROS_REDIS_PORT:-6390}"
silos="${KYROS_SILOS:-3}"
mkdir -p "$run"

start() {
  command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }
  dotnet build "$root/silo" -c Release -v quiet -nologo >/dev/null
  start_redis
  for n in $(seq 1 "$silos"); do start_one "$n"; done
  for n in $(seq 1 "$silos"); do wait_healthy "$n"; done
  status
}

# The pid in deploy/run/redis.pid when it is this cluster's redis-server (on its port), else nothing.
redis_pid() {
  local pid
  [ -f "$run/redis.pid" ] || return 0
  pid="$(cat "$run/redis.pid")"
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$redis_port"; then
    echo "$pid"
  fi
}

# Redis on loopback with AOF (fsync every second) in deploy/run/redis/: started again, it reloads what it acknowledged.
start_redis() {
  command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }
  if [ -n "$(redis_pid)" ]; then echo "redis on 127.0.0.1:$redis_port (pid $(redis_pid))"; return; fi
  rm -f "$run/redis.pid"
  mkdir -p "$run/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run/redis" --appendonly yes --appendfsync everysec \
    --daemonize yes --pidfile "$run/redis.pid" --logfile "$run/redis.log"
  for _ in $(seq 50); do [ -s "$run/redis.pid" ] && break; sleep 0.1; done
  # Answering PING (not LOADING) means the AOF is loaded.
  for _ in $(seq 300); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ] && { echo "redis on 127.0.0.1:$redis_port (pid $(cat "$run/redis.pid"))"; return; }
    sleep 0.1
  done
  echo "redis does not answer after 30 s; see $run/redis.log" >&2
  return 1
}

# kill -9 this cluster's Redis only. Its AOF stays: Redis writes each command to it before replying, and the kernel
# holds what is not fsynced yet (a lost machine, not a killed process, loses up to the last second).
kill_redis() {
  local pid
  pid="$(redis_pid)"
  [ -n "$pid" ] || { echo "redis is not running" >&2; return 1; }
  kill -9 "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$run/redis.pid"
  echo "redis (pid $pid) killed"
}

start_one() {
  local n="$1"
  if [ -f "$run/silo$n.pid" ] && kill -0 "$(cat "$run/silo$n.pid")" 2>/dev/null; then return; fi
  Kyros__Redis="127.0.0.1:$redis_port" \
  Kyros__HostName="silo$n" \
  Kyros__SiloPort=$((11110 + n)) \
  Kyros__GatewayPort=$((29999 + n)) \
  Kyros__HttpUrl="http://127.0.0.1:$((5079 + n))" \
  Kyros__History__DatabasePath="$run/data/history.db" \
    nohup dotnet "$root/silo/bin/Release/net10.0/Kyros.Perf.Silo.dll" >>"$run/silo$n.log" 2>&1 &
  echo $! >"$run/silo$n.pid"
}

wait_healthy() {
  for _ in $(seq 120); do
    curl -fsS "http://127.0.0.1:$((5079 + $1))/healthz" >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "silo$1 is not healthy after 60 s; see $run/silo$1.log" >&2
  return 1
}

# One silo at a time: SIGTERM (it finishes what is in flight, writes queued records, hands its grains off and leaves
# within Kyros:ShutdownTimeout), then a fresh start on the same ports, healthy before the next one goes.
rolling_restart() {
  for n in $(seq 1 "$silos"); do
    if [ -f "$run/silo$n.pid" ]; then
      pid="$(cat "$run/silo$n.pid")"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      rm -f "$run/silo$n.pid"
    fi
    start_one "$n"
    wait_healthy "$n"
    echo "silo$n restarted"
  done
}

stop() {
  for n in $(seq 1 "$silos"); do
    if [ -f "$run/silo$n.pid" ]; then kill "$(cat "$run/silo$n.pid")" 2>/dev/null || true; fi
  done
  for n in $(seq 1 "$silos"); do
    if [ -f "$run/silo$n.pid" ]; then
      pid="$(cat "$run/silo$n.pid")"
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$run/silo$n.pid"
    fi
  done
  # SIGTERM: Redis fsyncs its AOF and exits.
  pid="$(redis_pid)"
  if [ -n "$pid" ]; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$run/redis.pid"
  echo "stopped"
}

status() {
  pid="$(redis_pid)"
  if [ -n "$pid" ]; then echo "redis 127.0.0.1:$redis_port pid $pid"; else echo "redis 127.0.0.1:$redis_port down"; fi
  for n in $(seq 1 "$silos"); do
    url="http://127.0.0.1:$((5079 + n))"
    printf 'silo%s %s ' "$n" "$url"
    curl -fsS "$url/healthz" 2>/dev/null || printf 'down'
    echo
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  rolling-restart) rolling_restart ;;
  kill-redis) kill_redis ;;
  start-redis) start_redis ;;
  *) echo "usage: $0 start|stop|status|rolling-restart|kill-redis|start-redis" >&2; exit 2 ;;
esac
