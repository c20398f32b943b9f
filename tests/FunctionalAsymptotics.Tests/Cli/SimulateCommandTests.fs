module FunctionalAsymptotics.Tests.Cli.SimulateCommandTests

open System
open System.IO
open Expecto
open FunctionalAsymptotics.Cli.Commands

let private tempDir (name: string) =
    Path.Combine(Path.GetTempPath(), sprintf "fa-cli-%s-%s" name (Guid.NewGuid().ToString("N")))

/// Runs a command with captured streams: (exit code, stdout, stderr).
let private capture (run: TextWriter -> TextWriter -> string[] -> int) (argv: string[]) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = run out err argv
    code, out.ToString(), err.ToString()

let private common =
    [| "toy"; "--param"; "d=5,k=1"; "--param"; "s=0.7"; "--n-grid"; "10,100"; "--alpha"; "1.5"; "--reps"; "40"; "--seed"; "42"; "--quiet"; "--no-plots" |]

let tests =
    testList "Cli.Simulate" [
        test "merged shards print exactly the JSON of an unsharded run" {
            let wholeDir = tempDir "whole"
            let code, whole, _ = capture Simulate.runWith (Array.append common [| "--json"; "--out"; wholeDir; "--threads"; "2" |])
            Expect.equal code 0 "whole run"
            Expect.stringStarts whole "{\"model\":\"toy\",\"alpha\":1.5,\"seed\":42,\"grid\":[{\"n\":10,\"m\":15,\"reps\":40," "JSON shape"
            let shardDirs =
                [ for i in 1 .. 2 ->
                    let d = tempDir (sprintf "shard%d" i)
                    let c, o, _ = capture Simulate.runWith (Array.append common [| "--json"; "--out"; d; "--shard"; sprintf "%d/2" i; "--threads"; "1" |])
                    Expect.equal c 0 "shard run"
                    Expect.equal o "" "a shard prints no summary"
                    d ]
            let code, merged, _ = capture Merge.runWith (Array.append (Array.ofList shardDirs) [| "--out"; tempDir "merged"; "--json"; "--no-plots" |])
            Expect.equal code 0 "merge"
            Expect.equal merged whole "identical JSON"
        }
        test "usage errors exit with code 2 and one line on stderr" {
            let bad = [ [| "nosuch"; "--n-grid"; "10"; "--alpha"; "1"; "--reps"; "2"; "--out"; tempDir "x" |]
                        Array.append common [| "--out"; tempDir "y"; "--shard"; "3/2" |]
                        Array.append common [| "--out"; tempDir "z"; "--param"; "q=1" |] ]
            for argv in bad do
                let code, _, err = capture Simulate.runWith argv
                Expect.equal code 2 (sprintf "exit code for %A" argv)
                Expect.stringStarts err "fa: " "message"
            let code, _, _ = capture Merge.runWith [| tempDir "missing"; "--out"; tempDir "m" |]
            Expect.equal code 2 "merge of a non-run directory"
        }
        test "model options as in fa spectral/factor/gmm set the model's parameters; one the model lacks is a usage error" {
            let dir = tempDir "opts"
            let code, out, err = capture Simulate.runWith [| "spectral"; "--d"; "5"; "--k"; "2"; "--sigma2"; "0.5"; "--n-grid"; "20"; "--alpha"; "1"; "--reps"; "3"; "--out"; dir; "--quiet"; "--json"; "--no-plots" |]
            Expect.equal code 0 (sprintf "exit code (stderr %s)" err)
            let manifest = File.ReadAllText(Path.Combine(dir, "manifest.json"))
            Expect.stringContains manifest "\"d\":5" "d from --d"
            Expect.stringContains manifest "\"sigma2\":0.5" "sigma2 from --sigma2"
            Expect.stringContains out "\"model\":\"spectral\"" "JSON printed"
            let code2, _, err2 = capture Simulate.runWith [| "spectral"; "--components"; "3"; "--n-grid"; "20"; "--alpha"; "1"; "--reps"; "3"; "--out"; tempDir "bad"; "--quiet" |]
            Expect.equal code2 2 "exit code 2"
            Expect.stringContains err2 "K" "names the parameter"
        }
    ]
