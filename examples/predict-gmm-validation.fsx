// The validation study of `fa predict gmm` (docs/predict.md, "Validation"): data sets simulated from a known
// Gaussian mixture (K = 3, d = 5, centres U* = 2 I_{3,5}, |theta*| = 10, sigma^2 = 1; paper Section 6.3), the
// plug-in estimate of E||L(Z)||^2 with its bootstrap interval on each, against the population value (quadrature
// route), and the predicted 5%-95% band of n(R - sigma^2) against the realised risk of one fresh run of the
// two-stage pipeline (EM, least squares, exact conditional risk of Proposition B.1).
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then
//   dotnet fsi examples/predict-gmm-validation.fsx          a small run (8 data sets, 10 replicates; seconds)
//   dotnet fsi examples/predict-gmm-validation.fsx --full   the table of docs/predict.md (100 data sets, 200
//                                                            replicates per row; about an hour on 2 busy cores)
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/MathNet.Numerics.dll"

open System
open FunctionalAsymptotics.Prediction

let full = fsi.CommandLineArgs |> Array.contains "--full"
let cfg = { K = 3; D = 5; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 200_000 }
let dataSets, replicates = if full then 100, 200 else 8, 10
// (m, n): n = m / 2 for the coverage and the rate; alpha = 0.1 where the pre-training term dominates the spread.
let sizes = if full then [| 1000, 500; 2000, 1000; 4000, 2000; 1000, 10000; 2000, 20000; 8000, 4000 |] else [| 1000, 500 |]
let seed = 11UL
printfn "K = %d, d = %d, beta = %g, |theta*| = %g, sigma^2 = %g; %d data sets per row, %d bootstrap replicates, 95%% intervals, seed %d"
    cfg.K cfg.D cfg.Beta cfg.ThetaNorm cfg.Sigma2 dataSets replicates seed
printfn "| m | n | true E||L||^2 | coverage (95%%) | RMSE | SE | spread | band | true band | failed fits | failed replicates | seconds |"
printfn "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
let studies =
    sizes |> Array.map (fun (m, n) ->
        let sw = Diagnostics.Stopwatch.StartNew()
        let st = MixtureValidation.run cfg m n dataSets replicates 0.95 seed 0
        printfn "| %d | %d | %.4f | %.3f | %.4f | %.4f | %.4f | %.3f | %.3f | %d | %d | %.0f |"
            m n st.TruePretrainMean st.Coverage st.Rmse st.MeanStdErr st.SpreadOfEstimates st.RiskBandCoverage st.TrueLawBandCoverage
            st.Failures.Length st.BootstrapFailures sw.Elapsed.TotalSeconds
        for f in st.Failures do printfn "  %s" f
        st)
let rate = sizes |> Array.indexed |> Array.filter (fun (_, (m, n)) -> n = m / 2)
if rate.Length >= 2 then
    printfn "slope of log RMSE against log m (n = m/2): %.3f" (PlugInValidation.rmseSlope (rate |> Array.map (snd >> fst)) (rate |> Array.map (fun (i, _) -> studies.[i])))
