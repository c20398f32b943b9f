/// `fa`: the FunctionalAsymptotics command line. One Argu sub-command per file in Commands/.
/// Exit codes: 0 success, 1 a computation failed, 2 bad usage or input (one line on stderr).
module FunctionalAsymptotics.Cli.Program

open System
open Argu
open FunctionalAsymptotics
open FunctionalAsymptotics.Cli.Common
open FunctionalAsymptotics.Cli.Commands

/// The sub-commands of `fa`.
type FaArgs =
    /// `fa law ...`: a generalized chi-square law.
    | [<CliPrefix(CliPrefix.None); SubCommand>] Law of ParseResults<Law.LawArgs>
    /// `fa --version`.
    | [<Unique>] Version
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Law _ -> "moments, cdf, sf and quantiles of a generalized chi-square law c + s * sum_j w_j chi2_{k_j}(lambda_j)."
            | Version -> "print the version and exit."

/// The first line of a message, trimmed (error messages are one line on stderr).
let private oneLine (message: string) =
    let lines = message.Split([| '\n'; '\r' |], StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
    if lines.Length = 0 then "error" else lines.[0]

/// Runs `fa` with `argv`, writing to `output`; returns the exit code (used by `main` and by tests).
let run (output: Output) (argv: string[]) : int =
    let parser = ArgumentParser.Create<FaArgs>(programName = "fa")
    let fail code (message: string) =
        output.Error.WriteLine(sprintf "fa: %s" (oneLine message))
        code
    try
        let args = parser.ParseCommandLine(argv, raiseOnUsage = true)
        if args.Contains Version then
            let version = typeof<InvalidArgumentException>.Assembly.GetName().Version
            output.Out.WriteLine(sprintf "fa %O" version)
            0
        else
            match args.TryGetSubCommand() with
            | Some (Law lawArgs) -> Law.run output lawArgs
            | Some Version | None -> fail 2 "no command given; try 'fa --help'"
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        output.Out.WriteLine e.Message
        0
    | :? ArguParseException as e -> fail 2 (e.Message.Replace("ERROR: ", ""))
    | :? ArguException as e -> fail 2 e.Message
    | UsageError message -> fail 2 message
    | :? InvalidArgumentException as e -> fail 2 (sprintf "%s: %s" e.Argument e.Constraint)
    | e -> fail 1 (sprintf "%s: %s" (e.GetType().Name) e.Message)

[<EntryPoint>]
let main argv = run { Out = Console.Out; Error = Console.Error } argv
