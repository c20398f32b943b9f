namespace FunctionalAsymptotics.Prediction

open System
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Simulation

/// The outcome of the factor model's validation study (docs/predict.md): over independent seeded data sets
/// simulated from known parameters, how often the bootstrap interval covers the true `E||L(Z)||^2`, how the
/// bootstrap standard error compares with the spread of the estimates, and how often the predicted 5%-95%
/// band of `n(R - sigma^2)` covers the realised risk of a fresh run of the two-stage pipeline.
type FactorValidationStudy =
    { /// Data sets simulated.
      DataSets: int
      /// Bootstrap replicates per data set.
      Bootstrap: int
      /// The interval level (e.g. 0.95).
      Level: float
      /// The true `E||L(Z)||^2` (horizontal route at the true parameters).
      TruePretrainMean: float
      /// The estimates on each data set.
      Estimates: float[]
      /// The bootstrap standard errors on each data set.
      StdErrs: float[]
      /// Fraction of data sets whose percentile interval covers the truth.
      Coverage: float
      /// Root mean square error of the estimates.
      Rmse: float
      /// Mean of the bootstrap standard errors.
      MeanStdErr: float
      /// Standard deviation of the estimates over the data sets (what the standard error estimates).
      SpreadOfEstimates: float
      /// Fraction of data sets whose predicted 5%-95% band of `n(R - sigma^2)` (at the estimate) covers the
      /// realised value of one fresh two-stage run (exact conditional risk, Proposition B.1); nominal 0.90.
      RiskBandCoverage: float
      /// The same fraction for the band of the true limit law (the asymptotic error alone).
      TrueLawBandCoverage: float }

/// The validation study of the factor plug-in.
[<RequireQualifiedAccess>]
module FactorValidation =

    /// A seeded `System.Random` for data set `s` and purpose `purpose` (independent streams).
    let private random (seed: uint64) (purpose: int) (s: int) =
        let r = ReplicateStreams.derive seed purpose s
        Random(int (r.NextUInt64() >>> 33))

    /// Data set `s`: `m` unlabelled rows and `n` labelled rows (columns `x1..xd`, `y`) from `cfg`.
    let simulate (cfg: FactorConfig) (m: int) (n: int) (rng: Random) : PredictionData =
        let d = cfg.Loadings.RowCount
        let columns = Array.init d (fun j -> sprintf "x%d" (j + 1))
        let xu = Array.init m (fun _ -> Factor.sample cfg rng) |> Array.concat
        let xl, y = Factor.sampleDownstream cfg n rng
        let labelled = Array.init n (fun i -> Array.append (xl.Row(i).ToArray()) [| y.[i] |]) |> Array.concat
        DataFile.pair 1 (DataFile.ofArray "unlabelled" columns xu) (DataFile.ofArray "labelled" (Array.append columns [| DataFile.LabelColumn |]) labelled)

    /// The realised `n(R - sigma^2)` of one fresh two-stage run at sizes `m`, `n`: PPCA on `m` new samples,
    /// least squares on `n` new downstream samples, the exact conditional risk (Proposition B.1).
    let realisedRisk (cfg: FactorConfig) (m: int) (n: int) (rng: Random) : float =
        let k = cfg.Loadings.ColumnCount
        let spec = Factor.spec cfg
        let x = DenseMatrix.OfRowArrays(Array.init m (fun _ -> Factor.sample cfg rng))
        let a = Factor.fitPpca k x
        let design, _ = Factor.sampleDownstream cfg n rng
        float n * (ConditionalRisk.linearGaussian (Factor.covariance cfg) spec.Sigma2 (ModelSpec.targetCoefficients spec) (Factor.featureMatrix a) design).Excess

    /// Runs the study: `dataSets` data sets of `m` unlabelled and `n` labelled rows from `cfg`, `bootstrap`
    /// replicates each (seeded by `seed`; `threads` workers for the bootstrap, results independent of it).
    let run (cfg: FactorConfig) (m: int) (n: int) (dataSets: int) (bootstrap: int) (level: float) (seed: uint64) (threads: int) : FactorValidationStudy =
        if dataSets < 2 then Check.fail "dataSets" (sprintf "must be >= 2, got %d" dataSets)
        if bootstrap < 2 then Check.fail "bootstrap" (sprintf "must be >= 2, got %d" bootstrap)
        let k = cfg.Loadings.ColumnCount
        let truth = TwoStage.horizontal (Factor.spec cfg)
        let truePm = AsymptoticSummary.pretrainMean truth
        let alpha = float m / float n
        let trueLaw = AsymptoticSummary.limitLaw alpha truth
        let tq05, tq95 = LimitLaw.quantile trueLaw 0.05, LimitLaw.quantile trueLaw 0.95
        let estimator = FactorPlugIn.estimator k
        let rows =
            Array.init dataSets (fun s ->
                let data = simulate cfg m n (random seed 3 s)
                let est = estimator data (Array.create m 1.0) (Array.create n 1.0)
                let pm = AsymptoticSummary.pretrainMean est.Summary
                let draws =
                    Bootstrap.run (seed + uint64 s * 7919UL) bootstrap threads m n (fun wu wl -> AsymptoticSummary.pretrainMean (estimator data wu wl).Summary)
                    |> Array.choose (function Ok x -> Some x | Error _ -> None)
                let iv = Bootstrap.interval level pm draws
                let law = AsymptoticSummary.limitLaw alpha est.Summary
                let realised = realisedRisk cfg m n (random seed 4 s)
                let inside lo hi = if realised >= lo && realised <= hi then 1.0 else 0.0
                pm, iv, inside (LimitLaw.quantile law 0.05) (LimitLaw.quantile law 0.95), inside tq05 tq95)
        let estimates = rows |> Array.map (fun (pm, _, _, _) -> pm)
        let ses = rows |> Array.map (fun (_, iv, _, _) -> iv.StdErr)
        let mean = Array.average estimates
        { DataSets = dataSets; Bootstrap = bootstrap; Level = level; TruePretrainMean = truePm
          Estimates = estimates; StdErrs = ses
          Coverage = rows |> Array.averageBy (fun (_, iv, _, _) -> if iv.Lower <= truePm && truePm <= iv.Upper then 1.0 else 0.0)
          Rmse = sqrt (estimates |> Array.averageBy (fun e -> (e - truePm) ** 2.0))
          MeanStdErr = Array.average ses
          SpreadOfEstimates = sqrt ((estimates |> Array.sumBy (fun e -> (e - mean) ** 2.0)) / float (dataSets - 1))
          RiskBandCoverage = rows |> Array.averageBy (fun (_, _, c, _) -> c)
          TrueLawBandCoverage = rows |> Array.averageBy (fun (_, _, _, c) -> c) }

    /// The least-squares slope of `log RMSE` against `log m` over studies at several sizes (`-1/2` for a
    /// root-m consistent estimator).
    let rmseSlope (sizes: int[]) (studies: FactorValidationStudy[]) : float =
        Check.sameLength "studies" sizes.Length studies.Length
        let xs = sizes |> Array.map (float >> log)
        let ys = studies |> Array.map (fun s -> log s.Rmse)
        let mx, my = Array.average xs, Array.average ys
        (Array.fold2 (fun acc x y -> acc + (x - mx) * (y - my)) 0.0 xs ys) / (xs |> Array.sumBy (fun x -> (x - mx) ** 2.0))
