// The validation study of `fa predict gmm` (docs/predict.md, "Validation"): data sets simulated from a known
// Gaussian mixture (K = 3, d = 5, centres U* = 2 I_{3,5}, |theta*| = 10, sigma^2 = 1; paper Section 6.3), the
// plug-in estimate of E||L(Z)||^2 with its bootstrap interval on each, against the population value (quadrature
// route), and the predictive 5%-95% band of n(R - sigma^2) (and the bands of the limit law at the estimate and at
// the truth) against the realised risk of one fresh run of the two-stage pipeline (EM, least squares, exact
// conditional risk of Proposition B.1).
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then
//   dotnet fsi examples/predict-gmm-validation.fsx          a small run (8 data sets, 10 replicates; seconds)
//   dotnet fsi examples/predict-gmm-validation.fsx --full   the table of docs/predict.md (100 data sets, 200
//                                                            replicates per row; about an hour on 2 busy cores)
// Options (examples/predict-validation-table.fsx): --sizes M/N,.. --datasets D --replicates B --seed S.
#load "predict-validation-table.fsx"

open FunctionalAsymptotics.Prediction
open ``Predict-validation-table``

let full = fsi.CommandLineArgs |> Array.contains "--full"
let cfg = { K = 3; D = 5; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 200_000 }
let dataSets = option "--datasets" |> Option.map int |> Option.defaultValue (if full then 100 else 8)
let replicates = option "--replicates" |> Option.map int |> Option.defaultValue (if full then 200 else 10)
// (m, n): n = m / 2 for the coverage and the rate; alpha = 0.1 where the pre-training term dominates the spread.
let sizes = sizesOr (if full then [| 1000, 500; 2000, 1000; 4000, 2000; 1000, 10000; 2000, 20000; 8000, 4000 |] else [| 1000, 500 |])
let seed = option "--seed" |> Option.map uint64 |> Option.defaultValue 11UL
printfn "K = %d, d = %d, beta = %g, |theta*| = %g, sigma^2 = %g; %d data sets per row, %d bootstrap replicates, 95%% intervals, seed %d"
    cfg.K cfg.D cfg.Beta cfg.ThetaNorm cfg.Sigma2 dataSets replicates seed
header ()
let studies = rows sizes (fun m n -> MixtureValidation.run cfg m n dataSets replicates 0.95 seed 0)
slope sizes studies
