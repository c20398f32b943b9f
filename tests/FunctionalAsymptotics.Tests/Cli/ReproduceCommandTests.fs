/// `fa reproduce` with the tiny `smoke` profile: the report and its figures are written, with the
/// expected sections and table rows, and a rerun resumes the simulations instead of recomputing them.
module FunctionalAsymptotics.Tests.Cli.ReproduceCommandTests

open System
open System.IO
open Expecto
open FunctionalAsymptotics.Cli

let private fa (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    code, out.ToString(), err.ToString()

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
    ]
