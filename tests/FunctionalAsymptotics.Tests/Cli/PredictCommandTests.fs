/// `fa predict`: JSON fields, the table, the --out files, exit codes on bad input.
module FunctionalAsymptotics.Tests.Cli.PredictCommandTests

open System
open System.IO
open System.Text.Json
open Expecto
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction
open FunctionalAsymptotics.Cli

let private fa (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    code, out.ToString(), err.ToString()

/// Writes the two data sets to `dir`: the unlabelled rows to `unlabelled` and the labelled ones (with `y`) to
/// `labelled`, each as CSV or Parquet by its extension.
let private write (dir: string) (data: PredictionData) (unlabelled: string) (labelled: string) =
    let save (name: string) (t: DataTable) =
        let path = Path.Combine(dir, name)
        if name.EndsWith ".csv" then DataFile.writeCsv path t else DataFile.writeParquet 64 path t
        path
    save unlabelled data.Unlabelled, save labelled (DataFile.labelledTable data)

/// An unlabelled CSV and a labelled Parquet file from the factor model (d = 4, k = 1).
let private files (dir: string) =
    write dir (FactorValidation.simulate { Loadings = Factor.drawLoadings 1 4 1; Beta = [| 2.0 |]; SigmaNu2 = 0.5 } 400 100 (Random 3)) "u.csv" "l.parquet"

/// An unlabelled Parquet and a labelled CSV file from the Gaussian mixture (K = 2, d = 3).
let private mixtureFiles (dir: string) =
    write dir (MixtureValidation.simulate { K = 2; D = 3; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 1000 } 800 200 (Random 4)) "gu.parquet" "gl.csv"
/// Runs `args` (a `--json` prediction): exit 0, the documented fields, `model` and the sizes `(n, m)`, a
/// positive standard error of `pretrainMean`, the same JSON on a second run; returns the root element.
let private documentedJson (args: string list) (model: string) (sizes: int * int) =
    let code, out, err = fa args
    Expect.equal code 0 err
    let root = JsonDocument.Parse(out).RootElement
    for name in [ "model"; "n"; "m"; "dEff"; "dBase"; "sigma2"; "pretrainMean"; "alpha0"; "weights"; "riskCurve"; "predictive" ] do
        Expect.isTrue (fst (root.TryGetProperty name)) name
    let pr = root.GetProperty "predictive"
    let q name = pr.GetProperty(name: string).GetDouble()
    Expect.isTrue (q "q05" < q "q50" && q "q50" < q "q95") "predictive quantiles ordered"
    Expect.equal (pr.GetProperty("draws").GetInt32()) PredictiveLaw.DefaultDraws "draws"
    for c in root.GetProperty("riskCurve").EnumerateArray() do
        for name in [ "alpha"; "mean"; "q05"; "q95"; "lawMean"; "lawQ05"; "lawQ95"; "meanCi" ] do Expect.isTrue (fst (c.TryGetProperty name)) name
    Expect.equal (root.GetProperty("model").GetString()) model "model"
    Expect.equal (root.GetProperty("n").GetInt32(), root.GetProperty("m").GetInt32()) sizes "sizes default to the rows"
    Expect.isGreaterThan (root.GetProperty("pretrainMean").GetProperty("stdErr").GetDouble()) 0.0 "stdErr"
    let _, again, _ = fa args
    Expect.equal again out "reproducible"
    root

let tests =
    testList "Cli.predict" [
        testCase "gmm: JSON with the documented fields, d_eff = K^2; reproducible" (fun () ->
            let dir, cleanup = FunctionalAsymptotics.Tests.Prediction.DataFileTests.tempDir ()
            use _ = cleanup
            let u, l = mixtureFiles dir
            let root = documentedJson [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--components"; "2"; "--bootstrap"; "6"; "--seed"; "2"; "--json" ] "gmm" (200, 800)
            Expect.equal (root.GetProperty("dEff").GetInt32(), root.GetProperty("dBase").GetInt32()) (4, 8) "d_eff = K^2, d_base of the population")
        testCase "gmm: --components required and >= 2, --k refused (and --components for factor); exit 2 with one line" (fun () ->
            let dir, cleanup = FunctionalAsymptotics.Tests.Prediction.DataFileTests.tempDir ()
            use _ = cleanup
            let u, l = mixtureFiles dir
            for args in [ [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l ]
                          [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--components"; "1" ]
                          [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--k"; "2" ]
                          [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; l; "--components"; "2" ]
                          [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--K"; "2" ]
                          [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--components"; "5" ] ] do
                let code, _, err = fa args
                Expect.equal code 2 (sprintf "%A: %s" args err)
                Expect.equal (err.Trim().Split('\n').Length) 1 (sprintf "one line: %s" err)
            let _, _, err = fa [ "predict"; "gmm"; "--unlabelled"; u; "--labelled"; l; "--components"; "5" ]
            Expect.stringStarts err "fa: --components: needs K - 1 <= d = 3" "names the option")
        testCase "JSON has the documented fields; the same seed gives the same JSON" (fun () ->
            let dir, cleanup = FunctionalAsymptotics.Tests.Prediction.DataFileTests.tempDir ()
            use _ = cleanup
            let u, l = files dir
            let root = documentedJson [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; l; "--k"; "1"; "--bootstrap"; "10"; "--seed"; "3"; "--json" ] "factor" (100, 400)
            Expect.equal (root.GetProperty("dEff").GetInt32(), root.GetProperty("dBase").GetInt32()) (1, 4) "dims"
            let pm = root.GetProperty "pretrainMean"
            let ci = pm.GetProperty "ci"
            Expect.isTrue (ci.[0].GetDouble() <= pm.GetProperty("estimate").GetDouble() && pm.GetProperty("estimate").GetDouble() <= ci.[1].GetDouble()) "estimate inside its interval"
            Expect.equal (root.GetProperty("weights").GetArrayLength()) 3 "d - k weights"
            let c0 = root.GetProperty("riskCurve").[0]
            for name in [ "alpha"; "mean"; "q05"; "q95" ] do Expect.isTrue (fst (c0.TryGetProperty name)) name)
        testCase "--n and --m set alpha; the table and --out files are written" (fun () ->
            let dir, cleanup = FunctionalAsymptotics.Tests.Prediction.DataFileTests.tempDir ()
            use _ = cleanup
            let u, l = files dir
            let outDir = Path.Combine(dir, "out")
            let code, out, err = fa [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; l; "--n"; "50"; "--m"; "1000"; "--bootstrap"; "4"; "--out"; outDir ]
            Expect.equal code 0 err
            Expect.stringContains out "alpha0" "table"
            Expect.stringContains out "n = 50, m = 1000 (alpha = 20" "sizes"
            Expect.isTrue (File.Exists(Path.Combine(outDir, "predict.png"))) "png"
            Expect.stringContains (File.ReadAllText(Path.Combine(outDir, "predict.md"))) "| E\\|\\|L(Z)\\|\\|^2 |" "markdown")
        testCase "bad input exits 2 with one line on stderr" (fun () ->
            let dir, cleanup = FunctionalAsymptotics.Tests.Prediction.DataFileTests.tempDir ()
            use _ = cleanup
            let u, l = files dir
            let bad = Path.Combine(dir, "bad.csv")
            File.WriteAllLines(bad, [ "x1,x2,x3,x4"; "1,2,3,x"; "1,2,3,4"; "1,2,3,4"; "1,2,3,4" ])
            for args in [ [ "predict"; "gmmx"; "--unlabelled"; u; "--labelled"; l ]
                          [ "predict"; "factor"; "--unlabelled"; bad; "--labelled"; l ]
                          [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; Path.Combine(dir, "none.csv") ]
                          [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; l; "--bootstrap"; "1" ]
                          [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; l; "--k"; "4" ]
                          [ "predict"; "factor"; "--unlabelled"; u; "--labelled"; u ]
                          [ "predict"; "factor"; "--labelled"; l ] ] do
                let code, _, err = fa args
                Expect.equal code 2 (sprintf "%A: %s" args err)
                Expect.equal (err.Trim().Split('\n').Length) 1 (sprintf "one line: %s" err))
    ]
