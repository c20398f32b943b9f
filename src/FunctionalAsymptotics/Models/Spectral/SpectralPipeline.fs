namespace FunctionalAsymptotics.Models

open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Simulation

/// The simulation adapter of the spectral contrastive model (docs/case-studies.md §1): each replicate draws
/// `m` pre-training samples (`Spectral.sample`'s construction from standard normals drawn in bulk), fits them with the model's estimator, draws the `n`-point Gaussian design, and computes `E_mn` and its parts exactly by Proposition B.1 (`ConditionalRisk.linearGaussianScatter`:
/// the features are linear and the design Gaussian, so every population moment is exact and
/// `PopulationMomentError = 0`). The risk depends on the design only through `X^T X` (the labels' noise is
/// integrated out), so the design's scatter matrix is drawn straight from its law `W_d(n, I)` by
/// `Wishart.scatter` (Bartlett's decomposition) instead of `n d` normals: the same law of every replicate.
/// The law is the engine's horizontal-lift route (Theorem 5.1), which corrects the printed Corollary 6.3
/// (docs/errata.md).
[<RequireQualifiedAccess>]
module SpectralPipeline =

    /// The pipeline at `alpha` for a configuration. Pre-training: the numerical minimiser from the spectral
    /// start plus one seeded random start (gradient norm <= 1e-10, else the replicate fails with
    /// `ConvergenceException`).
    let create (cfg: SpectralConfig) (alpha: float) : PipelineModel =
        Spectral.validate cfg
        Check.positive "alpha" alpha
        let summary = TwoStage.horizontal (Spectral.spec cfg)
        let b = Spectral.aStar(cfg).TransposeThisAndMultiply(Linalg.vector cfg.Beta).ToArray()
        let eye = Linalg.eye cfg.D
        PipelineModel.exact "spectral" alpha summary (
            fun ctx ->
                let rng = new StreamRandom(ctx.Rng)
                // The m samples' 3d standard normals in bulk (vectorised Box–Muller, `ReplicateRng.FillNormal`).
                let normals = Array.zeroCreate (ctx.M * 3 * cfg.D)
                ctx.Rng.FillNormal(System.Span normals)
                let zs = Array.init ctx.M (fun s -> let z = Array.sub normals (s * 3 * cfg.D) (3 * cfg.D) in Spectral.ofStandardNormals cfg z; z)
                let fit = Spectral.fit cfg.K 1 (rng.Next()) (Spectral.statistics cfg.D zs)
                if not (fit.GradientNorm <= 1e-10) then
                    raise (ConvergenceException("spectral pre-training (Riemannian Newton)", 0, fit.GradientNorm, 1e-10))
                let scatter = Wishart.scatter rng ctx.N eye
                ReplicateOutcome.ofRisk ctx.N (ConditionalRisk.linearGaussianScatter eye cfg.Sigma2 b fit.Point scatter ctx.N))
