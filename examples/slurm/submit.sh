#!/usr/bin/env bash
# Submits a sharded `fa simulate` run to Slurm: an array job of SHARDS tasks (simulate-array.sh) and the merge
# (merge.sh) as a job that starts once every task has succeeded.
#
#   examples/slurm/submit.sh SHARDS RUN_DIR MODEL [fa simulate options]
#   e.g. FA=$HOME/.dotnet/tools/fa examples/slurm/submit.sh 16 runs/gmm gmm --theta-norm 10 \
#            --n-grid 100,1000,10000,100000 --alpha 2 --reps 1000 --seed 20260601
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 SHARDS RUN_DIR MODEL [fa simulate options]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
shards=$1
run_dir=$2
shift 2
array=$(sbatch --parsable --array=1-"$shards" "$here/simulate-array.sh" "$run_dir" "$@")
merge=$(sbatch --parsable --dependency=afterok:"${array%%;*}" "$here/merge.sh" "$run_dir" --json)
echo "array job ${array%%;*} ($shards tasks), merge job ${merge%%;*}: results in $run_dir/merged"
