/// `fa spectral` and `fa factor`: the JSON object, the routes, the table note, and exit code 2 on bad input.
module FunctionalAsymptotics.Tests.Cli.ModelCommandTests

open System
open System.IO
open System.Text.Json
open Expecto
open FunctionalAsymptotics.Cli.Commands

let runCommand (run: TextWriter -> TextWriter -> string[] -> int) (argv: string) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = run out err (argv.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    code, out.ToString(), err.ToString()

let weights (doc: JsonDocument) = doc.RootElement.GetProperty("weights").EnumerateArray() |> Seq.map (fun e -> e.GetDouble()) |> Array.ofSeq

let tests =
    testList "Cli.ModelCommands" [
        testCase "fa spectral --json: one object with every field; routes horizontal, descriptor, closed agree; paper differs" (fun () ->
            let get route =
                let code, out, _ = runCommand Spectral.run (sprintf "--d 6 --k 2 --alpha 2 --sigma2 1.5 --route %s --json" route)
                Expect.equal code 0 "exit 0"
                JsonDocument.Parse out
            let h = get "horizontal"
            let root = h.RootElement
            for key in [ "model"; "route"; "dEff"; "dBase"; "sigma2"; "alpha"; "weights"; "pretrainMean"; "mean"; "variance"; "quantiles"; "alpha0"; "priorArt" ] do
                Expect.isTrue (fst (root.TryGetProperty key)) (sprintf "has %s" key)
            Expect.equal (root.GetProperty("dEff").GetInt32()) 2 "dEff"
            Expect.equal (root.GetProperty("dBase").GetInt32()) 6 "dBase"
            let pm = root.GetProperty("pretrainMean").GetDouble()
            Expect.isLessThan (abs (pm - 56.49364583333)) 1e-9 "pretrainMean"
            Expect.isLessThan (abs (root.GetProperty("mean").GetDouble() - (1.5 * 2.0 + pm / 2.0))) 1e-9 "mean = sigma2 dEff + pretrainMean / alpha"
            let q = root.GetProperty("quantiles")
            let qs = [ "0.05"; "0.25"; "0.5"; "0.75"; "0.95"; "0.99" ] |> List.map (fun p -> q.GetProperty(p).GetDouble())
            Expect.isTrue (qs |> List.pairwise |> List.forall (fun (a, b) -> a < b)) "quantiles increase"
            Expect.isGreaterThan qs.Head 3.0 "quantiles exceed sigma^2 d_eff"
            for r in [ "descriptor"; "closed" ] do
                Array.iter2 (fun a b -> Expect.isLessThan (abs (a - b)) (1e-8 * b) r) (weights (get r)) (weights h)
            Expect.isGreaterThan (abs ((weights (get "paper")).[0] - (weights h).[0])) 1.0 "paper differs")
        testCase "fa spectral --compare (table) notes the disagreeing paper route; without --compare no other route runs" (fun () ->
            let code, out, _ = runCommand Spectral.run "--d 5 --k 2 --alpha 1 --sigma2 1 --compare"
            Expect.equal code 0 "exit 0"
            Expect.stringContains out "Note: route 'paper' disagrees" "note"
            Expect.isFalse (out.Contains "route 'descriptor' disagrees") "descriptor agrees"
            let code2, out2, _ = runCommand Spectral.run "--d 5 --k 2 --alpha 1 --sigma2 1"
            Expect.equal code2 0 "exit 0"
            Expect.isFalse (out2.Contains "Routes (") "no comparison table without --compare")
        testCase "fa spectral --compare names the routes too slow at the size instead of running them" (fun () ->
            let code, out, _ = runCommand Spectral.run "--d 60 --k 4 --alpha 1 --sigma2 1 --route closed --compare"
            Expect.equal code 0 "exit 0"
            Expect.stringContains out "not run: the descriptor route is offered up to manifold dimension" "descriptor named, not run"
            Expect.isFalse (out.Contains "route 'horizontal' disagrees") "horizontal ran and agrees"
            let code2, _, err2 = runCommand Spectral.run "--d 60 --k 4 --alpha 1 --sigma2 1 --route descriptor"
            Expect.equal code2 2 "the descriptor route alone: a typed error, exit 2"
            Expect.stringContains err2 "manifold dimension" "says why")
        testCase "fa spectral --route monte-carlo: estimate, standard error and samples; within 4 standard errors of the closed form" (fun () ->
            let succeeds (argv: string) =
                let code, out, _ = runCommand Spectral.run ("--d 8 --k 2 --alpha 1 --sigma2 1 " + argv)
                Expect.equal code 0 ("exit 0: " + argv)
                out
            let root = (JsonDocument.Parse(succeeds "--route monte-carlo --samples 20000 --mc-seed 2 --json")).RootElement
            Expect.equal (root.GetProperty("route").GetString()) "monte-carlo" "route"
            Expect.equal (root.GetProperty("samples").GetInt32()) 20000 "samples"
            Expect.equal (root.GetProperty("batches").GetInt32()) 20 "batches"
            let est, se = root.GetProperty("pretrainMean").GetDouble(), root.GetProperty("pretrainMeanStdErr").GetDouble()
            let exact = FunctionalAsymptotics.Models.Spectral.closedWeights (FunctionalAsymptotics.Models.Spectral.defaultConfig 8 2 1.0) |> Array.sum
            Expect.isLessThan (abs (est - exact)) (4.0 * se) (sprintf "%g +- %g vs %g" est se exact)
            let table = succeeds "--route monte-carlo --samples 20000 --mc-seed 2 --compare"
            for text in [ "standard error of E||L(Z)||^2"; "Routes (E||L(Z)||^2 compared with the Monte Carlo estimate)"; "Note: route 'paper' is" ] do
                Expect.stringContains table text "the standard error, the comparison in standard errors, the printed corollary far off"
            Expect.isFalse (table.Contains "Note: route 'closed'") "the corrected closed form is within 3 standard errors"
            Expect.stringContains (succeeds "--compare") "not run: a Monte Carlo estimate" "an exact report names the Monte Carlo route, not run")
        testCase "fa factor --route monte-carlo: within 4 standard errors of the horizontal route (unit scale, scaled back)" (fun () ->
            let get route extra =
                let code, out, _ = runCommand Factor.run (sprintf "--d 8 --k 2 --seed 1 --beta-star 3,-2 --sigma-nu2 1 --alpha 1 --route %s %s --json" route extra)
                Expect.equal code 0 "exit 0"
                (JsonDocument.Parse out).RootElement
            let mc = get "monte-carlo" "--samples 20000"
            let exact = (get "horizontal" "").GetProperty("pretrainMean").GetDouble()
            let est, se = mc.GetProperty("pretrainMean").GetDouble(), mc.GetProperty("pretrainMeanStdErr").GetDouble()
            Expect.isLessThan (abs (est - exact)) (4.0 * se) (sprintf "%g +- %g vs %g" est se exact))
        testCase "fa factor: a loadings CSV and the seeded generator" (fun () ->
            let path = Path.Combine(Path.GetTempPath(), sprintf "fa-loadings-%d.csv" Environment.ProcessId)
            File.WriteAllLines(path, [| "2,0"; "0,1"; "0,0"; "0,0"; "0,0"; "0,0" |])
            try
                let code, out, _ = runCommand Factor.run (sprintf "--loadings %s --beta-star 1,1 --sigma-nu2 0.5 --alpha 1 --json" path)
                Expect.equal code 0 "exit 0"
                let doc = JsonDocument.Parse out
                Array.iter (fun w -> Expect.floatClose Accuracy.high w 0.55 "weight 1/20 + 1/2") (weights doc)
                Expect.equal (weights doc).Length 4 "d - k weights"
                // sigma^2 = 0.5 + 1/5 + 1/2
                Expect.floatClose Accuracy.high (doc.RootElement.GetProperty("sigma2").GetDouble()) 1.2 "sigma2 derived"
                let code2, out2, _ = runCommand Factor.run (sprintf "--loadings %s --beta-star 1,1 --sigma-nu2 0.5 --alpha 1 --route paper --json" path)
                Expect.equal code2 0 "exit 0"
                Expect.floatClose Accuracy.high (weights (JsonDocument.Parse out2)).[0] 1.3 "printed weight"
            finally File.Delete path
            let code3, out3, _ = runCommand Factor.run "--d 8 --k 2 --seed 1 --beta-star 1,1 --sigma-nu2 1 --alpha 1 --json"
            Expect.equal code3 0 "exit 0"
            Expect.isLessThan (abs ((weights (JsonDocument.Parse out3)).[0] - 0.1243304227)) 1e-9 "seeded loadings")
        testCase "bad input: exit code 2 and one line on stderr" (fun () ->
            for run, argv in
                [ Spectral.run, "--d 3 --k 3 --alpha 1 --sigma2 1"
                  Spectral.run, "--d 6 --k 2 --alpha 0 --sigma2 1"
                  Spectral.run, "--d 6 --k 2 --alpha 1 --sigma2 1 --route nope"
                  Spectral.run, "--d 6 --alpha 1 --sigma2 1"
                  Spectral.run, "--d 6 --k 2 --alpha 1 --sigma2 1 --samples 5000"
                  Spectral.run, "--d 6 --k 2 --alpha 1 --sigma2 1 --route monte-carlo --rel-error 0"
                  Spectral.run, "--d 6 --k 2 --alpha 1 --sigma2 1 --route monte-carlo --samples 5"
                  Factor.run, "--loadings /no/such/file.csv --sigma-nu2 1 --alpha 1"
                  Factor.run, "--d 8 --k 2 --seed 1 --beta-star 1,2,3 --sigma-nu2 1 --alpha 1"
                  Factor.run, "--d 8 --k 2 --sigma-nu2 1 --alpha 1" ] do
                let code, _, err = runCommand run argv
                Expect.equal code 2 (sprintf "exit 2 for '%s'" argv)
                Expect.equal (err.Trim().Split('\n').Length) 1 (sprintf "one line for '%s': %s" argv err))
    ]
