namespace FunctionalAsymptotics.Asymptotics

open FunctionalAsymptotics

/// One point of the crossover curve of Figure 1: the limit law of `E_alpha` at `alpha`.
type CrossoverPoint =
    { /// `alpha = m / n`.
      Alpha: float
      /// `E[E_alpha] = sigma^2 d_eff + alpha^-1 E||L(Z)||^2`.
      Mean: float
      /// The 5% quantile of `E_alpha`.
      Q05: float
      /// The 95% quantile of `E_alpha`.
      Q95: float }

/// When does pre-training pay (paper Section 5, the discussion after Theorem 5.1; Figure 1)? The scaled
/// risk of pre-training plus fine-tuning, `E_alpha = sigma^2 d_eff + alpha^-1 ||L(Z)||^2`, against the
/// downstream-only risk `sigma^2 d_base`; on average pre-training wins once `alpha > alpha0`
/// (`AsymptoticSummary.alpha0`).
[<RequireQualifiedAccess>]
module Crossover =

    /// `points` log-spaced values of `alpha` from `10^-2` to `10^3` (the range of Figure 1).
    let alphaGrid (points: int) : float[] =
        if points < 2 then Check.fail "points" (sprintf "must be >= 2, got %d" points)
        Array.init points (fun i -> 10.0 ** (-2.0 + 5.0 * float i / float (points - 1)))

    /// The mean and the 5% and 95% quantiles of `E_alpha` on `alphaGrid points`.
    let curve (points: int) (summary: AsymptoticSummary) : CrossoverPoint[] =
        alphaGrid points
        |> Array.map (fun a ->
            let law = AsymptoticSummary.limitLaw a summary
            { Alpha = a; Mean = law.Mean; Q05 = LimitLaw.quantile law 0.05; Q95 = LimitLaw.quantile law 0.95 })

    /// The downstream-only scaled risk `sigma^2 d_base` (least squares on the labelled data alone).
    let baseline (summary: AsymptoticSummary) : float = summary.Sigma2 * float summary.DBase
