namespace FunctionalAsymptotics.Simulation

open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics

/// The verdict of a validation run (Figures 3-4): do the Kolmogorov distances to the limit law shrink
/// along the grid of `n`, and are they inside the sampling band at the largest `n`?
type Verdict =
    { /// The 99% sampling band of the Kolmogorov statistic for the run's replicates (`SimulationVerdict.ksBand`).
      Band: float
      /// The summary at the smallest `n`.
      First: GridSummary
      /// The summary at the largest `n`.
      Last: GridSummary
      /// The KS distance of the total is smaller at the largest `n` than at the smallest.
      TotalShrinks: bool
      /// The KS distance of the pre-training part is smaller at the largest `n` than at the smallest.
      PretrainShrinks: bool
      /// The KS distance of the total at the largest `n` is inside the band.
      TotalInside: bool
      /// The KS distance of the pre-training part at the largest `n` is inside the band.
      PretrainInside: bool }

/// Functions that turn a run's records into the numbers of the validation report.
[<RequireQualifiedAccess>]
module SimulationVerdict =

    /// The 99% quantile of the Kolmogorov statistic `sqrt(R) D_R` is 1.628 (Kolmogorov's limit distribution),
    /// so `1.628 / sqrt R` is the sampling band of the distance between `R` draws from the limit law and the law.
    let ksBand (reps: int) : float =
        if reps < 1 then Check.fail "reps" (sprintf "must be >= 1, got %d" reps)
        1.628 / sqrt (float reps)

    /// The verdict on the summaries of a run with `reps` replicates per `n` (ordered by `n`).
    let verdict (reps: int) (summaries: GridSummary[]) : Verdict =
        Check.nonEmpty "summaries" summaries
        let band = ksBand reps
        let first, last = summaries.[0], summaries.[summaries.Length - 1]
        { Band = band; First = first; Last = last
          TotalShrinks = last.KsTotal < first.KsTotal
          PretrainShrinks = last.KsPretrain < first.KsPretrain
          TotalInside = last.KsTotal < band
          PretrainInside = last.KsPretrain < band }

    /// The sample standard deviation of the variance part `sigma^2 tr(Sigma Sigma_n^-1)` over the records at
    /// `n` (its finite-`n` fluctuation around `sigma^2 d_eff`); NaN with fewer than two records.
    let varianceSpread (records: ReplicateRecord[]) (n: int) : float =
        let v = records |> Array.filter (fun r -> r.N = n) |> Array.map (fun r -> r.Outcome.Variance)
        if v.Length < 2 then nan
        else
            let mu = Array.average v
            sqrt ((v |> Array.sumBy (fun x -> (x - mu) * (x - mu))) / float (v.Length - 1))

    /// The same replicates and limit law with the target `f* = <theta*, psi>` scaled by `1/c` (e.g. a run at
    /// `|theta*| = c` seen at `|theta*| = 1`). Exact, not a new simulation: `Rep` and `Leak` are quadratic in
    /// `theta*` and the variance part does not depend on it, so each replicate rescales as `n Rep / c^2`,
    /// `n Leak / c^2`, and the law's weights as `lambda_j / c^2`.
    let rescaleTarget (c: float) (law: LimitLaw) (records: ReplicateRecord[]) : LimitLaw * ReplicateRecord[] =
        Check.positive "c" c
        let c2 = c * c
        let unitLaw = LimitLaw.create law.Sigma2 law.DEff law.Alpha (law.Weights |> Array.map (fun w -> w / c2))
        let rescaled =
            records |> Array.map (fun r ->
                let o = r.Outcome
                { r with Outcome = { o with Total = o.Variance + (o.Pretrain + o.Leak) / c2; Pretrain = o.Pretrain / c2; Leak = o.Leak / c2 } })
        unitLaw, rescaled
