// Shared by examples/predict-gmm-validation.fsx and examples/predict-factor-validation.fsx: the options and the
// table of one validation study per (m, n) row (docs/predict.md, "Validation").
//   --sizes M/N,M/N,...   rows (default: the script's own)
//   --datasets D          data sets per row
//   --replicates B        bootstrap replicates per data set
//   --seed S              study seed (default 11)
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/MathNet.Numerics.dll"

open System
open FunctionalAsymptotics.Prediction

/// The value after `--name`, if given.
let option (name: string) =
    let args = fsi.CommandLineArgs
    args |> Array.tryFindIndex ((=) name) |> Option.bind (fun i -> if i + 1 < args.Length then Some args.[i + 1] else None)

/// `--sizes` as (m, n) pairs, or `defaults`.
let sizesOr (defaults: (int * int)[]) =
    match option "--sizes" with
    | Some s -> s.Split(',') |> Array.map (fun p -> let a = p.Split('/') in int a.[0], int a.[1])
    | None -> defaults

/// The table's header.
let header () =
    printfn "| m | n | true E‖L‖² | coverage (95%%) | RMSE | SE | spread | predictive band | below | above | law band (estimate) | true law band | failed fits | failed replicates | seconds |"
    printfn "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

/// Runs `run m n` for each row, prints it (below/above: fractions of realised risks under the predictive band's
/// 5% quantile and over its 95% quantile) and returns the studies.
let rows (sizes: (int * int)[]) (run: int -> int -> ValidationStudy) =
    sizes |> Array.map (fun (m, n) ->
        let sw = Diagnostics.Stopwatch.StartNew()
        let st = run m n
        let frac f = (Array.map3 (fun r lo hi -> if f r lo hi then 1.0 else 0.0) st.Realised st.PredictiveQ05 st.PredictiveQ95) |> Array.average
        printfn "| %d | %d | %.4f | %.3f | %.4f | %.4f | %.4f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %d | %.0f |"
            m n st.TruePretrainMean st.Coverage st.Rmse st.MeanStdErr st.SpreadOfEstimates st.PredictiveBandCoverage
            (frac (fun r lo _ -> r < lo)) (frac (fun r _ hi -> r > hi)) st.EstimatedLawBandCoverage st.TrueLawBandCoverage
            st.Failures.Length st.BootstrapFailures sw.Elapsed.TotalSeconds
        for f in st.Failures do printfn "  %s" f
        st)

/// The slope of log RMSE against log m over the rows with n = m/2 (printed when there are two or more).
let slope (sizes: (int * int)[]) (studies: ValidationStudy[]) =
    let rate = sizes |> Array.indexed |> Array.filter (fun (_, (m, n)) -> n = m / 2)
    if rate.Length >= 2 then
        printfn "slope of log RMSE against log m (n = m/2): %.3f" (PlugInValidation.rmseSlope (rate |> Array.map (snd >> fst)) (rate |> Array.map (fun (i, _) -> studies.[i])))
