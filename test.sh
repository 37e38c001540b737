#!/usr/bin/env bash
# Runs the Kyros.Perf test suite on a fresh machine: installs redis-server, redis-sentinel, chromium and
# prometheus-alertmanager when missing, then runs dotnet test.
# Results land in TestResults/results.trx. Extra arguments go to dotnet test (e.g. --filter-class "*Http*").
set -euo pipefail
cd "$(dirname "$0")"

# Debian's packages the tests use: redis-server (the tests start their own on a free port), redis-sentinel (the
# failover tests start Sentinels of their own; the package's service is not started here), chromium (the page
# tests drive it through Playwright; Playwright cannot download its own browsers here) and prometheus-alertmanager (the
# notification tests start one of their own on a free port, with its own config and storage, and kill it at the end;
# the package's service is not used).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
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
status=0
dotnet test --project tests/Kyros.Perf.Tests --no-build \
  --results-directory TestResults --report-xunit-trx --report-xunit-trx-filename results.trx "$@" || status=$?

# The last lines name every failed test and the start of its message: a long log's tail is what a CI report keeps.
trx=TestResults/results.trx
if [ "$status" -ne 0 ] && [ -f "$trx" ]; then
  echo "test.sh: failed tests:" >&2
  # The TRX is one line of XML: perl (in every Debian base) reads it whole.
  # Each failure: its assertion message, the test's own line in the stack trace and the last lines of its output.
  perl -0777 -ne 'while (/<UnitTestResult ([^>]*[^\/])>(.*?)<\/UnitTestResult>/gs) { my ($a, $body) = ($1, $2);
      next unless $a =~ /outcome="Failed"/; my ($name) = $a =~ /testName="([^"]*)"/;
      my ($msg) = $body =~ /<ErrorInfo><Message>(.*?)<\/Message>/s; $msg = substr($msg // "", 0, 600); $msg =~ s/\s+/ /g;
      my ($at) = $body =~ /(at Kyros\.Perf\.Tests\.[^\n]*? in [^\n]*?:line \d+)/;
      my @out = $body =~ /<TextMessages>(.*?)<\/TextMessages>/s ? ($1 =~ /<Message>(.*?)<\/Message>/gs) : ();
      print STDERR "  $name: $msg\n"; print STDERR "    $at\n" if $at;
      print STDERR "    | $_\n" for map { substr($_, 0, 300) =~ s/\s+/ /gr } @out[($#out > 7 ? $#out - 7 : 0) .. $#out] }' "$trx"
fi
exit "$status"
