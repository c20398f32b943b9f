/// What every `fa` command shares: the usage-error exception, list parsing and the output console.
module FunctionalAsymptotics.Cli.Common

open System
open System.Globalization
open System.IO
open Spectre.Console

/// A usage error (bad option value, inconsistent options). `fa` prints its message on one line on stderr
/// and exits with code 2.
exception UsageError of string

/// Fails with a `UsageError`.
let usageError (message: string) : 'T = raise (UsageError message)

/// Parses one number in the invariant culture ("1.5", "-2e-3"); `option` names the option in errors.
let parseFloat (option: string) (text: string) : float =
    match Double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
    | true, x -> x
    | _ -> usageError (sprintf "%s: '%s' is not a number" option text)

/// Parses a comma-separated list of numbers, e.g. "1,0.5,0.25".
let parseFloats (option: string) (text: string) : float[] =
    if String.IsNullOrWhiteSpace text then usageError (sprintf "%s: expected a comma-separated list of numbers" option)
    text.Split(',') |> Array.map (parseFloat option)

/// Parses a comma-separated list of integers, e.g. "1,2,1".
let parseInts (option: string) (text: string) : int[] =
    if String.IsNullOrWhiteSpace text then usageError (sprintf "%s: expected a comma-separated list of integers" option)
    text.Split(',')
    |> Array.map (fun s ->
        match Int32.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture) with
        | true, k -> k
        | _ -> usageError (sprintf "%s: '%s' is not an integer" option s))

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
