#!/usr/bin/env bash
# Instructions per event of the run loop on the bench's M/M/8 station at rho 0.9, counted
# by callgrind: unlike wall-clock timings, other load on the machine does not change it.
#
#   benches/callgrind.sh [DURATION]   (default 140000s, the bench's: about 2M events, ~30 s)
#
# Builds the release binary (or takes $PLATSIM), runs the station under
# `valgrind --tool=callgrind`, and divides the inclusive instruction count of
# `Sim::run_loop` (the loop alone: no parsing, set-up, summary or file writing) by the
# `events` of summary.json. A shorter DURATION is quicker but weighs the per-window work
# (one time-series row per window, at most 3,600 rows) more.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-140000s}
bin=${PLATSIM:-target/release/platsim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
[ -n "${PLATSIM:-}" ] || cargo build --release --quiet
cat > "$dir/mm8.ron" <<RON
Scenario(name: "mm8", seed: 1, duration: "$duration", warmup: "1000s",
    services: [Service(name: "station", concurrency: 8, service_time: Exponential(mean: "1s"))],
    workload: [Open(target: "station", rate: 7.2)])
RON
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    "$bin" run "$dir/mm8.ron" --quiet --out "$dir/out" 2>/dev/null
events=$(grep -o '"events": *[0-9]*' "$dir/out/summary.json" | grep -o '[0-9]*$')
loop=$(callgrind_annotate --inclusive=yes "$dir/cg.out" 2>/dev/null \
    | awk '/run_loop \[/ && !n++ {gsub(",", "", $1); print $1}')
total=$(callgrind_annotate "$dir/cg.out" 2>/dev/null \
    | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "events: $events"
echo "run loop: $loop instructions, $((loop / events)) per event"
echo "whole process: $total instructions, $((total / events)) per event"
