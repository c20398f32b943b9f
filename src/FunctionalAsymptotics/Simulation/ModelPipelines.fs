namespace FunctionalAsymptotics.Simulation

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

/// A `System.Random` whose every draw comes from a replicate's counter-based stream, so that the model
/// generators (written against `System.Random`) draw only from `(seed, n, r)`: `Sample`, `NextDouble`,
/// `Next` and `NextBytes` all read `ReplicateRng`, never the base class's state.
type internal StreamRandom(rng: ReplicateRng) =
    inherit Random(0)
    override _.Sample() = rng.NextDouble()
    override _.NextDouble() = rng.NextDouble()
    override _.Next() = int (rng.NextUInt64() >>> 33)
    override _.Next(maxValue: int) =
        if maxValue < 0 then Check.fail "maxValue" "must be >= 0"
        int (rng.NextDouble() * float maxValue)
    override _.Next(minValue: int, maxValue: int) =
        if maxValue < minValue then Check.fail "maxValue" "must be >= minValue"
        minValue + int (rng.NextDouble() * (float maxValue - float minValue))
    override _.NextBytes(buffer: byte[]) =
        for i in 0 .. buffer.Length - 1 do buffer.[i] <- byte (rng.NextUInt64() >>> 56)
    override this.NextBytes(buffer: Span<byte>) =
        for i in 0 .. buffer.Length - 1 do buffer.[i] <- byte (rng.NextUInt64() >>> 56)

/// Simulation adapters for the spectral and factor models (docs/case-studies.md §1-2): each replicate
/// draws `m` pre-training samples, fits them with the model's estimator, draws the `n`-point Gaussian
/// design with its labels, and computes `E_mn` and its parts exactly by Proposition B.1
/// (`ConditionalRisk.linearGaussian`: the features are linear and the design Gaussian, so every population
/// moment is exact and `PopulationMomentError = 0`). The law is the engine's horizontal-lift route
/// (Theorem 5.1), which corrects the printed Corollaries 6.3 and 6.4 (docs/errata.md).
[<RequireQualifiedAccess>]
module ModelPipelines =

    let private asInt (name: string) (x: float) =
        if x <> Math.Round x || x < 1.0 || x > 1e6 then Check.fail name (sprintf "must be a whole number >= 1, got %g" x)
        int x

    let private outcome (n: int) (risk: RiskDecomposition) : ReplicateOutcome =
        let nf = float n
        { Total = nf * (risk.Rep + risk.Leak + risk.Var)
          Pretrain = nf * risk.Rep
          Leak = nf * risk.Leak
          Variance = nf * risk.Var }

    /// The spectral contrastive model with `C = diag(1, 1/2, .., 1/d)`, `Sigma_pre = I`, `beta* = 1`,
    /// `mu_down = N(0, I)` (the configuration of `fa spectral`). Pre-training: the numerical minimiser
    /// from the spectral start plus one seeded random start (gradient norm <= 1e-10, else the replicate
    /// fails with `ConvergenceException`).
    let spectral (d: int) (k: int) (sigma2: float) (alpha: float) : PipelineModel =
        if k < 1 || k >= d then Check.fail "k" (sprintf "need 1 <= k < d, got d = %d, k = %d" d k)
        Check.positive "alpha" alpha
        if not (sigma2 >= 0.0) || Double.IsInfinity sigma2 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
        let cfg = Spectral.defaultConfig d k sigma2
        let summary = TwoStage.horizontal (Spectral.spec cfg)
        let b = Spectral.aStar(cfg).TransposeThisAndMultiply(DenseVector(cfg.Beta)).ToArray()
        let eye = Linalg.eye d
        { Name = "spectral"
          Law = AsymptoticSummary.limitLaw alpha summary
          SigmaSquaredDEff = sigma2 * float summary.DEff
          PopulationMomentError = 0.0
          Replicate =
            fun ctx ->
                let rng = new StreamRandom(ctx.Rng)
                let zs = Array.init ctx.M (fun _ -> Spectral.sample cfg rng)
                let fit = Spectral.fit k 1 (rng.Next()) (Spectral.statistics d zs)
                if not (fit.GradientNorm <= 1e-10) then
                    raise (ConvergenceException("spectral pre-training (Riemannian Newton)", 0, fit.GradientNorm, 1e-10))
                let design, _ = Spectral.sampleDownstream cfg ctx.N rng
                outcome ctx.N (ConditionalRisk.linearGaussian eye sigma2 b fit.Point design) }

    /// The factor model `x = A* h + mu` with loadings drawn by `Factor.drawLoadings seed d k` (as
    /// `fa factor --d D --k K --seed N`), `beta*` and `sigma_nu^2`; `sigma^2` is derived from the model.
    /// Pre-training: the PPCA closed form (the MLE).
    let factor (d: int) (k: int) (loadingsSeed: int) (beta: float[]) (sigmaNu2: float) (alpha: float) : PipelineModel =
        if k < 1 || k >= d then Check.fail "k" (sprintf "need 1 <= k < d, got d = %d, k = %d" d k)
        Check.positive "alpha" alpha
        Check.sameLength "beta" k beta.Length
        let cfg = { Loadings = Factor.drawLoadings loadingsSeed d k; Beta = beta; SigmaNu2 = sigmaNu2 }
        let sp = Factor.spec cfg
        let summary = TwoStage.horizontal sp
        let b = Estimation.ModelSpec.targetCoefficients sp
        let sStar = Factor.covariance cfg
        { Name = "factor"
          Law = AsymptoticSummary.limitLaw alpha summary
          SigmaSquaredDEff = sp.Sigma2 * float summary.DEff
          PopulationMomentError = 0.0
          Replicate =
            fun ctx ->
                let rng = new StreamRandom(ctx.Rng)
                let x = DenseMatrix.OfRowArrays(Array.init ctx.M (fun _ -> Factor.sample cfg rng))
                let aHat = Factor.fitPpca k x
                let design, _ = Factor.sampleDownstream cfg ctx.N rng
                outcome ctx.N (ConditionalRisk.linearGaussian sStar sp.Sigma2 b (Factor.featureMatrix aHat) design) }

    /// Registry entry `spectral` (parameters d, k, sigma2).
    let spectralFactory : ModelFactory =
        { Name = "spectral"
          Summary = "linear spectral contrastive model (Section 6.1), C = diag(1, 1/2, .., 1/d), beta* = 1; law by the horizontal route"
          Parameters =
            [ { Name = "d"; Default = 6.0; Description = "ambient dimension" }
              { Name = "k"; Default = 2.0; Description = "representation dimension, 1 <= k < d" }
              { Name = "sigma2"; Default = 1.0; Description = "downstream noise variance" } ]
          Create = fun alpha p -> spectral (asInt "d" p.["d"]) (asInt "k" p.["k"]) p.["sigma2"] alpha }

    /// Registry entry `factor` (parameters d, k, seed, sigma-nu2, beta; beta* = (beta, .., beta)).
    let factorFactory : ModelFactory =
        { Name = "factor"
          Summary = "linear factor model (Section 6.2), loadings N(0,1) from a seed, beta* = (beta, .., beta); law by the horizontal route"
          Parameters =
            [ { Name = "d"; Default = 8.0; Description = "ambient dimension" }
              { Name = "k"; Default = 2.0; Description = "number of factors, 1 <= k < d" }
              { Name = "seed"; Default = 1.0; Description = "seed of the loadings (Factor.drawLoadings)" }
              { Name = "sigma-nu2"; Default = 1.0; Description = "label noise variance sigma_nu^2" }
              { Name = "beta"; Default = 1.0; Description = "every entry of beta*" } ]
          Create =
            fun alpha p ->
                let k = asInt "k" p.["k"]
                factor (asInt "d" p.["d"]) k (asInt "seed" p.["seed"]) (Array.create k p.["beta"]) p.["sigma-nu2"] alpha }
