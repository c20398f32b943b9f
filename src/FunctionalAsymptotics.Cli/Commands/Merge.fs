/// `fa merge DIR... --out DIR`: combines the shard directories of one `fa simulate` run.
module FunctionalAsymptotics.Cli.Commands.Merge

open System
open Argu
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Cli.Common

/// Options of `fa merge`.
type MergeArgs =
    /// The shard directories.
    | [<MainCommand; Mandatory>] Dirs of dirs: string list
    /// `--out DIR`.
    | [<Mandatory; Unique>] Out of dir: string
    /// `--quiet`.
    | Quiet
    /// `--json`.
    | Json
    /// `--no-plots`.
    | No_Plots
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Dirs _ -> "the shard directories written by 'fa simulate --shard i/N' (all N of them)."
            | Out _ -> "directory of the merged run (a single-shard run: summary, figures, records)."
            | Quiet -> "no table."
            | Json -> "print the summary as one JSON object on stdout (identical to an unsharded run's)."
            | No_Plots -> "do not write figure3.png and figure4.png."

/// `fa merge ARGS` writing to the given streams; returns the exit code.
let runWith (out: IO.TextWriter) (err: IO.TextWriter) (argv: string[]) : int =
    handle { Out = out; Error = err } (fun () ->
        let parser = ArgumentParser.Create<MergeArgs>(programName = "fa merge")
        let args = parser.ParseCommandLine(argv, raiseOnUsage = true)
        let dir = args.GetResult Out
        let spec = Store.merge (args.GetResult Dirs) dir
        let factory = Simulate.findModel spec.Model
        let model = factory.Create spec.Alpha spec.Parameters
        Simulate.report out (args.Contains Json) (args.Contains Quiet) (args.Contains No_Plots) model spec dir)

/// `fa merge ARGS` on the console.
let run (argv: string[]) : int = runWith Console.Out Console.Error argv
