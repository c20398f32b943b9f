// The validation study of `fa predict factor` (docs/predict.md, "Validation"): data sets simulated from a known
// factor model (loadings Factor.drawLoadings 1 d k, beta* = (1, .., 1), sigma_nu^2 = 1; paper Section 6.2), the
// plug-in estimate of E||L(Z)||^2 with its bootstrap interval on each, against the truth (horizontal route), and
// the predictive 5%-95% band of n(R - sigma^2) (and the bands of the limit law at the estimate and at the truth)
// against the realised risk of one fresh run of the two-stage pipeline (PPCA, least squares, exact conditional
// risk of Proposition B.1).
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then
//   dotnet fsi examples/predict-factor-validation.fsx          a small run (d, k = 3, 1; m/n = 1000/500; 8 data
//                                                               sets, 10 replicates; seconds)
//   dotnet fsi examples/predict-factor-validation.fsx --full   the risk-band table of docs/predict.md (d, k = 3, 1
//                                                               and 6, 2; m/n = 500/250, 1000/500, 4000/2000,
//                                                               1000/10000; 100 data sets, 200 replicates per row)
// Options (examples/predict-validation-table.fsx): --dk D,K --sizes M/N,.. --datasets D --replicates B --seed S.
#load "predict-validation-table.fsx"

open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction
open ``Predict-validation-table``

let full = fsi.CommandLineArgs |> Array.contains "--full"
let models =
    match option "--dk" with
    | Some s -> [| let a = s.Split(',') in int a.[0], int a.[1] |]
    | None -> if full then [| 3, 1; 6, 2 |] else [| 3, 1 |]
let dataSets = option "--datasets" |> Option.map int |> Option.defaultValue (if full then 100 else 8)
let replicates = option "--replicates" |> Option.map int |> Option.defaultValue (if full then 200 else 10)
let sizes = sizesOr (if full then [| 500, 250; 1000, 500; 4000, 2000; 1000, 10000 |] else [| 1000, 500 |])
let seed = option "--seed" |> Option.map uint64 |> Option.defaultValue 11UL
for d, k in models do
    let cfg = { Loadings = Factor.drawLoadings 1 d k; Beta = Array.create k 1.0; SigmaNu2 = 1.0 }
    printfn "factor model d = %d, k = %d; %d data sets per row, %d bootstrap replicates, 95%% intervals, seed %d" d k dataSets replicates seed
    header ()
    let studies = rows sizes (fun m n -> FactorValidation.run cfg m n dataSets replicates 0.95 seed 0)
    slope sizes studies
