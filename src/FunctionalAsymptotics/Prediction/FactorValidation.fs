namespace FunctionalAsymptotics.Prediction

open System
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Simulation

/// The factor model's study (the same record).
type FactorValidationStudy = ValidationStudy

/// The validation study of the factor plug-in.
[<RequireQualifiedAccess>]
module FactorValidation =

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

    /// The study's case: the factor plug-in with `k` = the loadings' columns, the truth by the horizontal route
    /// at the true parameters (equal to the corrected Cor. 6.4), `realisedRisk` from the stream `(seed, 4, s)`.
    let case (cfg: FactorConfig) : ValidationCase =
        let estimator = FactorPlugIn.estimator cfg.Loadings.ColumnCount
        { Estimator = estimator
          ReplicateEstimator = fun _ -> estimator
          Simulate = simulate cfg
          Truth = TwoStage.horizontal (Factor.spec cfg)
          RealisedRisk = fun m n seed s -> realisedRisk cfg m n (PlugInValidation.random seed 4 s) }

    /// Runs the study (`PlugInValidation.run`): `dataSets` data sets of `m` unlabelled and `n` labelled rows
    /// from `cfg`, `bootstrap` replicates each (seeded by `seed`; `threads` workers for the bootstrap, results
    /// independent of it).
    let run (cfg: FactorConfig) (m: int) (n: int) (dataSets: int) (bootstrap: int) (level: float) (seed: uint64) (threads: int) : FactorValidationStudy =
        PlugInValidation.run (case cfg) m n dataSets bootstrap level seed threads

    /// `PlugInValidation.rmseSlope`.
    let rmseSlope (sizes: int[]) (studies: FactorValidationStudy[]) : float = PlugInValidation.rmseSlope sizes studies
