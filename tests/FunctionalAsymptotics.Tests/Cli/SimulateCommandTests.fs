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
        test "records without a manifest are refused with their directory named and left untouched, with or without --resume" {
            let dir = tempDir "orphan"
            let code, _, err = capture Simulate.runWith (Array.append common [| "--out"; dir |])
            Expect.equal code 0 (sprintf "first run (stderr %s)" err)
            let records = Path.Combine(dir, "replicates.jsonl")
            // Someone else's records: same file name, another seed.
            let foreign = tempDir "foreign"
            let code, _, _ = capture Simulate.runWith (Array.append (Array.map (fun a -> if a = "42" then "43" else a) common) [| "--out"; foreign |])
            Expect.equal code 0 "foreign run"
            File.Delete(Path.Combine(foreign, "manifest.json"))
            let before = File.ReadAllBytes(Path.Combine(foreign, "replicates.jsonl"))
            for extra in [ [||]; [| "--resume" |] ] do
                let code, _, err = capture Simulate.runWith (Array.concat [ common; [| "--out"; foreign |]; extra ])
                Expect.equal code 2 (sprintf "refused %A" extra)
                Expect.stringContains err foreign "names the directory"
                Expect.stringContains err "no manifest.json" "says what is there"
                Expect.equal (err.TrimEnd().Split('\n').Length) 1 "one line"
                Expect.equal (File.ReadAllBytes(Path.Combine(foreign, "replicates.jsonl"))) before "untouched"
            Expect.isTrue (File.Exists records) "the first run's records are there"
        }
        test "fa merge and --resume refuse a record with one changed digit, naming file and line" {
            let shardDirs =
                [ for i in 1 .. 2 ->
                    let d = tempDir (sprintf "digit%d" i)
                    let c, _, e = capture Simulate.runWith (Array.append common [| "--out"; d; "--shard"; sprintf "%d/2" i |])
                    Expect.equal c 0 (sprintf "shard (stderr %s)" e)
                    d ]
            let path = Path.Combine(shardDirs.[1], "replicates.jsonl")
            let lines = File.ReadAllLines path
            let at = lines.[1].IndexOf(",\"total\":") + 9
            lines.[1] <- lines.[1].Substring(0, at) + (if lines.[1].[at] = '1' then "2" else "1") + lines.[1].Substring(at + 1)
            File.WriteAllText(path, String.Join("\n", lines) + "\n")
            let code, out, err = capture Merge.runWith (Array.append (Array.ofList shardDirs) [| "--out"; tempDir "digit-merged"; "--json"; "--no-plots" |])
            Expect.equal code 2 (sprintf "merge refused (stderr %s)" err)
            Expect.equal out "" "no summary"
            Expect.stringContains err (sprintf "%s: line 2: checksum mismatch" path) "names file and line"
            let code, _, err = capture Simulate.runWith (Array.append common [| "--out"; shardDirs.[1]; "--shard"; "2/2"; "--resume" |])
            Expect.equal code 2 "resume refused"
            Expect.stringContains err "line 2" "names the line"
        }
    ]
