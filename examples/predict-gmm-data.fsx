// Data files for `fa predict gmm` (docs/predict.md): a Gaussian mixture with K = 3 unit-covariance components
// in d = 5 dimensions (centres U* = 2 I_{3,5}, paper Section 6.3) and labels y = theta*^T psi_{U*}(x) + nu
// (subspace-gated features (6.4), |theta*| = 10, Var nu = 1), written as CSV (unlabelled, 4000 rows) and
// Parquet (labelled, 1000 rows) into a fresh temporary directory (nothing is written into the repository).
// Then the same prediction from F# with a small bootstrap, against the population values.
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then: dotnet fsi examples/predict-gmm-data.fsx [DIR]
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/MathNet.Numerics.dll"

open System
open System.IO
open FunctionalAsymptotics.Prediction

let dir =
    match fsi.CommandLineArgs |> Array.tail with
    | [| d |] -> d
    | _ -> Path.Combine(Path.GetTempPath(), sprintf "fa-predict-gmm-example-%d" Environment.ProcessId)
Directory.CreateDirectory dir |> ignore

// The generating model (unknown to the user; the prediction sees only the files).
let cfg = { K = 3; D = 5; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 200_000 }
let data = MixtureValidation.simulate cfg 4000 1000 (Random 2026)
let unlabelled = Path.Combine(dir, "unlabelled.csv")
let labelled = Path.Combine(dir, "labelled.parquet")
DataFile.writeCsv unlabelled data.Unlabelled
DataFile.writeParquet 256 labelled (DataFile.labelledTable data)
printfn "wrote %s and %s" unlabelled labelled

// The same prediction from F# (a small bootstrap to keep the example fast).
let p = RiskPrediction.gmmFromFiles 3 { RiskPrediction.defaults with Bootstrap = 20; Seed = 1UL } unlabelled labelled
printfn "E||L(Z)||^2 = %.4g (se %.2g), alpha0 = %.4g [%.4g, %.4g], m0 = %.0f at n = %d"
    p.PretrainMean.Estimate p.PretrainMean.StdErr p.Alpha0.Estimate p.Alpha0.Lower p.Alpha0.Upper p.UnlabelledToPayOff.Estimate p.N
let truth = MixtureValidation.truth cfg
printfn "population: E||L(Z)||^2 = %.4g, d_eff = %d, d_base = %d, alpha0 = %.4g"
    truth.PretrainMean truth.DEff truth.DBase (truth.PretrainMean / (cfg.Sigma2 * float (truth.DBase - truth.DEff)))
if fsi.CommandLineArgs.Length = 1 then Directory.Delete(dir, true)
