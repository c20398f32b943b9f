/// examples/slurm: the array job of `fa simulate --shard` and the dependent merge, with Slurm emulated
/// locally (each task's SLURM_* variables set, the task run by bash with FA pointing at the built `fa`).
module FunctionalAsymptotics.Tests.Examples.SlurmExampleTests

open System
open System.Diagnostics
open System.IO
open Expecto
open FunctionalAsymptotics.Cli.Commands

/// The repository root (the folder holding FunctionalAsymptotics.sln above the test binaries).
let private repoRoot =
    let rec up (dir: string) =
        if File.Exists(Path.Combine(dir, "FunctionalAsymptotics.sln")) then dir
        else
            match Path.GetDirectoryName dir with
            | null | "" -> failwith "FunctionalAsymptotics.sln not found above the test binaries"
            | parent -> up parent
    up (Path.GetFullPath AppContext.BaseDirectory)

/// Runs `bash script args` with `env` added (every inherited SLURM_* variable removed): (exit code, stdout, stderr).
let private bash (script: string) (args: string list) (env: (string * string) list) =
    let psi = ProcessStartInfo("bash", UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
    psi.ArgumentList.Add(Path.Combine(repoRoot, "examples", "slurm", script))
    for a in args do psi.ArgumentList.Add a
    for key in psi.Environment.Keys |> Seq.filter (fun k -> k.StartsWith "SLURM_") |> Seq.toArray do
        psi.Environment.Remove key |> ignore
    for k, v in env do psi.Environment.[k] <- v
    use p = match Process.Start psi with null -> failwith "bash did not start" | p -> p
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    p.ExitCode, out, err.Result

let tests =
    testList "Examples.Slurm" [
        test "the array job emulated locally, then the merge job, give the unsharded run's JSON and records byte for byte" {
            let fa = Path.Combine(AppContext.BaseDirectory, "fa")
            Expect.isTrue (File.Exists fa) "the fa executable beside the tests"
            let root = Path.Combine(Path.GetTempPath(), sprintf "fa-slurm-%s" (Guid.NewGuid().ToString("N")))
            let runDir = Path.Combine(root, "run")
            let simulate = [ "toy"; "--param"; "d=5,k=1"; "--n-grid"; "10,40"; "--alpha"; "1.5"; "--reps"; "9"; "--seed"; "42" ]
            // sbatch --array=0-1: task ids 0 and 1 (shards 1/2 and 2/2).
            for task in 0 .. 1 do
                let env = [ "FA", fa; "SLURM_ARRAY_TASK_ID", string task; "SLURM_ARRAY_TASK_COUNT", "2"
                            "SLURM_ARRAY_TASK_MIN", "0"; "SLURM_ARRAY_TASK_MAX", "1"; "SLURM_CPUS_PER_TASK", "1" ]
                let code, _, err = bash "simulate-array.sh" (runDir :: simulate) env
                Expect.equal code 0 (sprintf "task %d (stderr %s)" task err)
                Expect.isTrue (File.Exists(Path.Combine(runDir, sprintf "shard-%d" (task + 1), "manifest.json"))) "shard directory"
            let code, merged, err = bash "merge.sh" [ runDir; "--json"; "--no-plots" ] [ "FA", fa ]
            Expect.equal code 0 (sprintf "merge (stderr %s)" err)
            let wholeDir = Path.Combine(root, "whole")
            use out = new StringWriter()
            use errs = new StringWriter()
            let code = Simulate.runWith out errs (Array.ofList (simulate @ [ "--out"; wholeDir; "--json"; "--quiet"; "--no-plots" ]))
            Expect.equal code 0 (sprintf "unsharded run (stderr %s)" (errs.ToString()))
            Expect.equal merged (out.ToString()) "the merge job prints the unsharded run's JSON"
            for file in [ "summary.json"; "replicates.jsonl" ] do
                Expect.equal (File.ReadAllBytes(Path.Combine(runDir, "merged", file))) (File.ReadAllBytes(Path.Combine(wholeDir, file))) (sprintf "%s byte for byte" file)
            // Outside an array job the task script refuses, naming what is missing.
            let code, _, err = bash "simulate-array.sh" (runDir :: simulate) [ "FA", fa ]
            Expect.notEqual code 0 "not an array task"
            Expect.stringContains err "sbatch --array" "says how to submit"
        }
    ]
