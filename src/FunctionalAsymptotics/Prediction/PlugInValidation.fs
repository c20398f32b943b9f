namespace FunctionalAsymptotics.Prediction

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Simulation

/// The outcome of a validation study of a plug-in (docs/predict.md): over independent seeded data sets
/// simulated from known parameters, how often the bootstrap interval covers the true `E||L(Z)||^2`, how the
/// bootstrap standard error compares with the spread of the estimates, and how often the predicted 5%-95%
/// band of `n(R - sigma^2)` (the predictive law, `PredictiveLaw`) covers the realised risk of a fresh run of the
/// two-stage pipeline, next to the bands of the limit law at the estimate and at the truth.
type ValidationStudy =
    { /// Data sets simulated.
      DataSets: int
      /// Bootstrap replicates per data set.
      Bootstrap: int
      /// The interval level (e.g. 0.95).
      Level: float
      /// The true `E||L(Z)||^2` (the population computation at the true parameters).
      TruePretrainMean: float
      /// The estimates on each data set (on which the estimator succeeded).
      Estimates: float[]
      /// The bootstrap standard errors on each data set (on which the estimator succeeded).
      StdErrs: float[]
      /// Fraction of data sets whose percentile interval covers the truth.
      Coverage: float
      /// Root mean square error of the estimates.
      Rmse: float
      /// Mean of the bootstrap standard errors.
      MeanStdErr: float
      /// Standard deviation of the estimates over the data sets (what the standard error estimates).
      SpreadOfEstimates: float
      /// Fraction of data sets whose predictive 5%-95% band of `n(R - sigma^2)` (`PredictiveLaw` over the
      /// bootstrap replicates) covers the realised value of one fresh two-stage run (exact conditional risk,
      /// Proposition B.1); nominal 0.90. NaN when the study was run without it (`runWith false`).
      PredictiveBandCoverage: float
      /// The same fraction for the 5%-95% band of the limit law at the estimate (Theorem 5.1 plugged in).
      EstimatedLawBandCoverage: float
      /// The same fraction for the band of the true limit law (the asymptotic error alone).
      TrueLawBandCoverage: float
      /// The realised `n(R - sigma^2)` of each data set's fresh run (on which the estimator succeeded).
      Realised: float[]
      /// The predictive band's 5% quantile on each data set (NaN without it).
      PredictiveQ05: float[]
      /// The predictive band's 95% quantile on each data set.
      PredictiveQ95: float[]
      /// Data sets on which the estimator failed on the data as given (typed error, e.g. EM did not converge),
      /// with the reason; they are left out of every figure above.
      Failures: string[]
      /// Bootstrap replicates that failed, summed over the data sets.
      BootstrapFailures: int }

/// What a validation study needs from a model with known parameters.
type ValidationCase =
    { /// The plug-in on the data as given.
      Estimator: PlugInEstimator
      /// The plug-in on the bootstrap resamples, given the estimate on the data.
      ReplicateEstimator: PlugInEstimate -> PlugInEstimator
      /// Data set from the known parameters: `m` unlabelled rows and `n` labelled rows from a generator.
      Simulate: int -> int -> Random -> PredictionData
      /// The limit law's summary at the true parameters.
      Truth: AsymptoticSummary
      /// `n(R - sigma^2)` of one fresh run of the actual two-stage pipeline at sizes `m`, `n` (exact conditional
      /// risk, Proposition B.1), from the study seed and the data set's index.
      RealisedRisk: int -> int -> uint64 -> int -> float }

/// The validation study of a plug-in (docs/predict.md, "Validation").
[<RequireQualifiedAccess>]
module PlugInValidation =

    /// A seeded `System.Random` for data set `s` and purpose `purpose` (independent streams).
    let random (seed: uint64) (purpose: int) (s: int) =
        let r = ReplicateStreams.derive seed purpose s
        Random(int (r.NextUInt64() >>> 33))

    /// Runs the study: `dataSets` data sets of `m` unlabelled and `n` labelled rows (`c.Simulate` from the stream
    /// `(seed, 3, s)`), `bootstrap` replicates each (seeded by `seed`; `threads` workers for the bootstrap, results
    /// independent of it), the predictive band at `n` and `alpha = m/n` when `predictive` (`PredictiveLaw`,
    /// `PredictiveLaw.DefaultDraws` draws over the replicates, seeded like the bootstrap; without it the study
    /// skips its `2000 n p^2 / 2` work per data set and reports NaN), and one fresh pipeline run per data set
    /// (`c.RealisedRisk`).
    let runWith (predictive: bool) (c: ValidationCase) (m: int) (n: int) (dataSets: int) (bootstrap: int) (level: float) (seed: uint64) (threads: int) : ValidationStudy =
        if dataSets < 2 then Check.fail "dataSets" (sprintf "must be >= 2, got %d" dataSets)
        if bootstrap < 2 then Check.fail "bootstrap" (sprintf "must be >= 2, got %d" bootstrap)
        let truePm = AsymptoticSummary.pretrainMean c.Truth
        let alpha = float m / float n
        let trueLaw = AsymptoticSummary.limitLaw alpha c.Truth
        let tq05, tq95 = LimitLaw.quantile trueLaw 0.05, LimitLaw.quantile trueLaw 0.95
        let outcomes =
            Array.init dataSets (fun s ->
                let data = c.Simulate m n (random seed 3 s)
                let estimated =
                    try Ok(c.Estimator data (Array.create m 1.0) (Array.create n 1.0))
                    with
                    | :? InvalidArgumentException as e -> Error(sprintf "data set %d: %s" s e.Message)
                    | :? FunctionalAsymptoticsException as e -> Error(sprintf "data set %d: %s" s e.Message)
                match estimated with
                | Error e -> Error e
                | Ok est ->
                    let pm = AsymptoticSummary.pretrainMean est.Summary
                    let again = c.ReplicateEstimator est
                    let bseed = seed + uint64 s * 7919UL
                    let t = if predictive then PredictiveLaw.varianceFactorsOf est n bseed threads else [||]
                    let results = Bootstrap.run bseed bootstrap threads m n (fun wu wl -> (again data wu wl).Summary)
                    let fits = results |> Array.choose (function Ok x -> Some x | Error _ -> None)
                    let iv = Bootstrap.interval level pm (fits |> Array.map AsymptoticSummary.pretrainMean)
                    let law = AsymptoticSummary.limitLaw alpha est.Summary
                    let band =
                        if predictive then
                            let p = PredictiveLaw.at alpha (PredictiveLaw.ofFits est fits t PredictiveLaw.DefaultDraws bseed threads)
                            p.Q05, p.Q95
                        else nan, nan
                    let realised = c.RealisedRisk m n seed s
                    let inside lo hi = if realised >= lo && realised <= hi then 1.0 else 0.0
                    Ok {| Estimate = pm; Interval = iv; Realised = realised; Predictive = band
                          EstimatedLaw = inside (LimitLaw.quantile law 0.05) (LimitLaw.quantile law 0.95)
                          TrueLaw = inside tq05 tq95; Failed = results.Length - fits.Length |})
        let rows = outcomes |> Array.choose (function Ok r -> Some r | Error _ -> None)
        if rows.Length < 2 then Check.fail "dataSets" (sprintf "the estimator failed on %d of %d data sets" (dataSets - rows.Length) dataSets)
        let estimates = rows |> Array.map (fun r -> r.Estimate)
        let ses = rows |> Array.map (fun r -> r.Interval.StdErr)
        let mean = Array.average estimates
        { DataSets = dataSets; Bootstrap = bootstrap; Level = level; TruePretrainMean = truePm
          Estimates = estimates; StdErrs = ses
          Coverage = rows |> Array.averageBy (fun r -> if r.Interval.Lower <= truePm && truePm <= r.Interval.Upper then 1.0 else 0.0)
          Rmse = sqrt (estimates |> Array.averageBy (fun e -> (e - truePm) ** 2.0))
          MeanStdErr = Array.average ses
          SpreadOfEstimates = sqrt ((estimates |> Array.sumBy (fun e -> (e - mean) ** 2.0)) / float (rows.Length - 1))
          PredictiveBandCoverage =
            if predictive then rows |> Array.averageBy (fun r -> if r.Realised >= fst r.Predictive && r.Realised <= snd r.Predictive then 1.0 else 0.0)
            else nan
          EstimatedLawBandCoverage = rows |> Array.averageBy (fun r -> r.EstimatedLaw)
          TrueLawBandCoverage = rows |> Array.averageBy (fun r -> r.TrueLaw)
          Realised = rows |> Array.map (fun r -> r.Realised)
          PredictiveQ05 = rows |> Array.map (fun r -> fst r.Predictive)
          PredictiveQ95 = rows |> Array.map (fun r -> snd r.Predictive)
          Failures = outcomes |> Array.choose (function Error e -> Some e | Ok _ -> None)
          BootstrapFailures = rows |> Array.sumBy (fun r -> r.Failed) }

    /// `runWith true`: the study with the predictive band.
    let run (c: ValidationCase) (m: int) (n: int) (dataSets: int) (bootstrap: int) (level: float) (seed: uint64) (threads: int) : ValidationStudy =
        runWith true c m n dataSets bootstrap level seed threads

    /// The least-squares slope of `log RMSE` against `log m` over studies at several sizes (`-1/2` for a
    /// root-m consistent estimator).
    let rmseSlope (sizes: int[]) (studies: ValidationStudy[]) : float =
        Check.sameLength "studies" sizes.Length studies.Length
        let xs = sizes |> Array.map (float >> log)
        let ys = studies |> Array.map (fun s -> log s.Rmse)
        let mx, my = Array.average xs, Array.average ys
        (Array.fold2 (fun acc x y -> acc + (x - mx) * (y - my)) 0.0 xs ys) / (xs |> Array.sumBy (fun x -> (x - mx) ** 2.0))
