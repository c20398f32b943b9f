/// Prediction for the Gaussian mixture: the fast empirical sandwich against the generic per-sample route, `G`
/// and `d_base` against forward-mode derivatives of the full features, invariance under relabelling the
/// components, consistency, typed errors for fits the data do not identify, and the validation study
/// (coverage, standard error against spread, 1/sqrt(m) rate, risk-band coverage of the two-stage pipeline).
module FunctionalAsymptotics.Tests.Prediction.MixturePlugInTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction

let private relErr (a: float) (b: float) = abs (a - b) / max 1e-300 (max (abs a) (abs b))

let private ones n = Array.create n 1.0

/// K = 2, d = 3: small enough for many data sets in the test time.
let private small = { K = 2; D = 3; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 20_000 }

let private medium = { K = 3; D = 5; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 20_000 }

let private fitted (cfg: MixtureValidationConfig) (data: PredictionData) =
    GaussianMixtureEm.fit MixturePlugIn.defaultEmOptions cfg.K (WeightedMoments.expand data.Unlabelled (ones data.Unlabelled.Rows))

/// Rows drawn by `draw` as a data pair with `y ~ N(0, 1)`.
let private dataOf (d: int) (m: int) (n: int) (draw: Random -> float[]) =
    let rng = Random 5
    let cols = Array.init d (fun j -> sprintf "x%d" (j + 1))
    let u = DataFile.ofArray "u" cols (Array.init m (fun _ -> draw rng) |> Array.concat)
    let l = DataFile.ofArray "l" (Array.append cols [| "y" |]) (Array.init n (fun _ -> Array.append (draw rng) [| Linalg.gaussian rng |]) |> Array.concat)
    DataFile.pair 1 u l

let private estimate k (data: PredictionData) =
    MixturePlugIn.estimator MixturePlugIn.defaultEmOptions k data (ones data.Unlabelled.Rows) (ones data.Labelled.Rows)

let tests =
    testList "Prediction.MixturePlugIn" [
        testCase "empirical sandwich = generic per-sample route (Sandwich.plugIn with the model's score and Hessian) to rounding" (fun () ->
            let data = MixtureValidation.simulate medium 300 50 (Random 3)
            let u = fitted medium data
            let wu, _ = Bootstrap.resample 4UL 300 50 0
            let fast = MixturePlugIn.sandwich data.Unlabelled wu u
            let spec = GaussianMixtureModel.spec 3 5 2.0 10.0 1.0 1000 1
            let generic = Sandwich.plugIn spec (WeightedMoments.expand data.Unlabelled wu) u
            let scale = generic.Covariance.FrobeniusNorm()
            Expect.isLessThan ((fast.Hessian - generic.Hessian).FrobeniusNorm()) 1e-12 "H"
            Expect.isLessThan ((fast.ScoreCovariance - generic.ScoreCovariance).FrobeniusNorm()) 1e-12 "Sigma"
            Expect.isLessThan ((fast.Covariance - generic.Covariance).FrobeniusNorm() / scale) 1e-10 "V")
        testCase "G and d_base = forward-mode derivatives of the full features psi_U (6.4) with Sigma^+ (TwoStage.gramOfMoments)" (fun () ->
            // Independent route: a_j(x) = <theta, D psi_U(x)[e_j]> by GaussianMixture.featureDerivative (forward mode,
            // the projector's derivative), psi_U in R^{K(d+1)} (rank K^2), the pseudo-inverse on its numerical range.
            let data = MixtureValidation.simulate medium 2000 400 (Random 4)
            let est = estimate 3 data
            let u = est.Representation
            let pr = GaussianMixture.projector 2 u
            let d, k = 5, 3
            let dirs = Array.init (k * d) (fun j -> let e = DenseMatrix.Create(d, k, 0.0) in e.[j % d, j / d] <- 1.0; e :> Matrix<float>)
            let theta = DenseVector(est.Theta)
            let rows = Array.init data.Labelled.Rows (WeightedMoments.row data.Labelled)
            let m =
                rows
                |> Array.map (fun x ->
                    let v = DenseVector(Array.append (GaussianMixture.features pr u x) (dirs |> Array.map (fun e -> theta.DotProduct(DenseVector(GaussianMixture.featureDerivative pr u x e)))))
                    v.OuterProduct v)
                |> Array.reduce (+)
                |> fun s -> Linalg.sym (s / float rows.Length)
            let g = TwoStage.gramOfMoments m (k * (d + 1))
            Expect.isLessThan ((g - est.Summary.Gram).FrobeniusNorm() / g.FrobeniusNorm()) 1e-7 "G"
            Expect.equal est.Summary.DBase (Linalg.numericalRank TwoStage.rankTolerance m) "d_base"
            Expect.equal (est.Summary.DEff, est.Summary.DBase) (9, 21) "d_eff = K^2 and the population d_base")
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 6 } "relabelling the fitted components leaves the estimate unchanged" (fun (seed: int) ->
            let data = MixtureValidation.simulate medium 600 120 (Random seed)
            let u = fitted medium data
            let perm = [| 2; 0; 1 |]
            let permuted = DenseMatrix.Create(5, 3, fun r i -> u.[r, perm.[i]]) :> Matrix<float>
            let a = (MixturePlugIn.estimateAt data (ones 600) (ones 120) u).Summary
            let b = (MixturePlugIn.estimateAt data (ones 600) (ones 120) permuted).Summary
            AsymptoticSummary.weightDiscrepancy a b < 1e-8 && relErr a.Sigma2 b.Sigma2 < 1e-10)
        testCase "consistency: at m = 10^5 the plug-in E||L(Z)||^2 is within 8% of the population value (quadrature route)" (fun () ->
            // The estimate's relative RMSE is about 0.21 at m = 1000 (docs/predict.md), so about 0.021 at m = 10^5:
            // 8% is about 4 standard deviations.
            let data = MixtureValidation.simulate medium 100_000 20_000 (Random 6)
            let est = estimate 3 data
            let truth = MixtureValidation.truth medium
            Expect.isLessThan (relErr (AsymptoticSummary.pretrainMean est.Summary) truth.PretrainMean) 0.08 "E||L||^2"
            Expect.isLessThan (abs (est.Summary.Sigma2 - 1.0)) 0.05 "sigma^2 (sd 0.01)")
        testCase "more components than clusters: MixtureAssumptionException (i), centres within their noise" (fun () ->
            let data = dataOf 4 2000 200 (fun r -> Array.init 4 (fun _ -> Linalg.gaussian r))
            try estimate 3 data |> ignore; failtest "expected an exception"
            with :? MixtureAssumptionException as e -> Expect.stringContains e.Condition "(i)" "condition (i)")
        testCase "three clusters on a line with K = 3: MixtureAssumptionException (ii), no eigengap" (fun () ->
            let data = dataOf 3 2000 200 (fun r -> let c = float (r.Next 3) * 4.0 in [| c + Linalg.gaussian r; Linalg.gaussian r; Linalg.gaussian r |])
            try estimate 3 data |> ignore; failtest "expected an exception"
            with :? MixtureAssumptionException as e -> Expect.stringContains e.Condition "(ii)" "condition (ii)")
        testCase "EM at its iteration cap: ConvergenceException; K - 1 > d, K < 2, too few labelled rows: InvalidArgumentException" (fun () ->
            let data = MixtureValidation.simulate medium 1000 100 (Random 7)
            Expect.throwsT<ConvergenceException>
                (fun () -> MixturePlugIn.estimator { MixturePlugIn.defaultEmOptions with MaxIterations = 2 } 3 data (ones 1000) (ones 100) |> ignore) "EM"
            let argument f = try f () |> ignore; "" with :? InvalidArgumentException as e -> e.Argument
            Expect.equal (argument (fun () -> estimate 7 data)) "K" "K - 1 > d"
            Expect.equal (argument (fun () -> estimate 1 data)) "K" "K < 2"
            Expect.equal (argument (fun () -> MixturePlugIn.estimator MixturePlugIn.defaultEmOptions 3 data (ones 1000) (Array.init 100 (fun i -> if i < 9 then 1.0 else 0.0)))) "labelled" "K^2 = 9 labelled rows")
        testCase "a collapsed component: DegenerateMixtureException" (fun () ->
            // Three components and a minimum share of 40%: they cannot all keep it, one collapses.
            let data = MixtureValidation.simulate small 2000 100 (Random 8)
            Expect.throwsT<DegenerateMixtureException>
                (fun () -> MixturePlugIn.estimator { MixturePlugIn.defaultEmOptions with MinMass = 0.4; Restarts = 1 } 3 data (ones 2000) (ones 100) |> ignore) "collapse")
        testCase "prediction: same seed, same result on 1 and 2 threads; no NaN with a bootstrap" (fun () ->
            let data = MixtureValidation.simulate small 600 100 (Random 9)
            let settings = { RiskPrediction.defaults with Bootstrap = 8; Seed = 3UL; CurvePoints = 5 }
            let one = RiskPrediction.gmm 2 { settings with Threads = 1 } data
            let two = RiskPrediction.gmm 2 { settings with Threads = 2 } data
            Expect.equal (two.PretrainMean, two.Alpha0, two.Q95, two.Weights) (one.PretrainMean, one.Alpha0, one.Q95, one.Weights) "thread-count independent"
            for i in [ one.Sigma2; one.PretrainMean; one.Alpha0; one.Mean; one.Q05; one.Q95 ] do
                Expect.isTrue (Double.IsFinite i.Estimate && Double.IsFinite i.StdErr && Double.IsFinite i.Lower && Double.IsFinite i.Upper) (sprintf "%A" i)
            Expect.equal one.Model "gmm" "model")
        testCase "validation: 95% intervals for E||L(Z)||^2 cover the population value over 80 data sets; SE matches the spread" (fun () ->
            // K = 2, d = 3, m = 1000, n = 500, 80 seeded data sets with 20 replicates each. Nominal 0.95; the binomial
            // standard deviation over 80 data sets is 0.024, so >= 0.86 is 3.7 sd below nominal.
            let st = PlugInValidation.runWith false (MixtureValidation.case MixturePlugIn.defaultEmOptions small) 1000 500 80 20 0.95 21UL 0
            Expect.isGreaterThanOrEqual st.Coverage 0.86 "coverage"
            Expect.isEmpty st.Failures "every data set fitted"
            let ratio = st.MeanStdErr / st.SpreadOfEstimates
            Expect.isTrue (ratio > 0.75 && ratio < 1.33) (sprintf "bootstrap SE %g against spread %g" st.MeanStdErr st.SpreadOfEstimates))
        testCase "validation: the estimate's error shrinks like 1/sqrt(m) (slope of log RMSE in [-0.75, -0.25])" (fun () ->
            let sizes = [| 500; 2000; 8000 |]
            let studies = sizes |> Array.map (fun m -> PlugInValidation.runWith false (MixtureValidation.case MixturePlugIn.defaultEmOptions small) m (m / 2) 40 2 0.95 31UL 0)
            let slope = PlugInValidation.rmseSlope sizes studies
            Expect.isTrue (slope > -0.75 && slope < -0.25) (sprintf "slope %g" slope))
        testCase "validation: the predicted 5%-95% band covers the realised risk of the two-stage pipeline (alpha = 0.1)" (fun () ->
            // m = 1000, n = 10000: the pre-training term dominates the spread (docs/predict.md). Nominal 0.90; binomial
            // sd over 60 data sets 0.039.
            let st = PlugInValidation.runWith false (MixtureValidation.case MixturePlugIn.defaultEmOptions small) 1000 10000 60 2 0.95 41UL 0
            Expect.isTrue (st.TrueLawBandCoverage > 0.78 && st.TrueLawBandCoverage <= 1.0) (sprintf "true law band %g" st.TrueLawBandCoverage)
            Expect.isTrue (st.EstimatedLawBandCoverage > 0.72 && st.EstimatedLawBandCoverage <= 1.0) (sprintf "predicted band %g" st.EstimatedLawBandCoverage))
    ]
