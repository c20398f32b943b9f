namespace FunctionalAsymptotics.Prediction

open System
open System.Collections.Concurrent
open FunctionalAsymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Simulation

/// Known parameters of the Gaussian mixture for the validation study (paper Section 6.3, Appendix K):
/// centres `U* = beta I_{K,d}`, `theta*` of norm `ThetaNorm` (`GaussianMixture.thetaStar`), noise `Sigma2`.
type MixtureValidationConfig =
    { /// Number of components `K >= 2`.
      K: int
      /// Dimension `d >= K`.
      D: int
      /// Separation `beta` of the centres.
      Beta: float
      /// Norm of `theta*`.
      ThetaNorm: float
      /// Downstream noise variance `sigma^2`.
      Sigma2: float
      /// Draws per pipeline run for the population moments at the fitted centres
      /// (`GaussianMixturePipeline.create`).
      PopulationDraws: int }

/// The validation study of the mixture plug-in (docs/predict.md, "Validation"): data from known
/// parameters, the truth by the population computation (`GaussianMixturePretraining.estimate` by
/// `preferredRoute`: the quadrature route for `K <= 5`, `beta <= 2.5`), the realised risk by the actual
/// two-stage pipeline (`GaussianMixturePipeline`: EM, least squares, exact conditional risk of Proposition B.1).
[<RequireQualifiedAccess>]
module MixtureValidation =

    /// The population limit at the true parameters.
    let truth (cfg: MixtureValidationConfig) : MixtureLimit =
        GaussianMixturePretraining.estimate (GaussianMixturePretraining.preferredRoute cfg.K cfg.Beta) cfg.K cfg.D cfg.Beta
            { GaussianMixturePretraining.defaultOptions with ThetaNorm = cfg.ThetaNorm }

    /// A data set: `m` unlabelled rows of the mixture and `n` labelled rows `(x, y)`,
    /// `y = theta*^T psi_{U*}(x) + sigma nu` (6.4), `nu ~ N(0, 1)`; columns `x1..xd` and `y`.
    let simulate (cfg: MixtureValidationConfig) (m: int) (n: int) (rng: Random) : PredictionData =
        let u = GaussianMixture.uStar cfg.K cfg.D cfg.Beta
        let pr = GaussianMixture.projector (cfg.K - 1) u
        let theta = GaussianMixture.thetaStar cfg.K cfg.D cfg.ThetaNorm
        let columns = Array.init cfg.D (fun j -> sprintf "x%d" (j + 1))
        let xu = Array.init m (fun _ -> snd (GaussianMixture.sample u rng)) |> Array.concat
        let labelled =
            Array.init n (fun _ ->
                let x = snd (GaussianMixture.sample u rng)
                let f = Array.fold2 (fun acc a b -> acc + a * b) 0.0 theta (GaussianMixture.features pr u x)
                Array.append x [| f + sqrt cfg.Sigma2 * Linalg.gaussian rng |])
            |> Array.concat
        DataFile.pair 1 (DataFile.ofArray "unlabelled" columns xu) (DataFile.ofArray "labelled" (Array.append columns [| DataFile.LabelColumn |]) labelled)

    /// The study's case with EM settings `o`: the plug-in (`MixturePlugIn.estimator`, bootstrap replicates by
    /// `MixturePlugIn.replicateEstimator`), the truth (`truth`), and the realised `n(R - sigma^2)` of one fresh
    /// pipeline run per data set (`GaussianMixturePipeline.create` with `o.Restarts` EM starts, the stream
    /// `(seed, 4, s)`).
    let case (o: EmOptions) (cfg: MixtureValidationConfig) : ValidationCase =
        let limit = truth cfg
        let pipelines = ConcurrentDictionary<float, PipelineModel>()
        let pipeline alpha =
            pipelines.GetOrAdd(alpha, fun a ->
                GaussianMixturePipeline.create cfg.K cfg.D cfg.Beta cfg.ThetaNorm cfg.Sigma2 cfg.PopulationDraws o.Restarts
                    GaussianMixturePretraining.defaultOptions a)
        { Estimator = MixturePlugIn.estimator o cfg.K
          ReplicateEstimator = fun e -> MixturePlugIn.replicateEstimator o e.Representation
          Simulate = simulate cfg
          Truth = (GaussianMixtureModel.lawOf cfg.Sigma2 limit).Summary
          RealisedRisk =
            fun m n seed s ->
                let p = pipeline (float m / float n)
                (p.Replicate { N = n; M = m; Replicate = s; Rng = ReplicateStreams.derive seed 4 s }).Total }

    /// Runs the study (`PlugInValidation.run`) with the default EM settings.
    let run (cfg: MixtureValidationConfig) (m: int) (n: int) (dataSets: int) (bootstrap: int) (level: float) (seed: uint64) (threads: int) : ValidationStudy =
        PlugInValidation.run (case MixturePlugIn.defaultEmOptions cfg) m n dataSets bootstrap level seed threads
