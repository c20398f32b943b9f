#!/usr/bin/env bash
# The merge step after the array job of simulate-array.sh: combines RUN_DIR/shard-* into RUN_DIR/merged
# (summary.json, figures and records of the whole run, identical to an unsharded run's).
#
#   sbatch --dependency=afterok:ARRAY_JOB_ID examples/slurm/merge.sh RUN_DIR [fa merge options, e.g. --json]
#
# `fa merge` refuses if a shard is missing or incomplete, or if any record fails its checksum.
#SBATCH --job-name=fa-merge
#SBATCH --output=fa-merge-%j.out
set -euo pipefail

FA=${FA:-fa}
if [ $# -lt 1 ]; then
    echo "usage: sbatch --dependency=afterok:JOB $0 RUN_DIR [fa merge options]" >&2
    exit 2
fi
run_dir=$1
shift
shopt -s nullglob
shards=("$run_dir"/shard-*)
if [ ${#shards[@]} -eq 0 ]; then
    echo "$0: no shard directories in $run_dir" >&2
    exit 2
fi
exec "$FA" merge "${shards[@]}" --out "$run_dir/merged" "$@"
