/// Simulation check (issue #4, docs/theory.md section 6): the full two-stage pipeline, R seeded replicates,
/// exact conditional risk by Proposition B.1, Kolmogorov distance to the limit law of each route.
module FunctionalAsymptotics.Tests.Asymptotics.SimulationTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

/// Kolmogorov distance between the empirical CDF of `xs` and a continuous CDF.
let kolmogorov (cdf: float -> float) (xs: float[]) =
    let s = Array.sort xs
    let r = float s.Length
    s |> Array.mapi (fun i x -> let f = cdf x in max (f - float i / r) (float (i + 1) / r - f)) |> Array.max

/// R = 400 by default; FA_SIM_REPLICATES and FA_SIM_SEED_OFFSET override it for manual, larger checks.
let private envInt (name: string) (fallback: int) =
    match Environment.GetEnvironmentVariable name with
    | null -> fallback
    | v -> match Int32.TryParse v with | true, x -> x | _ -> fallback
let replicates = envInt "FA_SIM_REPLICATES" 400
let seedOffset = envInt "FA_SIM_SEED_OFFSET" 0
let n = 2000
let alpha = 1.0
/// 99% quantile of the one-sample KS statistic for R replicates, about 1.63 / sqrt R.
let band = 1.63 / sqrt (float replicates)

let report name (law: LimitLaw) (lawPre: LimitLaw) (totals: float[]) (pre: float[]) =
    let ks = kolmogorov (LimitLaw.cdf law) totals
    let ksPre = kolmogorov (fun t -> LimitLaw.cdf lawPre (t + lawPre.OlsTerm)) pre
    ks, ksPre

/// The variance part `n Var_n = sigma^2 tr(Sigma Sigma_n^+)` tends to the point mass `sigma^2 d_eff`
/// (docs/theory.md section 6): reports `P(|V - sigma^2 d_eff| > 0.05 sigma^2 d_eff)` and checks the mean.
let varianceReport name (target: float) (vars: float[]) =
    let m = Array.average vars
    // E tr(Sigma Sigma_n^+) = k n / (n - k - 1) for a Gaussian design: within 1% of the limit at n = 2000.
    Expect.isLessThan (abs (m - target) / target) 0.01 "variance part near sigma^2 d_eff"

let tests =
    testList "Asymptotics.Simulation" [
        testCase "spectral d=6 k=2: KS distance of E_mn to the limit law is inside the sampling band (horizontal = descriptor = closed); paper route reported" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.0
            let d, k = cfg.D, cfg.K
            let m = int (floor (alpha * float n))
            let b = Spectral.aStar(cfg).TransposeThisAndMultiply(DenseVector(cfg.Beta)).ToArray()
            let results =
                Array.init replicates (fun r ->
                    let rng = Random(10007 + seedOffset + r)
                    let zs = Array.init m (fun _ -> Spectral.sample cfg rng)
                    let fit = Spectral.fit k 1 r (Spectral.statistics d zs)
                    Expect.isLessThanOrEqual fit.GradientNorm 1e-10 "pre-training converged"
                    let design, _ = Spectral.sampleDownstream cfg n rng
                    let risk = ConditionalRisk.linearGaussian (Linalg.eye d) cfg.Sigma2 b fit.Point design
                    float n * risk.Excess, float m * risk.Rep, float n * risk.Var)
            let totals = results |> Array.map (fun (t, _, _) -> t)
            let pre = results |> Array.map (fun (_, p, _) -> p)
            let vars = results |> Array.map (fun (_, _, v) -> v)
            let h = TwoStage.horizontal (Spectral.spec cfg)
            varianceReport "spectral" (cfg.Sigma2 * float h.DEff) vars
            let ksH, ksHPre = report "spectral horizontal/descriptor/closed" (AsymptoticSummary.limitLaw alpha h) (LimitLaw.create 0.0 0 1.0 h.Weights) totals pre
            let p = Spectral.closedSummary "paper" cfg
            let ksP, ksPPre = report "spectral paper (printed Cor. 6.3)" (AsymptoticSummary.limitLaw alpha p) (LimitLaw.create 0.0 0 1.0 p.Weights) totals pre
            Expect.isLessThan ksH band "total: inside the band"
            Expect.isLessThan ksHPre band "pre-training part: inside the band"
            Expect.isGreaterThan ksP band "the printed corollary is rejected"
            ignore ksPPre)
        testCase "factor d=8 k=2: KS distance of E_mn to the limit law is inside the sampling band (horizontal = descriptor = closed); paper route reported" (fun () ->
            let cfg = { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 1.0 }
            let d, k = 8, 2
            let sp = Factor.spec cfg
            let m = int (floor (alpha * float n))
            let b = Estimation.ModelSpec.targetCoefficients sp
            let sStar = Factor.covariance cfg
            let results =
                Array.init replicates (fun r ->
                    let rng = Random(20011 + seedOffset + r)
                    let x = DenseMatrix.OfRowArrays(Array.init m (fun _ -> Factor.sample cfg rng))
                    let aHat = Factor.fitPpca k x
                    let design, _ = Factor.sampleDownstream cfg n rng
                    let risk = ConditionalRisk.linearGaussian sStar sp.Sigma2 b (Factor.featureMatrix aHat) design
                    float n * risk.Excess, float m * risk.Rep, float n * risk.Var)
            let totals = results |> Array.map (fun (t, _, _) -> t)
            let pre = results |> Array.map (fun (_, p, _) -> p)
            let vars = results |> Array.map (fun (_, _, v) -> v)
            let h = TwoStage.horizontal sp
            varianceReport "factor" (sp.Sigma2 * float h.DEff) vars
            let ksH, ksHPre = report "factor horizontal/descriptor/closed" (AsymptoticSummary.limitLaw alpha h) (LimitLaw.create 0.0 0 1.0 h.Weights) totals pre
            let p = Factor.closedSummary "paper" cfg
            let ksP, _ = report "factor paper (printed Cor. 6.4)" (AsymptoticSummary.limitLaw alpha p) (LimitLaw.create 0.0 0 1.0 p.Weights) totals pre
            Expect.isLessThan ksH band "total: inside the band"
            Expect.isLessThan ksHPre band "pre-training part: inside the band"
            Expect.isGreaterThan ksP band "the printed corollary is rejected")
    ]
