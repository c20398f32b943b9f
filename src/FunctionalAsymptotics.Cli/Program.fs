/// `fa`: the FunctionalAsymptotics command line. One sub-command per file in Commands/, each with its own
/// Argu parser; this module dispatches on the first word and lists the commands in `fa --help`.
/// Exit codes (`Common`): 0 success, 1 a computation failed, 2 bad usage or input, 130 interrupted; one
/// line on stderr for every failure.
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
        Run = Gmm.runEstimate }
      { Name = "gmm-sweep"
        Summary = "the Figure 2 sweeps over K, d or beta: CSV, JSON and a PNG with error bars."
        Run = Gmm.runSweep } ]

let private help (output: Output) =
    output.Out.WriteLine "USAGE: fa [--help] [--version] <command> [<options>]"
    output.Out.WriteLine ""
    output.Out.WriteLine "COMMANDS:"
    for c in commands do
        output.Out.WriteLine(sprintf "    %-10s %s" c.Name c.Summary)
    output.Out.WriteLine ""
    output.Out.WriteLine "Run 'fa <command> --help' (or 'fa help <command>') for the options of a command."
    output.Out.WriteLine "Numbers are read in the invariant culture: '.' is the decimal separator, ',' separates list items."
    output.Out.WriteLine ""
    output.Out.WriteLine "EXIT CODES:"
    output.Out.WriteLine "    0    success"
    output.Out.WriteLine "    1    a computation failed (an internal value overflowed, an algorithm did not converge, a file could not be written)"
    output.Out.WriteLine "    2    bad usage or input (the message names the option)"
    output.Out.WriteLine "    130  interrupted (Ctrl-C)"
    output.Out.WriteLine "Every failure is one line 'fa: ...' on stderr."

/// Runs `fa` with `argv`, writing to `output`; returns the exit code (used by `main` and by tests). Every
/// failure goes through the one handler, `Common.handle`.
let run (output: Output) (argv: string[]) : int =
    handle output (fun () ->
        match List.ofArray argv with
        | [] -> usageError "no command given; try 'fa --help'"
        | [ "--help" | "-h" | "help" ] -> help output; 0
        | "help" :: name :: _ when commands |> List.exists (fun c -> c.Name = name) ->
            (commands |> List.find (fun c -> c.Name = name)).Run output [| "--help" |]
        | ("--help" | "-h" | "help") :: other :: _ -> usageError (sprintf "unknown command '%s'; try 'fa --help'" other)
        | "--version" :: _ ->
            let version = typeof<InvalidArgumentException>.Assembly.GetName().Version
            output.Out.WriteLine(sprintf "fa %O" version)
            0
        | name :: rest ->
            match commands |> List.tryFind (fun c -> c.Name = name) with
            | Some c -> c.Run output (Array.ofList rest)
            | None -> usageError (sprintf "unknown command '%s'; try 'fa --help'" name))

/// Ctrl-C: a cooperating command (a simulation) stops after storing its finished work and returns 130;
/// otherwise `fa` writes one line and ends with exit code 130.
let private onCancel (error: IO.TextWriter) =
    ConsoleCancelEventHandler(fun _ e ->
        if Interrupt.request () then e.Cancel <- true
        else
            writeSafely error "fa: interrupted"
            exit 130)

[<EntryPoint>]
let main argv =
    Console.CancelKeyPress.AddHandler(onCancel Console.Error)
    try run { Out = Console.Out; Error = Console.Error } argv
    with _ -> 1
