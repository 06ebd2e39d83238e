#!/usr/bin/env bash
# Issue 15's table in one go: fan-out and scale against naive Twisted and the
# C epoll server (compiled load generator), then idle 10,000, 19,000 idle
# connections and rooms (ours), 3 runs each, our server from git revision
# ${REV:-HEAD}; merged into bench/results.json and bench/RESULTS.md.  About
# 20 to 30 minutes on 2 cores.  Prints the machine's load before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${REV:-HEAD}
runs=${RUNS:-3}
out=$(mktemp -d /tmp/issue15.XXXXXX)
uptime
.venv/bin/python -m bench.run --chatserver "$rev" --runs "$runs" \
  --scenarios fanout,scale --servers ours,naive,c --loadgen c \
  --out "$out/traffic.json" --no-report
uptime
.venv/bin/python -m bench.run --chatserver "$rev" --runs "$runs" \
  --scenarios idle,idle19k,rooms --servers ours \
  --out "$out/crowd.json" --no-report
uptime
.venv/bin/python -m bench.report --merge "$out/traffic.json" "$out/crowd.json"
echo "results: $out/*.json, bench/results.json, bench/RESULTS.md"
