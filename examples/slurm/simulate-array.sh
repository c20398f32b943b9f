#!/usr/bin/env bash
# One task of a Slurm array job: shard i of N of an `fa simulate` run (docs/simulation.md, "On a cluster").
#
#   sbatch --array=1-8 examples/slurm/simulate-array.sh RUN_DIR MODEL [fa simulate options]
#
# Task i of the array (counted from the array's first index) writes shard i/N, N = the number of tasks, into
# RUN_DIR/shard-i. The options are those of `fa simulate` except --shard, --out and --threads, which this
# script sets (--threads from --cpus-per-task). The run seed is --seed (default 1): give it explicitly so that
# every task and any later resubmission simulate the same run. Tasks run with --resume, so a requeued or
# resubmitted task continues its shard instead of starting again. `fa` is taken from $FA (default: fa on PATH,
# e.g. installed with `dotnet tool install`). Then merge with merge.sh (submit.sh does both).
#SBATCH --job-name=fa-simulate
#SBATCH --cpus-per-task=2
#SBATCH --output=fa-simulate-%A_%a.out
set -euo pipefail

FA=${FA:-fa}
if [ $# -lt 2 ]; then
    echo "usage: sbatch --array=1-N $0 RUN_DIR MODEL [fa simulate options]" >&2
    exit 2
fi
run_dir=$1
shift
: "${SLURM_ARRAY_TASK_ID:?not an array task: submit with sbatch --array=1-N}"
: "${SLURM_ARRAY_TASK_COUNT:?not an array task: submit with sbatch --array=1-N}"
first=${SLURM_ARRAY_TASK_MIN:-1}
last=${SLURM_ARRAY_TASK_MAX:-$((first + SLURM_ARRAY_TASK_COUNT - 1))}
if [ $((last - first + 1)) -ne "$SLURM_ARRAY_TASK_COUNT" ]; then
    echo "$0: the array must be a contiguous range (e.g. --array=1-8), got $SLURM_ARRAY_TASK_COUNT tasks in $first-$last" >&2
    exit 2
fi
shard=$((SLURM_ARRAY_TASK_ID - first + 1))

mkdir -p "$run_dir"
exec "$FA" simulate "$@" --shard "$shard/$SLURM_ARRAY_TASK_COUNT" --out "$run_dir/shard-$shard" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --resume --quiet
