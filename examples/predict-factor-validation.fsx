// The validation study of `fa predict factor` (docs/predict.md, "Validation"): data sets simulated from a known
// factor model (loadings Factor.drawLoadings 1 d k, beta* = (1, .., 1), sigma_nu^2 = 1; paper Section 6.2), the
// plug-in estimate of E||L(Z)||^2 with its bootstrap interval on each, against the truth (horizontal route), and
// the predictive 5%-95% band of n(R - sigma^2) (and the bands of the limit law at the estimate and at the truth)
// against the realised risk of one fresh run of the two-stage pipeline (PPCA, least squares, exact conditional
// risk of Proposition B.1).
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then
//   dotnet fsi examples/predict-factor-validation.fsx --dk 3,1 [--sizes M/N,..] [--datasets D] [--replicates B] [--seed S]
// (defaults: d, k = 3, 1; m/n = 1000/500; 100 data sets; 200 replicates; seed 11).
#load "predict-validation-table.fsx"

open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction
open ``Predict-validation-table``

let d, k = match option "--dk" with Some s -> (let a = s.Split(',') in int a.[0], int a.[1]) | None -> 3, 1
let cfg = { Loadings = Factor.drawLoadings 1 d k; Beta = Array.create k 1.0; SigmaNu2 = 1.0 }
let dataSets = option "--datasets" |> Option.map int |> Option.defaultValue 100
let replicates = option "--replicates" |> Option.map int |> Option.defaultValue 200
let sizes = sizesOr [| 1000, 500 |]
let seed = option "--seed" |> Option.map uint64 |> Option.defaultValue 11UL
printfn "factor model d = %d, k = %d; %d data sets per row, %d bootstrap replicates, 95%% intervals, seed %d" d k dataSets replicates seed
header ()
let studies = rows sizes (fun m n -> FactorValidation.run cfg m n dataSets replicates 0.95 seed 0)
slope sizes studies
