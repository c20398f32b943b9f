/// The contract every `fa` command keeps (Program.fs, Commands/*): help on stdout with exit 0, strict
/// number parsing naming the option, internal overflow as a computation error (exit 1) rather than the
/// user's fault, no hang on extreme inputs, sizes rejected before allocation, lowercase options.
module FunctionalAsymptotics.Tests.Cli.CommandContractTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Expecto
open FunctionalAsymptotics.Cli

/// Runs `fa` in-process; returns (exit code, stdout, stderr).
let fa (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    code, out.ToString(), err.ToString()

let private tempDir (name: string) =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-contract-%d-%s-%s" Environment.ProcessId name (Guid.NewGuid().ToString("N").Substring(0, 8)))
    dir

/// The commands of `fa` (as listed by `fa --help`).
let commands = [ "reproduce"; "law"; "spectral"; "factor"; "simulate"; "merge"; "gmm"; "gmm-sweep" ]

let private expectUsage (args: string list) (option: string) =
    let code, out, err = fa args
    Expect.equal code 2 (sprintf "exit 2 for %A (stderr %s)" args err)
    Expect.equal out "" "nothing on stdout"
    Expect.stringStarts err ("fa: " + option) (sprintf "names %s: %s" option err)

let tests =
    testList "Cli.CommandContract" [
        testCase "every command prints its help on stdout with exit 0 (--help and fa help <command>)" (fun () ->
            for c in commands do
                for args in [ [ c; "--help" ]; [ "help"; c ] ] do
                    let code, out, err = fa args
                    Expect.equal code 0 (sprintf "%A exit code (stderr %s)" args err)
                    Expect.stringStarts out (sprintf "USAGE: fa %s" c) (sprintf "%A usage" args)
                    Expect.equal err "" "nothing on stderr"
            let code, out, _ = fa [ "--help" ]
            Expect.equal code 0 "fa --help"
            for c in commands do Expect.stringContains out c "lists every command"
            for line in [ "EXIT CODES"; "0    success"; "1    a computation failed"; "2    bad usage or input"; "130  interrupted" ] do
                Expect.stringContains out line "documents the exit codes")

        testCase "options are lowercase: --K is gone, --components sets the mixture's components" (fun () ->
            for c in commands do
                let _, out, _ = fa [ c; "--help" ]
                let options = Text.RegularExpressions.Regex.Matches(out, @"--[A-Za-z][A-Za-z0-9-]*") |> Seq.map (fun m -> m.Value)
                for o in options do Expect.equal o (o.ToLowerInvariant()) (sprintf "fa %s: %s is lowercase" c o)
            expectUsage [ "gmm"; "--K"; "4" ] "unrecognized argument"
            let code, out, err = fa [ "gmm"; "--components"; "2"; "--d"; "3"; "--samples"; "1000"; "--fisher-samples"; "1000"; "--json" ]
            Expect.equal code 0 err
            Expect.equal ((JsonDocument.Parse out).RootElement.GetProperty("components").GetInt32()) 2 "components in the JSON"
            expectUsage [ "gmm-sweep"; "--vary"; "K"; "--values"; "2,3"; "--out"; tempDir "sweep" ] "--vary"
            expectUsage [ "gmm-sweep"; "--vary"; "components"; "--values"; "2,3"; "--fixed"; "K=4"; "--out"; tempDir "sweep" ] "--fixed")

        testCase "a comma in a number is a usage error naming the option, in every command (never a thousands separator)" (fun () ->
            let sim = [ "--n-grid"; "10"; "--reps"; "2"; "--out"; tempDir "sim"; "--quiet"; "--no-plots" ]
            expectUsage [ "spectral"; "--d"; "6"; "--k"; "2"; "--alpha"; "2,5"; "--sigma2"; "1"; "--json" ] "--alpha"
            expectUsage [ "spectral"; "--d"; "6"; "--k"; "2"; "--alpha"; "2"; "--sigma2"; "0,5"; "--json" ] "--sigma2"
            expectUsage [ "factor"; "--d"; "8"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1"; "--alpha"; "2,5" ] "--alpha"
            expectUsage [ "factor"; "--d"; "8"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1,5"; "--alpha"; "1" ] "--sigma-nu2"
            expectUsage [ "law"; "--weights"; "1"; "--offset"; "2,5" ] "--offset"
            expectUsage [ "law"; "--weights"; "1"; "--scale"; "1,5" ] "--scale"
            expectUsage [ "law"; "--weights"; "1"; "--dof"; "1.5" ] "--dof"
            expectUsage ([ "simulate"; "toy"; "--alpha"; "2,5" ] @ sim) "--alpha"
            expectUsage ([ "simulate"; "spectral"; "--alpha"; "2"; "--sigma2"; "0,5" ] @ sim) "--sigma2"
            expectUsage ([ "simulate"; "spectral"; "--alpha"; "2"; "--param"; "sigma2=0,5" ] @ sim) "--param"
            expectUsage [ "gmm"; "--beta"; "2,5" ] "--beta"
            expectUsage [ "gmm"; "--alpha"; "1,5" ] "--alpha"
            expectUsage [ "gmm-sweep"; "--vary"; "beta"; "--values"; "1,1e400"; "--out"; tempDir "sweep" ] "--values"
            // The accepted form gives exactly the number written.
            let code, out, err = fa [ "spectral"; "--d"; "6"; "--k"; "2"; "--alpha"; "2.5"; "--sigma2"; "0.5"; "--json" ]
            Expect.equal code 0 err
            let root = (JsonDocument.Parse out).RootElement
            Expect.equal (root.GetProperty("alpha").GetDouble()) 2.5 "alpha 2.5"
            Expect.equal (root.GetProperty("sigma2").GetDouble()) 0.5 "sigma2 0.5")

        testCase "an internal overflow is a computation error (exit 1) naming the quantity and the inputs, not the user's fault" (fun () ->
            let code, out, err = fa [ "spectral"; "--d"; "6"; "--k"; "2"; "--alpha"; "1e-300"; "--sigma2"; "1" ]
            Expect.equal code 1 err
            Expect.equal out "" "no partial table"
            Expect.stringContains err "variance of E_alpha is infinite" "names what overflowed"
            Expect.stringContains err "--alpha 1E-300" "names the input that caused it"
            Expect.isFalse (err.Contains "x: must not be NaN") "no variable the user never gave"
            // alpha whose inverse overflows is rejected up front, naming the option.
            expectUsage [ "spectral"; "--d"; "6"; "--k"; "2"; "--alpha"; "1e-320"; "--sigma2"; "1" ] "--alpha"
            let code2, _, err2 = fa [ "law"; "--weights"; "1e300"; "--cdf"; "1" ]
            Expect.equal code2 1 err2
            Expect.stringContains err2 "the variance is infinite" "law: overflowing variance")

        testCase "factor --beta-star 1e160,1 and 1e150,1: typed errors in seconds (formerly a hang and an IndexOutOfRangeException)" (fun () ->
            let timer = Stopwatch.StartNew()
            for beta, quantity in [ "1e160,1", "a weight of ||L(Z)||^2 is infinite"; "1e150,1", "the variance of E_alpha is infinite" ] do
                let code, out, err = fa [ "factor"; "--d"; "8"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1"; "--alpha"; "1"; "--beta-star"; beta ]
                Expect.equal code 1 err
                Expect.equal out "" "no partial output"
                Expect.stringContains err quantity beta
                Expect.isFalse (err.Contains "Exception") "typed message"
            // A large but representable beta*: the law is computed at unit scale and scaled back (weights ~ 1e100).
            let code, out, err = fa [ "factor"; "--d"; "8"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1"; "--alpha"; "1"; "--beta-star"; "1e50,1"; "--json" ]
            Expect.equal code 0 err
            let w = (JsonDocument.Parse out).RootElement.GetProperty("weights").EnumerateArray() |> Seq.map (fun e -> e.GetDouble()) |> Array.ofSeq
            let _, out1, _ = fa [ "factor"; "--d"; "8"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1e-100"; "--alpha"; "1"; "--beta-star"; "1,1e-50"; "--json" ]
            let w1 = (JsonDocument.Parse out1).RootElement.GetProperty("weights").EnumerateArray() |> Seq.map (fun e -> e.GetDouble()) |> Array.ofSeq
            Array.iter2 (fun a b -> Expect.isLessThan (abs (a / 1e100 - b) / b) 1e-12 "weights scale by c^2") w w1
            Expect.isLessThan timer.Elapsed.TotalSeconds 60.0 "no hang")

        testCase "sizes that cannot fit are rejected before allocating, naming the option" (fun () ->
            let sim = [ "--alpha"; "1"; "--out"; tempDir "big"; "--quiet"; "--no-plots" ]
            expectUsage ([ "simulate"; "toy"; "--n-grid"; "10"; "--reps"; "2147483647" ] @ sim) "--reps"
            expectUsage ([ "simulate"; "toy"; "--n-grid"; "2147483647"; "--reps"; "2" ] @ sim) "--n-grid"
            expectUsage ([ "simulate"; "toy"; "--n-grid"; "10"; "--reps"; "2"; "--threads"; "0" ] @ sim) "--threads"
            expectUsage [ "spectral"; "--d"; "100000"; "--k"; "2"; "--alpha"; "1"; "--sigma2"; "1" ] "--d"
            expectUsage [ "factor"; "--d"; "100000"; "--k"; "2"; "--seed"; "1"; "--sigma-nu2"; "1"; "--alpha"; "1" ] "--d"
            expectUsage [ "gmm"; "--components"; "100000"; "--d"; "100000" ] "--components"
            expectUsage [ "gmm"; "--samples"; "2147483647" ] "--samples"
            expectUsage [ "gmm"; "--d"; "2147483647" ] "--d")
    ]
