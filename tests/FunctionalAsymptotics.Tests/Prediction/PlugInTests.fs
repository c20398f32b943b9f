/// Prediction: the factor plug-in against the generic user-model route, its invariance, the bootstrap's
/// reproducibility, and the validation study (coverage, standard error against spread, 1/sqrt(m) rate,
/// risk-band coverage of the two-stage pipeline).
module FunctionalAsymptotics.Tests.Prediction.PlugInTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction

let private relErr (a: float) (b: float) = abs (a - b) / max 1e-300 (max (abs a) (abs b))

let private cfg d k = { Loadings = Factor.drawLoadings 1 d k; Beta = Array.init k (fun i -> 1.0 + float i); SigmaNu2 = 1.0 }

let private ones n = Array.create n 1.0

/// `x -> Q x` on every row of a table's first `d` columns.
let private rotate (q: Matrix<float>) (t: DataTable) =
    let d = q.RowCount
    let values = Array.copy t.Values
    for i in 0 .. t.Rows - 1 do
        let x = DenseVector(Array.sub t.Values (i * t.Width) d)
        let y = q * x
        for j in 0 .. d - 1 do values.[i * t.Width + j] <- y.[j]
    { t with Values = values }

let tests =
    testList "Prediction.PlugIn" [
        testCase "factor plug-in = generic route (Sandwich.plugIn per sample, Factor.fitPpca) to rounding" (fun () ->
            let c = cfg 5 2
            let data = FactorValidation.simulate c 300 120 (Random 4)
            let fast = FactorPlugIn.estimator 2 data (ones 300) (ones 120)
            let fit (rows: float[][]) = Factor.fitPpca 2 (DenseMatrix.OfRowArrays rows)
            let generic = UserModelPlugIn.estimator (Factor.spec c) fit data (ones 300) (ones 120)
            Expect.equal fast.Summary.Weights.Length 3 "d - k weights"
            Expect.isLessThan (AsymptoticSummary.weightDiscrepancy fast.Summary generic.Summary) 1e-8 "weights"
            Expect.isLessThan (relErr fast.Summary.Sigma2 generic.Summary.Sigma2) 1e-10 "sigma2"
            Expect.equal (fast.Summary.DEff, fast.Summary.DBase) (2, 5) "d_eff, d_base")
        testCase "with bootstrap counts the fast route equals the generic route on the expanded rows" (fun () ->
            let c = cfg 4 1
            let data = FactorValidation.simulate c 200 80 (Random 5)
            let wu, wl = Bootstrap.resample 9UL 200 80 3
            let fast = FactorPlugIn.estimator 1 data wu wl
            let generic = UserModelPlugIn.estimator (Factor.spec c) (fun rows -> Factor.fitPpca 1 (DenseMatrix.OfRowArrays rows)) data wu wl
            Expect.isLessThan (AsymptoticSummary.weightDiscrepancy fast.Summary generic.Summary) 1e-8 "weights")
        testCase "at the population second moments the plug-in sandwich is the population sandwich (Gaussian data)" (fun () ->
            // Many Gaussian samples: the plug-in E||L||^2 approaches the closed form (corrected Cor. 6.4).
            let c = cfg 4 1
            let data = FactorValidation.simulate c 200000 50000 (Random 6)
            let est = FactorPlugIn.estimator 1 data (ones 200000) (ones 50000)
            let truth = Array.sum (Factor.closedWeights c)
            Expect.isLessThan (relErr (AsymptoticSummary.pretrainMean est.Summary) truth) 0.03 "E||L||^2 within 3% at m = 2e5")
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 8 } "orthogonal change of coordinates x -> Qx leaves the prediction unchanged" (fun (seed: int) ->
            // Loadings doubled: both factors well above the noise level, so every seed's data identify k = 2.
            let c = { cfg 4 2 with Loadings = (cfg 4 2).Loadings * 2.0 }
            let data = FactorValidation.simulate c 300 60 (Random seed)
            let q = Linalg.randomOrthogonal (Random(seed + 1)) 4
            let rotated = { data with Unlabelled = rotate q data.Unlabelled; Labelled = rotate q data.Labelled }
            let a = (FactorPlugIn.estimator 2 data (ones 300) (ones 60)).Summary
            let b = (FactorPlugIn.estimator 2 rotated (ones 300) (ones 60)).Summary
            AsymptoticSummary.weightDiscrepancy a b < 1e-8 && relErr a.Sigma2 b.Sigma2 < 1e-10)
        testCase "k not identifiable (k-th eigenvalue <= 1): InvalidArgumentException naming k" (fun () ->
            let rng = Random 7
            let noise = DataFile.ofArray "u" [| "a"; "b"; "c" |] (Array.init 600 (fun _ -> 0.5 * Linalg.gaussian rng))
            let lab = DataFile.ofArray "l" [| "a"; "b"; "c"; "y" |] (Array.init 200 (fun _ -> Linalg.gaussian rng))
            let data = DataFile.pair 1 noise lab
            try FactorPlugIn.estimator 1 data (ones 200) (ones 50) |> ignore; failtest "expected an exception"
            with :? InvalidArgumentException as e -> Expect.equal e.Argument "k" "argument")
        testCase "bootstrap: same seed, same replicates on 1 and 3 threads; counts sum to the rows" (fun () ->
            let data = FactorValidation.simulate (cfg 3 1) 100 40 (Random 8)
            let stat wu wl = AsymptoticSummary.pretrainMean (FactorPlugIn.estimator 1 data wu wl).Summary
            let one = Bootstrap.run 5UL 12 1 100 40 stat
            let three = Bootstrap.run 5UL 12 3 100 40 stat
            Expect.equal three one "thread-count independent"
            let wu, wl = Bootstrap.resample 5UL 100 40 0
            Expect.equal (Array.sum wu, Array.sum wl) (100.0, 40.0) "multinomial totals"
            Expect.notEqual (Bootstrap.resample 5UL 100 40 1) (wu, wl) "replicates differ")
        testCase "bootstrap interval: percentile bounds and standard deviation of the draws" (fun () ->
            let draws = Array.init 101 float
            let iv = Bootstrap.interval 0.9 50.0 draws
            Expect.floatClose Accuracy.veryHigh iv.Lower 5.0 "5% point"
            Expect.floatClose Accuracy.veryHigh iv.Upper 95.0 "95% point"
            Expect.floatClose Accuracy.veryHigh iv.StdErr (sqrt (101.0 * 102.0 / 12.0)) "sd of 0..100")
        testCase "validation: 95% intervals for E||L(Z)||^2 cover the truth over 100 data sets; SE matches the spread" (fun () ->
            // d = 3, k = 1, m = 800, n = 400, 100 seeded data sets, 30 replicates each. Nominal 0.95; the
            // binomial standard deviation over 100 data sets is 0.022, so >= 0.87 is 3.6 sd below nominal.
            let st = PlugInValidation.runWith false (FactorValidation.case (cfg 3 1)) 800 400 100 30 0.95 21UL 0
            Expect.isGreaterThanOrEqual st.Coverage 0.87 "coverage"
            let ratio = st.MeanStdErr / st.SpreadOfEstimates
            Expect.isTrue (ratio > 0.75 && ratio < 1.33) (sprintf "bootstrap SE %g against spread %g" st.MeanStdErr st.SpreadOfEstimates))
        testCase "validation: the estimate's error shrinks like 1/sqrt(m) (slope of log RMSE in [-0.75, -0.25])" (fun () ->
            let sizes = [| 300; 1200; 4800 |]
            let studies = sizes |> Array.map (fun m -> PlugInValidation.runWith false (FactorValidation.case (cfg 3 1)) m (m / 2) 60 2 0.95 31UL 0)
            let slope = FactorValidation.rmseSlope sizes studies
            Expect.isTrue (slope > -0.75 && slope < -0.25) (sprintf "slope %g" slope))
        testCase "validation: the predicted 5%-95% band covers the realised risk of the two-stage pipeline" (fun () ->
            // alpha = 0.1 (m = 500, n = 5000): the pre-training term dominates the spread, and at this n the
            // variance part's fluctuation (order sigma^2 sqrt(d_eff / n)) is small against it (docs/predict.md).
            // Nominal 0.90; binomial sd over 150 data sets 0.024.
            let st = PlugInValidation.runWith false (FactorValidation.case (cfg 3 1)) 500 5000 150 2 0.95 41UL 0
            Expect.isTrue (st.TrueLawBandCoverage > 0.82 && st.TrueLawBandCoverage < 0.97) (sprintf "true law band %g" st.TrueLawBandCoverage)
            Expect.isTrue (st.EstimatedLawBandCoverage > 0.78 && st.EstimatedLawBandCoverage < 0.97) (sprintf "predicted band %g" st.EstimatedLawBandCoverage))
    ]
