namespace FunctionalAsymptotics.Simulation

open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics

/// The comparison of one grid point's replicates with the limit law (Appendix K, Figure 4).
type GridSummary =
    {
        /// Downstream sample size.
        N: int
        /// Pre-training sample size `floor(alpha n)`.
        M: int
        /// Number of replicates summarised.
        Reps: int
        /// `sup_t |F_n,tot(t) - F_inf,tot(t)|`, against the exact limit CDF of `E_alpha`.
        KsTotal: float
        /// `sup_t |F_n,pre(t) - F_inf,pre(t)|`, against the exact CDF of `alpha^-1 ||L(Z)||^2`.
        KsPretrain: float
        /// `P(|V_mn - sigma^2 d_eff| > 0.05 sigma^2 d_eff)`, the empirical fraction.
        PVar: float
        /// Mean of `E_mn`.
        MeanTotal: float
        /// Standard error of `MeanTotal` (sample sd / sqrt reps).
        MeanTotalStdErr: float
        /// Mean of `n Rep`.
        MeanPretrain: float
        /// Standard error of `MeanPretrain`.
        MeanPretrainStdErr: float
    }

/// Empirical-vs-limit metrics.
[<RequireQualifiedAccess>]
module Metrics =
    /// Relative tolerance of the variance-concentration metric, `epsilon = 0.05 sigma^2 d_eff` (Appendix K).
    [<Literal>]
    let VarianceTolerance = 0.05

    /// Kolmogorov distance `sup_t |F_emp(t) - F(t)|` of the sample `xs` to a continuous CDF `cdf`:
    /// `max_i max(i/R - F(x_(i)), F(x_(i)) - (i-1)/R)` over the sorted sample.
    let kolmogorov (cdf: float -> float) (xs: float[]) : float =
        Check.nonEmpty "xs" xs
        Check.finiteArray "xs" xs
        let sorted = Array.sort xs
        let r = float sorted.Length
        let mutable d = 0.0
        for i in 0 .. sorted.Length - 1 do
            let f = cdf sorted.[i]
            d <- max d (max (float (i + 1) / r - f) (f - float i / r))
        d

    /// Fraction of `xs` with `|x - target| > tolerance * |target|`.
    let exceedance (target: float) (tolerance: float) (xs: float[]) : float =
        Check.nonEmpty "xs" xs
        let eps = tolerance * abs target
        let count = xs |> Array.sumBy (fun x -> if abs (x - target) > eps then 1 else 0)
        float count / float xs.Length

    /// Mean and its standard error `sd / sqrt R` (sd with divisor `R - 1`; 0 when `R = 1`), summed in order.
    let meanStdErr (xs: float[]) : float * float =
        Check.nonEmpty "xs" xs
        let r = float xs.Length
        let mean = Array.sum xs / r
        if xs.Length = 1 then mean, 0.0
        else
            let ss = xs |> Array.sumBy (fun x -> (x - mean) * (x - mean))
            mean, sqrt (ss / (r - 1.0) / r)

    /// The CDF of the pre-training part alone, `alpha^-1 ||L(Z)||^2`.
    let pretrainingCdf (law: LimitLaw) : float -> float =
        let pre = LimitLaw.create 0.0 0 law.Alpha law.Weights
        LimitLaw.cdf pre

    /// Summary of one grid point from its outcomes in replicate order (index = replicate).
    let summarize (model: PipelineModel) (n: int) (m: int) (outcomes: ReplicateOutcome[]) : GridSummary =
        Check.nonEmpty "outcomes" outcomes
        let total = outcomes |> Array.map (fun o -> o.Total)
        let pre = outcomes |> Array.map (fun o -> o.Pretrain)
        let var = outcomes |> Array.map (fun o -> o.Variance)
        let meanT, seT = meanStdErr total
        let meanP, seP = meanStdErr pre
        {
            N = n
            M = m
            Reps = outcomes.Length
            KsTotal = kolmogorov (LimitLaw.cdf model.Law) total
            KsPretrain = kolmogorov (pretrainingCdf model.Law) pre
            PVar = exceedance model.SigmaSquaredDEff VarianceTolerance var
            MeanTotal = meanT
            MeanTotalStdErr = seT
            MeanPretrain = meanP
            MeanPretrainStdErr = seP
        }
