namespace FunctionalAsymptotics.Models

open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Simulation

/// The simulation adapter of the linear factor model (docs/case-studies.md §2): each replicate draws `m`
/// pre-training samples, fits the PPCA closed form (the MLE), draws the `n`-point Gaussian design with its
/// labels, and computes `E_mn` and its parts exactly by Proposition B.1 (`PopulationMomentError = 0`). The
/// law is the engine's horizontal-lift route (Theorem 5.1), which corrects the printed Corollary 6.4
/// (docs/errata.md).
[<RequireQualifiedAccess>]
module FactorPipeline =

    /// The pipeline at `alpha` for a configuration; `sigma^2` is derived from the model.
    let create (cfg: FactorConfig) (alpha: float) : PipelineModel =
        Check.positive "alpha" alpha
        let sp = Factor.spec cfg
        let k = cfg.Loadings.ColumnCount
        let summary = TwoStage.horizontal sp
        let b = ModelSpec.targetCoefficients sp
        let sStar = Factor.covariance cfg
        PipelineModel.exact "factor" alpha summary (
            fun ctx ->
                let rng = new StreamRandom(ctx.Rng)
                let x = DenseMatrix.OfRowArrays(Array.init ctx.M (fun _ -> Factor.sample cfg rng))
                let aHat = Factor.fitPpca k x
                let design, _ = Factor.sampleDownstream cfg ctx.N rng
                ReplicateOutcome.ofRisk ctx.N (ConditionalRisk.linearGaussian sStar sp.Sigma2 b (Factor.featureMatrix aHat) design))
