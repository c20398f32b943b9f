namespace FunctionalAsymptotics.Models

open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Simulation

/// The simulation adapter of the linear factor model (docs/case-studies.md §2): each replicate draws the
/// pre-training data, fits the PPCA closed form (the MLE), draws the `n`-point Gaussian design, and computes
/// `E_mn` and its parts exactly by Proposition B.1 (`PopulationMomentError = 0`). The law is the engine's
/// horizontal-lift route (Theorem 5.1), which corrects the printed Corollary 6.4 (docs/errata.md).
///
/// Both stages see their data only through a scatter matrix: the PPCA MLE through `S_m = X^T X / m`
/// (Lemma I.1), the conditional risk through the design's `X^T X` (Proposition B.1; the labels' noise is
/// integrated out). With rows i.i.d. `N(0, S*)`, `S* = I + A* A*^T`, each scatter matrix is drawn straight from
/// its law `W_d(m, S*)` resp. `W_d(n, S*)` by `Wishart.scatter` (Bartlett's decomposition, `d (d + 1) / 2`
/// draws instead of `(m + n)(d + k)`): the same joint law of `(A_hat, X^T X)`, hence of every replicate.
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
        let root = sStar.Cholesky().Factor
        PipelineModel.exact "factor" alpha summary (
            fun ctx ->
                let rng = new StreamRandom(ctx.Rng)
                let aHat = Factor.fitPpcaCovariance k (Wishart.scatter rng ctx.M root / float ctx.M)
                let scatter = Wishart.scatter rng ctx.N root
                ReplicateOutcome.ofRisk ctx.N (ConditionalRisk.linearGaussianScatter sStar sp.Sigma2 b (Factor.featureMatrix aHat) scatter ctx.N))
