/// What every `fa` command shares: the error kinds and the one error handler (exit codes), strict number
/// parsing of option values, Ctrl-C handling and the output writers.
///
/// Exit codes: 0 success; 1 a computation failed (an internal value overflowed, an algorithm did not
/// converge, a file could not be written); 2 bad usage or input (the message names the option);
/// 130 interrupted (Ctrl-C). Every failure is one line `fa: ...` on stderr, never a stack trace.
module FunctionalAsymptotics.Cli.Common

open System
open System.Globalization
open System.IO
open System.Threading
open Argu
open Spectre.Console
open FunctionalAsymptotics

/// A usage error (bad option value, inconsistent options): one line on stderr, exit code 2.
exception UsageError of string

/// A computation failed on validated options (an internal value overflowed, a core check failed on a
/// value the CLI computed): one line on stderr, exit code 1. The message names the computation and the
/// inputs that caused it.
exception ComputationError of string

/// Fails with a `UsageError`.
let usageError (message: string) : 'T = raise (UsageError message)

/// Fails with a `ComputationError`.
let computationError (message: string) : 'T = raise (ComputationError message)

/// Runs a core function that validates user inputs and then computes: an `InvalidArgumentException`
/// naming one of `options` (core argument name, option name) is a usage error naming the option (exit 2);
/// one naming anything else arose inside the computation (an internal value the user never gave) and is a
/// `ComputationError` naming `what` was computed and `inputs` (exit 1), as is a `RankDeficientException`.
let validatingThenComputing (options: (string * string) list) (what: string) (inputs: string) (body: unit -> 'T) : 'T =
    try body ()
    with
    | :? InvalidArgumentException as e ->
        match options |> List.tryFind (fun (argument, _) -> argument = e.Argument) with
        | Some(_, option) -> usageError (sprintf "%s: %s" option e.Constraint)
        | None -> computationError (sprintf "%s failed for %s: internal value %s %s" what inputs e.Argument e.Constraint)
    | :? RankDeficientException as e -> computationError (sprintf "%s failed for %s: %s" what inputs e.Message)

/// Runs a computation on options that were already validated. A core `InvalidArgumentException` raised
/// inside it is not the user's fault (every option was checked before): it becomes a `ComputationError`
/// naming `what` was computed and `inputs` (the options it was computed from), exit code 1.
let compute (what: string) (inputs: string) (body: unit -> 'T) : 'T = validatingThenComputing [] what inputs body

/// Runs the core's validation of user inputs: an `InvalidArgumentException` raised by `body` is a usage
/// error (exit 2) naming the user's option, found in `options` (core argument name, option name).
let validating (options: (string * string) list) (body: unit -> 'T) : 'T =
    try body ()
    with :? InvalidArgumentException as e ->
        let option = options |> List.tryFind (fun (argument, _) -> argument = e.Argument) |> Option.map snd |> Option.defaultValue e.Argument
        usageError (sprintf "%s: %s" option e.Constraint)

/// Checks that a computed quantity is finite: otherwise a `ComputationError` saying that `what`
/// overflowed (or is undefined) for `inputs`.
let finiteResult (what: string) (inputs: string) (x: float) : float =
    if Double.IsFinite x then x
    else computationError (sprintf "%s is %s for %s (beyond double precision); change the inputs" what (if Double.IsNaN x then "undefined (NaN)" else "infinite") inputs)

/// Strict parsing of option values: invariant culture, no thousands separators, no currency or
/// parentheses, no surrounding text; every failure is a `UsageError` naming the option. Every number that
/// `fa` reads from the command line goes through this module.
module Parse =
    let private floatStyle = NumberStyles.AllowLeadingSign ||| NumberStyles.AllowDecimalPoint ||| NumberStyles.AllowExponent
    let private intStyle = NumberStyles.AllowLeadingSign

    /// A finite number, e.g. "1.5", "-2e-3" ("2,5", "1 000", "NaN", "1e400" are usage errors).
    let float (option: string) (text: string) : float =
        let t = text.Trim()
        match Double.TryParse(t, floatStyle, CultureInfo.InvariantCulture) with
        | true, x when Double.IsFinite x -> x
        | true, _ -> usageError (sprintf "%s: '%s' is not a finite number" option text)
        | _ when t.Contains ',' -> usageError (sprintf "%s: '%s' is not a number (the decimal separator is '.', and no thousands separators)" option text)
        | _ -> usageError (sprintf "%s: '%s' is not a number" option text)

    /// A 32-bit integer, e.g. "12", "-3" ("1,000", "1e3", "2.0" are usage errors).
    let int (option: string) (text: string) : int =
        let t = text.Trim()
        match Int32.TryParse(t, intStyle, CultureInfo.InvariantCulture) with
        | true, k -> k
        | _ ->
            match Double.TryParse(t, floatStyle, CultureInfo.InvariantCulture) with
            | true, _ -> usageError (sprintf "%s: '%s' is not an integer between %d and %d" option text Int32.MinValue Int32.MaxValue)
            | _ -> usageError (sprintf "%s: '%s' is not an integer" option text)

    /// An unsigned 64-bit integer (seeds).
    let uint64 (option: string) (text: string) : uint64 =
        let t = text.Trim()
        match UInt64.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture) with
        | true, v -> v
        | _ -> usageError (sprintf "%s: '%s' is not an unsigned 64-bit integer" option text)

    let private items (option: string) (kind: string) (text: string) : string[] =
        if String.IsNullOrWhiteSpace text then usageError (sprintf "%s: expected a comma-separated list of %s" option kind)
        text.Split(',')

    /// A comma-separated list of finite numbers, e.g. "1,0.5,0.25".
    let floats (option: string) (text: string) : float[] = items option "numbers" text |> Array.map (float option)

    /// A comma-separated list of integers, e.g. "1,2,1".
    let ints (option: string) (text: string) : int[] = items option "integers" text |> Array.map (int option)

    /// `name=value` pairs separated by commas (`--param d=6,k=2`); the values are finite numbers.
    let assignments (option: string) (text: string) : (string * float) list =
        [ for part in items option "name=value pairs" text do
            match part.Split('=') with
            | [| k; v |] when k.Trim() <> "" -> yield k.Trim(), float (sprintf "%s %s" option (k.Trim())) v
            | _ -> usageError (sprintf "%s: expected name=value, got '%s'" option part) ]

/// Checks of parsed option values; each failure is a `UsageError` naming the option and the rule.
module Require =
    /// `x > 0` and `1 / x` finite (so that `alpha^-1` terms cannot overflow from the option alone).
    let positiveInvertible (option: string) (x: float) : float =
        if not (x > 0.0) then usageError (sprintf "%s: must be > 0, got %s" option (x.ToString("R", CultureInfo.InvariantCulture)))
        if not (Double.IsFinite(1.0 / x)) then usageError (sprintf "%s: must be at least %g (its inverse must be finite), got %s" option (1.0 / Double.MaxValue) (x.ToString("R", CultureInfo.InvariantCulture)))
        x

    /// `x >= 0`.
    let nonNegative (option: string) (x: float) : float =
        if not (x >= 0.0) then usageError (sprintf "%s: must be >= 0, got %s" option (x.ToString("R", CultureInfo.InvariantCulture)))
        x

    /// `lo <= k <= hi` (sizes: the upper bound keeps allocations that cannot fit from being attempted).
    let intBetween (option: string) (lo: int) (hi: int) (k: int) : int =
        if k < lo || k > hi then usageError (sprintf "%s: must be between %d and %d, got %d" option lo hi k)
        k

/// Shortest round-trip text of a number (invariant culture).
let format (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

/// Where a command writes: standard output and error (redirectable for tests) and a Spectre console on stdout.
type Output =
    { /// Standard output (results).
      Out: TextWriter
      /// Standard error (one-line error messages).
      Error: TextWriter }
    /// A Spectre.Console console rendering to `Out` (no colour when `Out` is redirected).
    member this.Console =
        AnsiConsole.Create(AnsiConsoleSettings(Out = AnsiConsoleOutput(this.Out)))

/// Ctrl-C: a command that can stop cleanly (a simulation storing its finished replicates) runs inside
/// `cooperate` and sees its token cancelled; any other command is ended by `Program.main` with one line on
/// stderr and exit code 130.
module Interrupt =
    // The cooperating commands now running (one in the `fa` process; several when tests run commands in
    // parallel). Each adds its own source and removes it before disposing it, so a request never touches a
    // disposed source.
    let private active = System.Collections.Concurrent.ConcurrentDictionary<CancellationTokenSource, unit>()

    /// Runs `body` with a token that Ctrl-C cancels; `body` returns 130 when it stopped because of it.
    let cooperate (body: CancellationToken -> int) : int =
        use cts = new CancellationTokenSource()
        active.[cts] <- ()
        try body cts.Token
        finally active.TryRemove cts |> ignore

    /// Called on Ctrl-C: cancels the cooperating commands and returns true, or returns false when no
    /// command cooperates (the process then ends with exit code 130).
    let request () : bool =
        let sources = active.Keys |> Seq.toArray
        for cts in sources do
            try cts.Cancel() with :? ObjectDisposedException -> ()
        sources.Length > 0

/// The first line of a message, trimmed (error messages are one line on stderr).
let oneLine (message: string) =
    let lines =
        message.Split([| '\n'; '\r' |], StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
    if lines.Length = 0 then "error" else lines.[0]

/// Writes one line without ever throwing (stderr may be closed or full: the exit code still reports the
/// failure).
let writeSafely (writer: TextWriter) (line: string) =
    try
        writer.WriteLine line
        writer.Flush()
    with _ -> ()

/// The exit code and one-line message of a failure (no stack trace, no .NET type names for the user).
let describe (e: exn) : int * string =
    match e with
    | UsageError message -> 2, message
    | ComputationError message -> 1, message
    | :? ArguParseException as e -> 2, e.Message.Replace("ERROR: ", "")
    | :? ArguException as e -> 2, e.Message
    | :? InvalidArgumentException as e -> 2, sprintf "%s: %s" e.Argument e.Constraint
    | :? RankDeficientException as e -> 2, e.Message
    | :? FunctionalAsymptoticsException as e -> 1, e.Message
    | :? OperationCanceledException -> 130, "interrupted"
    | :? OutOfMemoryException -> 1, "out of memory: the requested sizes do not fit in this machine's memory; use smaller sizes"
    | :? UnauthorizedAccessException as e -> 2, sprintf "file access denied: %s" e.Message
    | :? DirectoryNotFoundException as e -> 2, sprintf "directory not found: %s" e.Message
    | :? FileNotFoundException as e -> 2, sprintf "file not found: %s" e.Message
    | :? IOException as e -> 1, sprintf "input/output failed: %s" e.Message
    | :? OverflowException -> 1, "arithmetic overflow: an internal size or count exceeds its range; use smaller sizes"
    | e -> 1, sprintf "internal error (%s); please report it with the command line" (e.GetType().Name)

/// The one error handler of `fa`: runs a command; help text goes to `output.Out` with exit code 0, every
/// failure to `output.Error` as one line `fa: ...` with its exit code (see `describe`).
let handle (output: Output) (body: unit -> int) : int =
    try body ()
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        writeSafely output.Out e.Message
        0
    | e ->
        let code, message = describe e
        writeSafely output.Error (sprintf "fa: %s" (oneLine message))
        code
