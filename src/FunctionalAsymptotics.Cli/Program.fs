/// `fa`: the FunctionalAsymptotics command line. One sub-command per file in Commands/, each with its own
/// Argu parser; this module dispatches on the first word and lists the commands in `fa --help`.
/// Exit codes: 0 success, 1 a computation failed, 2 bad usage or input (one line on stderr).
module FunctionalAsymptotics.Cli.Program

open System
open Argu
open FunctionalAsymptotics
open FunctionalAsymptotics.Cli.Common
open FunctionalAsymptotics.Cli.Commands

/// One `fa` sub-command: its name, a one-line summary and how it runs on the arguments after its name.
type private Command = { Name: string; Summary: string; Run: Output -> string[] -> int }

let private lawCommand (output: Output) (argv: string[]) =
    let parser = ArgumentParser.Create<Law.LawArgs>(programName = "fa law")
    Law.run output (parser.ParseCommandLine(argv, raiseOnUsage = true))

let private predictCommand (output: Output) (argv: string[]) =
    let parser = ArgumentParser.Create<Predict.PredictArgs>(programName = "fa predict")
    Predict.run output (parser.ParseCommandLine(argv, raiseOnUsage = true))

let private commands : Command list =
    [ { Name = "reproduce"
        Summary = "the main job: recompute the paper (Corollaries 6.3-6.4, Figures 1-4) into DIR/index.md with PNG figures."
        Run = fun o argv -> Reproduce.run o Simulate.registry argv }
      { Name = "law"
        Summary = "moments, cdf, sf and quantiles of a generalized chi-square law c + s * sum_j w_j chi2_{k_j}(lambda_j)."
        Run = lawCommand }
      { Name = "spectral"
        Summary = "the limit law of the linear spectral contrastive model (Section 6.1, Corollary 6.3)."
        Run = fun o argv -> Spectral.run o.Out o.Error argv }
      { Name = "factor"
        Summary = "the limit law of the linear factor model (Section 6.2, Corollary 6.4)."
        Run = fun o argv -> Factor.run o.Out o.Error argv }
      { Name = "simulate"
        Summary = "simulate the two-stage pipeline against its limit law (Figures 3-4), sharded and resumable."
        Run = fun o argv -> Simulate.runWith o.Out o.Error argv }
      { Name = "merge"
        Summary = "merge the shard directories of 'fa simulate' into one result."
        Run = fun o argv -> Merge.runWith o.Out o.Error argv }
      { Name = "gmm"
        Summary = "the limit law of the Gaussian-mixture model (Section 6.3), by seeded Monte Carlo with standard errors."
        Run = fun _ argv -> Gmm.run (Array.append [| "gmm" |] argv) }
      { Name = "gmm-sweep"
        Summary = "the Figure 2 sweeps over K, d or beta: CSV, JSON and a PNG with error bars."
        Run = fun _ argv -> Gmm.run (Array.append [| "gmm-sweep" |] argv) }
      { Name = "predict"
        Summary = "predict the downstream risk and the pre-training crossover alpha0 from data files (CSV/Parquet), with bootstrap intervals."
        Run = predictCommand } ]

/// The first line of a message, trimmed (error messages are one line on stderr).
let private oneLine (message: string) =
    let lines = message.Split([| '\n'; '\r' |], StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
    if lines.Length = 0 then "error" else lines.[0]

let private help (output: Output) =
    output.Out.WriteLine "USAGE: fa [--help] [--version] <command> [<options>]"
    output.Out.WriteLine ""
    output.Out.WriteLine "COMMANDS:"
    for c in commands do
        output.Out.WriteLine(sprintf "    %-10s %s" c.Name c.Summary)
    output.Out.WriteLine ""
    output.Out.WriteLine "Run 'fa <command> --help' for the options of a command."

/// Runs `fa` with `argv`, writing to `output`; returns the exit code (used by `main` and by tests).
let run (output: Output) (argv: string[]) : int =
    let fail code (message: string) =
        output.Error.WriteLine(sprintf "fa: %s" (oneLine message))
        code
    try
        match List.ofArray argv with
        | [] -> fail 2 "no command given; try 'fa --help'"
        | ("--help" | "-h" | "help") :: _ -> help output; 0
        | "--version" :: _ ->
            let version = typeof<InvalidArgumentException>.Assembly.GetName().Version
            output.Out.WriteLine(sprintf "fa %O" version)
            0
        | name :: rest ->
            match commands |> List.tryFind (fun c -> c.Name = name) with
            | Some c -> c.Run output (Array.ofList rest)
            | None -> fail 2 (sprintf "unknown command '%s'; try 'fa --help'" name)
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        output.Out.WriteLine e.Message
        0
    | :? ArguParseException as e -> fail 2 (e.Message.Replace("ERROR: ", ""))
    | :? ArguException as e -> fail 2 e.Message
    | UsageError message -> fail 2 message
    | :? InvalidArgumentException as e -> fail 2 (sprintf "%s: %s" e.Argument e.Constraint)
    | :? RankDeficientException as e -> fail 2 e.Message
    | e -> fail 1 (sprintf "%s: %s" (e.GetType().Name) e.Message)

[<EntryPoint>]
let main argv = run { Out = Console.Out; Error = Console.Error } argv
