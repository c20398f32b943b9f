/// `fa reproduce` with the tiny `smoke` profile: the report and its figures are written, with the
/// expected sections and table rows, and a rerun resumes the simulations instead of recomputing them.
module FunctionalAsymptotics.Tests.Cli.ReproduceCommandTests

open System
open System.IO
open System.Threading
open Expecto
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Cli
open FunctionalAsymptotics.Cli.Commands

let private fa (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    code, out.ToString(), err.ToString()

let private tempDir () = Path.Combine(Path.GetTempPath(), sprintf "fa-reproduce-%s" (Guid.NewGuid().ToString("N")))

/// Every file under `dir` with its bytes and time of last write.
let private snapshot (dir: string) =
    Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
    |> Array.sort
    |> Array.map (fun f -> f, File.ReadAllBytes f, File.GetLastWriteTimeUtc f)

let tests =
    testList "Cli.Reproduce" [
        testCase "the smoke profile writes index.md with every section, its figures, and resumes" <| fun () ->
            let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-reproduce-%s" (Guid.NewGuid().ToString("N")))
            let code, out, err = fa [ "reproduce"; "--profile"; "smoke"; "--out"; dir; "--quiet" ]
            Expect.equal code 0 (sprintf "exit code (stderr: %s)" err)
            Expect.stringContains out "index.md" "says where the report is"
            let index = File.ReadAllText(Path.Combine(dir, "index.md"))
            for heading in [ "## 1. Corollaries 6.3 and 6.4"; "## 2. Figure 1"; "## 3. Figure 2"; "## 4. Figures 3-4" ] do
                Expect.stringContains index heading "section present"
            for png in [ "figure1-spectral.png"; "figure1-factor.png"; "figure1-gmm.png"; "figure2-K.png"; "figure2-d.png"; "figure2-beta.png"
                         "sim-spectral/figure3.png"; "sim-spectral/figure4.png"; "sim-factor/figure3.png"; "sim-factor/figure4.png" ] do
                Expect.isTrue (File.Exists(Path.Combine(dir, png))) (sprintf "%s written" png)
                Expect.stringContains index png (sprintf "%s linked" png)
            // Section 1: three routes for each of the two spectral and two factor configurations.
            let rows = index.Split('\n') |> Array.filter (fun l -> l.StartsWith "| spectral" || l.StartsWith "| factor d=")
            Expect.equal (rows |> Array.filter (fun l -> l.Contains "| paper |") |> Array.length) 4 "a printed-corollary row per configuration"
            Expect.equal (rows |> Array.filter (fun l -> l.Contains "| horizontal |") |> Array.length) 4 "a corrected row per configuration"
            let records = File.ReadAllText(Path.Combine(dir, "sim-spectral", "replicates.jsonl"))
            let code2, _, err2 = fa [ "reproduce"; "--profile"; "smoke"; "--out"; dir; "--quiet" ]
            Expect.equal code2 0 (sprintf "rerun exit code (stderr: %s)" err2)
            Expect.equal (File.ReadAllText(Path.Combine(dir, "sim-spectral", "replicates.jsonl"))) records "the rerun resumed: no replicate recomputed or duplicated"
        testCase "an unknown profile is a usage error" <| fun () ->
            let code, _, err = fa [ "reproduce"; "--profile"; "huge"; "--out"; Path.GetTempPath() ]
            Expect.equal code 2 "exit code 2"
            Expect.stringContains err "--profile" "names the option"
        testCase "a directory of another profile, another run or other files is refused before anything is written" <| fun () ->
            let smoke = Reproduce.profileOf "smoke"
            // Another profile's report.
            let other = tempDir ()
            Directory.CreateDirectory other |> ignore
            File.WriteAllText(Path.Combine(other, Reproduce.MarkerFile), "{\"profile\":\"quick\"}\n")
            File.WriteAllText(Path.Combine(other, "figure1-spectral.png"), "a figure of the quick profile")
            // This profile's marker, but its spectral simulation directory holds another run.
            let mixed = tempDir ()
            Directory.CreateDirectory mixed |> ignore
            File.WriteAllText(Path.Combine(mixed, Reproduce.MarkerFile), "{\"profile\":\"smoke\"}\n")
            let code, _, err = fa [ "simulate"; "spectral"; "--n-grid"; "20"; "--alpha"; "1"; "--reps"; "2"; "--out"; Path.Combine(mixed, "sim-spectral"); "--quiet"; "--no-plots" ]
            Expect.equal code 0 (sprintf "a foreign run (stderr %s)" err)
            // Files that are not a report at all.
            let unrelated = tempDir ()
            Directory.CreateDirectory unrelated |> ignore
            File.WriteAllText(Path.Combine(unrelated, "notes.txt"), "mine")
            for dir, says in [ other, "profile 'quick'"; mixed, "sim-spectral"; unrelated, "not empty" ] do
                let before = snapshot dir
                let clock = Diagnostics.Stopwatch.StartNew()
                let code, out, err = fa [ "reproduce"; "--profile"; "smoke"; "--out"; dir; "--quiet" ]
                Expect.equal code 2 (sprintf "refused (stderr %s)" err)
                Expect.stringContains err says "says what is there"
                Expect.equal (err.TrimEnd().Split('\n').Length) 1 "one line"
                Expect.equal out "" "no report"
                Expect.isLessThan clock.Elapsed.TotalSeconds 5.0 "before any computation"
                Expect.equal (snapshot dir) before "nothing written or touched"
        testCase "what an interrupted run of the same profile leaves (marker, partial simulation, lock file) does not block a retry" <| fun () ->
            let smoke = Reproduce.profileOf "smoke"
            let factory = Simulate.findModel "spectral"
            let seed = 20260601UL
            let dir = tempDir ()
            Directory.CreateDirectory dir |> ignore
            File.WriteAllText(Path.Combine(dir, Reproduce.MarkerFile), "{\"profile\":\"smoke\"}\n")
            let spec = Reproduce.simulationSpec smoke factory seed
            let model = factory.Create spec.Alpha spec.Parameters
            use cts = new CancellationTokenSource()
            let calls = ref 0
            let stopping = { model with Replicate = fun ctx -> (if Interlocked.Increment(&calls.contents) = 5 then cts.Cancel()); model.Replicate ctx }
            let simDir = Path.Combine(dir, "sim-spectral")
            Expect.equal (Engine.run stopping spec simDir { RunOptions.defaults with BatchSize = 2; Threads = 1 } cts.Token) Cancelled "interrupted"
            Expect.isTrue (File.Exists(Path.Combine(simDir, Store.LockFile))) "the lock file stays behind"
            Reproduce.checkOut smoke Simulate.registry seed dir
            Expect.throwsT<RunStoreException> (fun () -> Reproduce.checkOut (Reproduce.profileOf "quick") Simulate.registry seed dir) "another profile is refused"
    ]
