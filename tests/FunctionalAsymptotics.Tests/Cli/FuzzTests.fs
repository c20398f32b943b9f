/// A fuzz property over the whole command line (Program.run in-process): random argument lists for every
/// command (valid option names with random or malformed values, junk, missing values, duplicates). The
/// contract: exit code 0, 1 or 2; stderr is at most one `fa: ...` line without a stack trace or a .NET
/// type name; with `--json` and exit 0 stdout is one valid JSON document; no NaN with exit code 0.
/// Sizes are capped so that the few valid runs take milliseconds (small d, K, reps and Monte Carlo draws).
module FunctionalAsymptotics.Tests.Cli.FuzzTests

open System
open System.IO
open System.Text.Json
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAsymptotics.Cli

/// The option names of each command (from its help), flags included.
let private options =
    Map [
        "law", [ "--weights"; "-w"; "--dof"; "--noncentrality"; "--offset"; "--scale"; "--cdf"; "--sf"; "--quantile"; "--json" ]
        "spectral", [ "--d"; "--k"; "--alpha"; "--sigma2"; "--route"; "--json" ]
        "factor", [ "--loadings"; "--d"; "--k"; "--seed"; "--beta-star"; "--sigma-nu2"; "--alpha"; "--route"; "--json" ]
        "simulate", [ "--param"; "--d"; "--k"; "--components"; "--sigma2"; "--sigma-nu2"; "--beta"; "--theta-norm"; "--n-grid"; "--alpha"; "--reps"; "--seed"; "--shard"; "--threads"; "--resume"; "--json" ]
        "merge", [ "--quiet"; "--json"; "--no-plots" ]
        "gmm", [ "--components"; "--d"; "--beta"; "--theta-norm"; "--alpha"; "--sigma2"; "--seed"; "--generic"; "--json" ]
        "gmm-sweep", [ "--vary"; "--values"; "--fixed"; "--theta-norm"; "--seed" ]
        "reproduce", [ "--profile"; "--quiet" ] ]

/// Values: small valid numbers and lists, and the malformed ones a hostile user types.
let private values =
    [ "0"; "1"; "2"; "3"; "4"; "-1"; "0.5"; "1e-300"; "1e300"; "1e308"; "1e-320"; "1e400"; "-0"; "2,5"; "1,2"; "1,2,3"; "1,,2"
      "NaN"; "Infinity"; "-Infinity"; "abc"; ""; " "; "1 000"; "2147483647"; "2147483648"; "-2147483648"; "0x10"; "1.5.2"
      "horizontal"; "descriptor"; "closed"; "paper"; "nope"; "toy"; "spectral"; "factor"; "components"; "d"; "beta"; "K"
      "d=3"; "k=1"; "sigma2=0,5"; "x=1"; "components=2"; "beta=1e400"; "1/2"; "2/1"; "3/2"; "0/0"; "10,20"; "--json"; "-" ]

let private junk = [ "--"; "-x"; "--K"; "--Alpha"; "--help-me"; "??"; "--d=3"; "%s"; "{0}"; "\u00e9"; "--weights=1" ]

/// A small valid command line per command (option, value; "" for a flag): the fuzzer mutates it, so that
/// most cases reach the computation with one or two hostile values.
let private validBase =
    Map [
        "law", [ "--weights", "1,0.5"; "--dof", "1,2"; "--cdf", "1"; "--quantile", "0.5" ]
        "spectral", [ "--d", "3"; "--k", "1"; "--alpha", "1"; "--sigma2", "1" ]
        "factor", [ "--d", "5"; "--k", "2"; "--seed", "1"; "--sigma-nu2", "1"; "--alpha", "1"; "--beta-star", "1,2" ]
        "simulate", [ "--n-grid", "40"; "--alpha", "1"; "--reps", "2"; "--threads", "1" ]
        "merge", [ "--quiet", "" ]
        "gmm", [ "--components", "2"; "--d", "2"; "--alpha", "1" ]
        "gmm-sweep", [ "--vary", "d"; "--values", "2"; "--fixed", "components=2" ]
        "reproduce", [ "--quiet", "" ] ]

/// One random argument list for `command`: its valid base with values replaced by hostile ones, values or
/// options dropped, options duplicated and junk added. Expensive defaults are capped by appended options
/// (Monte Carlo draws of the mixture, its population draws in simulations, output directories), and
/// `reproduce` always gets a malformed profile so that the real reproduction (minutes) never starts.
let private argsFor (command: string) (dir: string) : Gen<string list> =
    gen {
        let names = options.[command]
        let mutate (option: string, value: string) =
            Gen.frequency [
                40, Gen.constant (if value = "" then [ option ] else [ option; value ])
                4, gen { let! v = Gen.elements values in return [ option; v ] }
                1, Gen.constant [ option ]
                1, Gen.constant [ option; value; option; value ]
                1, Gen.constant [] ]
        let! kept = validBase.[command] |> List.map mutate |> Gen.sequenceToList
        let extra =
            Gen.frequency [
                3, gen { let! o = Gen.elements names
                         let! v = Gen.elements values
                         return [ o; v ] }
                1, gen { let! o = Gen.elements names in return [ o ] }
                1, gen { let! j = Gen.elements junk in return [ j ] } ]
        let! n = Gen.frequency [ 3, Gen.constant 0; 2, Gen.constant 1; 1, Gen.constant 2 ]
        let! extras = Gen.listOfLength n extra
        let! json = Gen.elements [ List.contains "--json" names; false ]
        let body = List.concat kept @ List.concat extras @ (if json then [ "--json" ] else [])
        let! model = Gen.frequency [ 4, Gen.constant "toy"; 3, Gen.constant "spectral"; 3, Gen.constant "factor"; 1, Gen.constant "gmm"; 1, Gen.constant "nope" ]
        let capped =
            match command with
            | "gmm" -> body @ [ "--samples"; "1000"; "--fisher-samples"; "1000" ]
            | "gmm-sweep" -> body @ [ "--samples"; "1000"; "--fisher-samples"; "1000"; "--out"; dir ]
            | "simulate" -> (model :: body) @ [ "--out"; Path.Combine(dir, Guid.NewGuid().ToString("N")); "--quiet"; "--no-plots" ] @ (if model = "gmm" then [ "--population-draws"; "100"; "--d"; "2" ] else [])
            | "merge" -> (Path.Combine(dir, "no-such-shard") :: body) @ [ "--out"; Path.Combine(dir, "merged") ]
            | "reproduce" -> body @ [ "--profile"; "not-a-profile"; "--out"; dir ]
            | _ -> body
        return command :: capped
    }

/// A random command line: one of the commands with random arguments, or junk in the command's place.
let private commandLine (dir: string) : Gen<string list> =
    Gen.frequency [
        9, gen { let! c = Gen.frequency [ for c in options.Keys -> (match c with "merge" | "reproduce" -> 1 | "gmm" | "gmm-sweep" -> 2 | _ -> 4), Gen.constant c ]
                 return! argsFor c dir }
        1, gen { let! n = Gen.choose (0, 3)
                 return! Gen.listOfLength n (Gen.elements (junk @ values)) } ]

/// Checks the contract on one run; returns a description of the violation, or None.
let private violation (args: string list) : string option =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    let stdout, stderr = out.ToString(), err.ToString()
    let errLines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
    let jsonOk () =
        try
            use _ = JsonDocument.Parse(stdout)
            true
        with _ -> false
    if code <> 0 && code <> 1 && code <> 2 then Some(sprintf "exit code %d" code)
    elif stderr.Contains "   at " || stderr.Contains "System." || stderr.Contains "Exception" then Some(sprintf "stack trace or .NET type in stderr: %s" stderr)
    elif code <> 0 && (errLines.Length <> 1 || not (errLines.[0].StartsWith "fa: ")) then Some(sprintf "expected one 'fa: ' line on stderr, got %A" errLines)
    elif code = 0 && List.contains "--json" args && not (List.contains "--help" args) && stdout <> "" && not (jsonOk ()) then Some(sprintf "invalid JSON on stdout: %s" stdout)
    elif code = 0 && stdout.Contains "NaN" then Some(sprintf "NaN with exit code 0: %s" stdout)
    else None

let tests =
    testList "Cli.Fuzz" [
        testCase "random argument lists for every command: exit 0/1/2, one clean stderr line, valid JSON, no NaN with exit 0" (fun () ->
            let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-fuzz-%d-%s" Environment.ProcessId (Guid.NewGuid().ToString("N").Substring(0, 8)))
            try
                let property =
                    Prop.forAll (Arb.fromGen (commandLine dir)) (fun args ->
                        match violation args with
                        | None -> true
                        | Some v -> failwithf "fa %s: %s" (String.Join(" ", args |> List.map (sprintf "'%s'"))) v)
                Check.One(Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true), property)
            finally
                if Directory.Exists dir then Directory.Delete(dir, true))
    ]
