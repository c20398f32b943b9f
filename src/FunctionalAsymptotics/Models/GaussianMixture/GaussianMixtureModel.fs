namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Simulation

/// The Gaussian mixture with subspace-gated features (paper Section 6.3, eqs. (6.3)-(6.4), Appendices J-K;
/// docs/case-studies.md §3) as a `Model`. Its specification is the generic one (per-sample negative
/// log-likelihood with its analytic score and Hessian, `S_K` permuting the centres and the K feature
/// blocks, the sampled features `psi_U(x)` with their forward derivative); its population moments have no
/// closed form, so the law comes from the model's specialised providers (`GaussianMixturePretraining.estimate`:
/// routes `quadrature` (closed forms off the span of the centres, Gauss–Hermite on it; the default where
/// `preferredRoute` chooses it), `specialised` and `generic` (Monte Carlo)), which return the engine's result
/// type with the error of `E||L(Z)||^2`.
[<RequireQualifiedAccess>]
module GaussianMixtureModel =

    /// The route name of a mixture computation.
    let routeName (route: MixtureRoute) = match route with Specialised -> "specialised" | Generic -> "generic" | Quadrature -> "quadrature"

    /// The engine's result from a mixture estimate: `d_eff`, `d_base`, the weights and the standard error of
    /// `E||L(Z)||^2 = tr(V G)`.
    let lawOf (sigma2: float) (m: MixtureLimit) : ModelLaw =
        { Summary =
            { Route = routeName m.Route; DEff = m.DEff; DBase = m.DBase; Sigma2 = sigma2
              Gram = m.G; Covariance = Linalg.zeros 0 0; Weights = m.Weights |> Array.filter (fun w -> w > 0.0) }
          PretrainMeanStdErr = m.PretrainMeanStdErr }

    /// The specification at `U* = beta I_{K,d}`, `theta*` of norm `thetaNorm` (1: the paper's text; 10: the
    /// authors' code), noise `sigma2`; the sampled representation uses `samples` draws of `x ~ mu_down` (the
    /// mixture) from `seed`. `r* = K - 1`.
    let spec (k: int) (d: int) (beta: float) (thetaNorm: float) (sigma2: float) (samples: int) (seed: int) : ModelSpec<float[]> =
        let u0 = GaussianMixture.uStar k d beta
        if not (sigma2 >= 0.0) || Double.IsInfinity sigma2 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
        let rStar = k - 1
        // The projector of the feature map depends on U only; cache the last one (one eigendecomposition per U).
        let mutable cached : (Matrix<float> * GaussianMixture.Projector) option = None
        let projector (u: Matrix<float>) =
            match cached with
            | Some (v, pr) when obj.ReferenceEquals(v, u) -> pr
            | _ ->
                let pr = GaussianMixture.projector rStar u
                cached <- Some(u, pr)
                pr
        let vec (g: float[]) = Linalg.ofColumnMajor d k g
        { Name = sprintf "gmm(K=%d, d=%d, beta=%g)" k d beta
          Action = GroupAction.permutationBlocks d k (d + 1)
          WStar = u0
          Pretraining =
            { Loss = GaussianMixtureLoss.loss
              Gradient = Some(fun u z -> vec (GaussianMixture.score u z))
              HessianVector = Some(fun u z v -> vec ((GaussianMixture.hessian u z * MathNet.Numerics.LinearAlgebra.Double.DenseVector(Linalg.values v)).ToArray()))
              Sample = fun rng -> snd (GaussianMixture.sample u0 rng) }
          Population = None
          Representation =
            Sampled
                { Features = fun u x -> GaussianMixture.features (projector u) u x
                  FeatureDifferential = fun u x du -> GaussianMixture.featureDerivative (projector u) u x du
                  Sample = fun rng -> snd (GaussianMixture.sample u0 rng)
                  Count = samples
                  Seed = seed }
          ThetaStar = GaussianMixture.thetaStar k d thetaNorm
          Sigma2 = sigma2 }

    /// The model: the specification, the specialised and generic Monte Carlo providers with options `o`
    /// (`o.ThetaNorm` is replaced by `thetaNorm`), and the simulation adapter (`GaussianMixturePipeline.create`
    /// with `populationDraws` draws per replicate and `emRestarts` EM starts).
    let create (k: int) (d: int) (beta: float) (thetaNorm: float) (sigma2: float) (populationDraws: int) (emRestarts: int) (o: MixtureOptions) : Model<float[]> =
        let o = { o with ThetaNorm = thetaNorm }
        let provider route = routeName route, fun () -> lawOf sigma2 (GaussianMixturePretraining.estimate route k d beta o)
        { Model.ofSpec (spec k d beta thetaNorm sigma2 o.GramSamples o.Seed) with
            Specialised =
                // The preferred route first (the quadrature where it converges fast), then the others.
                let preferred = GaussianMixturePretraining.preferredRoute k beta
                provider preferred :: [ for r in [ Quadrature; Specialised; Generic ] do if r <> preferred then yield provider r ]
            Simulation = Some(fun alpha -> GaussianMixturePipeline.create k d beta thetaNorm sigma2 populationDraws emRestarts o alpha) }

    /// Registry entry `gmm` (parameters K, d, beta, theta-norm, sigma2, population-draws, em-restarts).
    let entry : ModelEntry =
        { Name = "gmm"
          Summary = "Gaussian mixture with subspace-gated features (Section 6.3), EM pre-training, population moments by per-replicate Monte Carlo"
          Parameters =
            [ { Name = "K"; Default = 4.0; Description = "number of components" }
              { Name = "d"; Default = 20.0; Description = "dimension" }
              { Name = "beta"; Default = 2.0; Description = "centre scale, U* = beta I_{K,d}" }
              { Name = "theta-norm"; Default = 1.0; Description = "norm of theta* (1: paper text; 10: authors' code)" }
              { Name = "sigma2"; Default = 1.0; Description = "downstream noise variance" }
              { Name = "population-draws"; Default = 200000.0; Description = "draws per replicate for the population moments at the fitted centres" }
              { Name = "em-restarts"; Default = 2.0; Description = "k-means++ starts of EM" } ]
          Create =
            fun p ->
                let whole name = ModelParameter.whole name 1 1_000_000_000 p.[name]
                create (whole "K") (whole "d") p.["beta"] p.["theta-norm"] p.["sigma2"] (whole "population-draws") (whole "em-restarts")
                    GaussianMixturePretraining.defaultOptions
                |> Model.instance }
