// Data files for `fa predict` (docs/predict.md): a factor model x = A h + mu, y = beta^T h + nu with d = 8
// features and k = 2 factors, written as CSV (unlabelled, 4000 rows) and Parquet (labelled, 400 rows)
// into a fresh temporary directory (nothing is written into the repository). Then the same prediction
// from F# with a small bootstrap.
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then: dotnet fsi examples/predict-data.fsx [DIR]
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/MathNet.Numerics.dll"

open System
open System.IO
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction

let dir =
    match fsi.CommandLineArgs |> Array.tail with
    | [| d |] -> d
    | _ -> Path.Combine(Path.GetTempPath(), sprintf "fa-predict-example-%d" Environment.ProcessId)
Directory.CreateDirectory dir |> ignore

// The generating model (unknown to the user; the prediction sees only the files).
let cfg = { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 3.0; -2.0 |]; SigmaNu2 = 0.25 }
let data = FactorValidation.simulate cfg 4000 400 (Random 2026)
let unlabelled = Path.Combine(dir, "unlabelled.csv")
let labelled = Path.Combine(dir, "labelled.parquet")
DataFile.writeCsv unlabelled data.Unlabelled
DataFile.writeParquet 128 labelled (DataFile.labelledTable data)
printfn "wrote %s and %s" unlabelled labelled

// The same prediction from F# (a small bootstrap to keep the example fast).
let p = RiskPrediction.factorFromFiles 2 { RiskPrediction.defaults with Bootstrap = 20; Seed = 1UL } unlabelled labelled
printfn "E||L(Z)||^2 = %.4g (se %.2g), alpha0 = %.4g [%.4g, %.4g], m0 = %.0f at n = %d"
    p.PretrainMean.Estimate p.PretrainMean.StdErr p.Alpha0.Estimate p.Alpha0.Lower p.Alpha0.Upper p.UnlabelledToPayOff.Estimate p.N
printfn "true E||L(Z)||^2 = %.4g" (Array.sum (Factor.closedWeights cfg))
if fsi.CommandLineArgs.Length = 1 then Directory.Delete(dir, true)
