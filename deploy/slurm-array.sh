#!/usr/bin/env bash
# A platsim sweep as a Slurm job array: one array task per shard. Slurm sets
# SLURM_ARRAY_TASK_ID (0..7 here); that is the shard index. Every task writes
# sweep-out/shard-<id>-of-8 on a shared filesystem.
#
#   mkdir -p sweep-out/logs          # Slurm opens the log files before the script runs
#   jobid=$(sbatch --parsable deploy/slurm-array.sh)
#   sbatch --dependency=afterany:$jobid --wrap 'platsim merge sweep-out'
#
# A requeued or rerun task continues where it stopped (--resume).
#SBATCH --job-name=platsim-sweep
#SBATCH --array=0-7            # N = 8 shards: keep in step with SHARDS below
#SBATCH --cpus-per-task=4      # --jobs defaults to the cores platsim can use
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=sweep-out/logs/%A_%a.log
set -euo pipefail

SHARDS=8
mkdir -p sweep-out/logs
code=0
platsim sweep scenarios/food-ordering.ron \
    --set services.payment.error_rate=0.1,0.3,0.5 \
    --set workload.checkout.rate=300..900:4 \
    --seeds 1..50 \
    --fail-if 'workloads.checkout.goodput_rps < 200' \
    --jobs "${SLURM_CPUS_PER_TASK:-0}" \
    --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
    --out sweep-out --resume --quiet || code=$?
# Exit 3 means some runs failed their predicate: a finding, reported by merge, not a
# failed task.
if [ "$code" -eq 3 ]; then exit 0; fi
exit "$code"
