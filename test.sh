#!/usr/bin/env bash
# Runs the Kyros.Perf test suite on a fresh machine: installs redis-server and chromium when missing, then runs dotnet test.
# Results land in TestResults/results.trx. Extra arguments go to dotnet test (e.g. --filter-class "*Http*").
set -euo pipefail
cd "$(dirname "$0")"

# Debian's packages the tests use: redis-server (the tests start their own on a free port) and chromium (the page
# tests drive it through Playwright; Playwright cannot download its own browsers here).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

rm -rf TestResults
# The whole solution builds first (silo, CLI and benchmarks too: the tests start the silo and the CLI as processes).
dotnet build Kyros.Perf.sln -nologo -v quiet
exec dotnet test --project tests/Kyros.Perf.Tests --no-build \
  --results-directory TestResults --report-xunit-trx --report-xunit-trx-filename results.trx "$@"
