#!/usr/bin/env bash
# A platsim sweep split into N shards run by GNU parallel, then merged.
#
#   deploy/gnu-parallel.sh 8                  # 8 shards on this machine, 2 at a time
#   SSH_HOSTS=node1,node2 deploy/gnu-parallel.sh 8   # over ssh (a shared filesystem for OUT)
#
# Each shard gets --jobs 1 here and GNU parallel runs one shard per core; on several
# machines, give each shard the machine's cores instead. Rerunning the script resumes
# unfinished shards (--resume) and merges again.
#
# Needs GNU parallel (apt-get install parallel; brew install parallel) and platsim on the
# PATH (cargo install --path .), on every host.
set -euo pipefail

for tool in parallel platsim; do
    if ! command -v "$tool" >/dev/null; then
        echo "gnu-parallel.sh: $tool is not on the PATH (see the prerequisites at the top of $0)" >&2
        exit 2
    fi
done

SHARDS=${1:-4}
OUT=${OUT:-output/food-ordering/sweep}
SWEEP=(platsim sweep scenarios/food-ordering.ron
       --set services.payment.error_rate=0.1,0.3,0.5
       --set workload.checkout.rate=300..900:4
       --seeds 1..50
       --fail-if "'workloads.checkout.goodput_rps < 200'"
       --out "$OUT" --resume --quiet)

hosts=()
if [ -n "${SSH_HOSTS:-}" ]; then
    hosts=(-S "$SSH_HOSTS" --workdir "$PWD")
fi

# Exit 3 (runs failed their predicate) is a result: count only other codes as errors.
seq 0 $((SHARDS - 1)) | parallel "${hosts[@]}" --halt never --line-buffer \
    "${SWEEP[*]} --jobs 1 --shard {}/$SHARDS; c=\$?; [ \$c -eq 3 ] && c=0; exit \$c"

platsim merge "$OUT"
