#!/bin/sh
# Starts a replica of the primary the Sentinels name for "kyros", or a primary when they name this pod (a failover
# promoted it). On the first start no Sentinel answers yet: it replicates from redis-0. Arguments go to redis-server.
me="$HOSTNAME.redis-replica"
primary=redis-0.redis-headless
for s in redis-sentinel-0 redis-sentinel-1 redis-sentinel-2; do
  # The Sentinels take no password (REDISCLI_AUTH is the data nodes').
  a=$(timeout 2 env -u REDISCLI_AUTH redis-cli -h "$s.redis-sentinel" -p 26379 --raw sentinel get-master-addr-by-name kyros 2>/dev/null | head -n 1)
  case "$a" in ""|*" "*|ERR*) ;; *) primary="$a"; break ;; esac
done
if [ "$primary" != "$me" ]; then set -- "$@" --replicaof "$primary" 6379; fi
exec docker-entrypoint.sh redis-server "$@" --replica-announce-ip "$me"
