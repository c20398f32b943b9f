namespace FunctionalAsymptotics.Models

open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Simulation

/// A linear-Gaussian toy model whose limit law is known in closed form, for tests and as the smallest
/// example of a `Model` (its specification goes through the generic engine; route `closed` is the law
/// below).
///
/// - Pre-training: `m` i.i.d. matrices `Z_j ~ W* + s N(0, I_{d x k})`; the estimator is their mean
///   `W_m`, which is exactly `W* + (s / sqrt m) N(0, I)`. The replicate draws this sufficient statistic
///   directly (`d k` normals), so its cost does not grow with `m`.
/// - Features `phi(x, W) = W^T x in R^k`, design `x ~ N(0, I_d)`, target `f_star(x) = beta*^T x` with
///   `beta* = W* theta*` (well specified), `W* = I_{d,k}` (first `k` coordinate vectors), `theta*`
///   proportional to `(1, 1/2, ..., 1/k)` with unit norm; label noise variance `sigma^2`.
/// - Population moments are exact: `Sigma(W) = W^T W`, `theta_pop = Sigma^-1 W^T beta*`,
///   `Rep = ||beta* - W theta_pop||^2`; the design moments `Sigma_n`, `(1/n) sum phi f_star` are
///   accumulated over the `n` drawn points, and Proposition B.1 gives the three parts exactly.
/// - Limit (Theorem 5.1): `L(Delta) = -(I - P*) Delta theta*`, so with `Delta = Z / sqrt m`,
///   `n Rep -> alpha^-1 s^2 ||theta*||^2 chi^2_{d-k}`, `V -> sigma^2 k`, `n Leak -> 0`:
///   `E_alpha = sigma^2 k + alpha^-1 s^2 chi^2_{d-k}` (weights `s^2`, `d - k` of them).
/// At finite `n` the law differs (curvature of the projection, `m = floor(alpha n)`, and
/// `E tr(Sigma Sigma_n^-1) = k n / (n - k - 1)`), so the distance to the limit shrinks with `n`.
[<RequireQualifiedAccess>]
module ToyModel =
    /// Relative eigenvalue cut-off of the pseudo-inverse of `Sigma_n` (min-norm least squares).
    [<Literal>]
    let PseudoInverseTolerance = 1e-12

    /// Registry name.
    [<Literal>]
    let Name = "toy"

    /// Min-norm pseudo-inverse of a symmetric PSD matrix by its eigendecomposition; eigenvalues below
    /// `PseudoInverseTolerance * max eigenvalue` are treated as zero.
    let internal pseudoInverseSymmetric (a: Matrix<float>) : Matrix<float> =
        let evd = a.Evd(Symmetricity.Symmetric)
        let values = evd.EigenValues |> Seq.map (fun c -> c.Real) |> Array.ofSeq
        let top = values |> Array.fold max 0.0
        let inverted =
            values |> Array.map (fun v -> if v > PseudoInverseTolerance * top && v > 0.0 then 1.0 / v else 0.0)
        let q = evd.EigenVectors
        q * Matrix<float>.Build.DiagonalOfDiagonalArray(inverted) * q.Transpose()

    /// `theta*` proportional to `(1, 1/2, ..., 1/k)` with unit norm.
    let thetaStar (k: int) : float[] =
        let raw = Array.init k (fun i -> 1.0 / float (i + 1))
        let norm = sqrt (raw |> Array.sumBy (fun t -> t * t))
        raw |> Array.map (fun t -> t / norm)

    /// The toy model for ambient dimension `d`, feature dimension `k < d`, pre-training noise `s > 0`,
    /// label noise `sigma > 0`, at ratio `alpha > 0`.
    let create (d: int) (k: int) (s: float) (sigma: float) (alpha: float) : PipelineModel =
        if k < 1 then Check.fail "k" (sprintf "must be >= 1, got %d" k)
        if d <= k then Check.fail "d" (sprintf "must exceed k = %d, got %d" k d)
        Check.positive "s" s
        Check.positive "sigma" sigma
        Check.positive "alpha" alpha
        let sigma2 = sigma * sigma
        let thetaStar = thetaStar k
        // beta* = W* theta* with W* = I_{d,k}.
        let betaStar = Array.init d (fun i -> if i < k then thetaStar.[i] else 0.0)
        let law = LimitLaw.create sigma2 k alpha (Array.create (d - k) (s * s))
        let replicate (ctx: ReplicateContext) : ReplicateOutcome =
            let rng = ctx.Rng
            // Pre-training: the mean of m samples W* + s N(0, I), drawn as its exact law.
            let scale = s / sqrt (float ctx.M)
            let w =
                Matrix<float>.Build.Dense(d, k, fun i j -> (if i = j then 1.0 else 0.0) + scale * rng.NextNormal())
            // Population moments at W (exact).
            let sigmaPop = w.TransposeThisAndMultiply(w)
            let beta = Vector<float>.Build.DenseOfArray(betaStar)
            let c = w.TransposeThisAndMultiply(beta)
            let thetaPop = pseudoInverseSymmetric sigmaPop * c
            let residual = beta - w * thetaPop
            let rep = residual.DotProduct(residual)
            // Design: accumulate Sigma_n and (1/n) sum phi(x_i) f_star(x_i) without storing X.
            let gram = Array2D.zeroCreate<float> k k
            let cross = Array.zeroCreate<float> k
            let x = Array.zeroCreate<float> d
            let f = Array.zeroCreate<float> k
            for _ in 1 .. ctx.N do
                for i in 0 .. d - 1 do
                    x.[i] <- rng.NextNormal()
                let mutable y = 0.0
                for i in 0 .. k - 1 do
                    y <- y + betaStar.[i] * x.[i]
                for j in 0 .. k - 1 do
                    let mutable acc = 0.0
                    for i in 0 .. d - 1 do
                        acc <- acc + w.[i, j] * x.[i]
                    f.[j] <- acc
                for a in 0 .. k - 1 do
                    cross.[a] <- cross.[a] + f.[a] * y
                    for b in 0 .. a do
                        gram.[a, b] <- gram.[a, b] + f.[a] * f.[b]
            let n = float ctx.N
            let sigmaN = Matrix<float>.Build.Dense(k, k, fun a b -> (if a >= b then gram.[a, b] else gram.[b, a]) / n)
            let sigmaNPlus = pseudoInverseSymmetric sigmaN
            let thetaN = sigmaNPlus * Vector<float>.Build.Dense(k, fun a -> cross.[a] / n)
            let delta = thetaN - thetaPop
            let leak = delta.DotProduct(sigmaPop * delta)
            let variance = sigma2 * (sigmaPop * sigmaNPlus).Trace()
            let pretrain = n * rep
            let leakScaled = n * leak
            { Total = pretrain + leakScaled + variance; Pretrain = pretrain; Leak = leakScaled; Variance = variance }
        { Name = Name; Law = law; SigmaSquaredDEff = sigma2 * float k; PopulationMomentError = 0.0; Replicate = replicate }

    /// `W* = I_{d,k}`.
    let wStar (d: int) (k: int) : Matrix<float> = Matrix<float>.Build.Dense(d, k, fun i j -> if i = j then 1.0 else 0.0)

    /// The specification: per-sample loss `l(W; Z) = ||W - Z||_F^2 / 2` with `Z ~ W* + s N(0, I_{d x k})`
    /// (so the minimiser of `E l` is `W*` and the empirical minimiser is the mean of the `Z_j`), the trivial
    /// group (the minimiser is unique), features `psi(x, W) = W^T x` under `x ~ N(0, I_d)`, `theta*`, `sigma^2`.
    /// Exact population moments: `nabla L(W) = W - W*`, `nabla^2 L = I`, uncentred score covariance
    /// `E[<b_i, W - Z><b_j, W - Z>] = s^2 <b_i, b_j> + <b_i, W - W*><b_j, W - W*>`.
    let spec (d: int) (k: int) (s: float) (sigma: float) : ModelSpec<Matrix<float>> =
        if k < 1 then Check.fail "k" (sprintf "must be >= 1, got %d" k)
        if d <= k then Check.fail "d" (sprintf "must exceed k = %d, got %d" k d)
        Check.positive "s" s
        Check.positive "sigma" sigma
        let w0 = wStar d k
        { Name = sprintf "toy(d=%d, k=%d, s=%g)" d k s
          Action = GroupAction.trivial d k k
          WStar = w0
          Pretraining =
            { Loss = fun w z -> let r = w - z in 0.5 * Linalg.inner r r
              Gradient = Some(fun w z -> w - z)
              HessianVector = Some(fun _ _ v -> v.Clone())
              Sample = fun rng -> w0 + Linalg.randn rng d k * s }
          Population =
            Some
                { Gradient = fun w -> w - w0
                  HessianVector = fun _ v -> v.Clone()
                  ScoreCovariance =
                    fun w basis ->
                        let g = w - w0
                        Matrix<float>.Build.Dense(basis.Length, basis.Length, fun i j ->
                            s * s * Linalg.inner basis.[i] basis.[j] + Linalg.inner basis.[i] g * Linalg.inner basis.[j] g) }
          Representation =
            LinearGaussian
                { FeatureMatrix = fun w -> w.Transpose()
                  FeatureDifferential = fun _ e -> e.Transpose()
                  DownstreamCovariance = Linalg.eye d }
          ThetaStar = thetaStar k
          Sigma2 = sigma * sigma }

    /// Route `closed`: `E_alpha = sigma^2 k + alpha^-1 s^2 chi^2_{d-k}` (`d_eff = k`, `d_base = d`).
    let closedSummary (d: int) (k: int) (s: float) (sigma: float) : AsymptoticSummary =
        { Route = "closed"; DEff = k; DBase = d; Sigma2 = sigma * sigma
          Gram = Linalg.zeros 0 0; Covariance = Linalg.zeros 0 0; Weights = Array.create (d - k) (s * s) }

    /// The toy model as a `Model` (routes `horizontal` and `closed`, simulation adapter `create`).
    let model (d: int) (k: int) (s: float) (sigma: float) : Model<Matrix<float>> =
        { Model.ofSpec (spec d k s sigma) with
            ClosedForms = [ { Route = "closed"; Description = "sigma^2 k + alpha^-1 s^2 chi^2_{d-k}"; Compute = fun () -> closedSummary d k s sigma } ]
            Simulation = Some(create d k s sigma) }

    /// The registry entry `toy` (parameters `d`, `k`, `s`, `sigma`).
    let entry : ModelEntry =
        { Name = Name
          Summary = "linear-Gaussian toy: W^T x features, Gaussian pre-training error; limit sigma^2 k + s^2 chi^2_{d-k} / alpha"
          Parameters =
            [ { Name = "d"; Default = 6.0; Description = "ambient dimension of the design x" }
              { Name = "k"; Default = 2.0; Description = "feature dimension (d_eff), < d" }
              { Name = "s"; Default = 1.0; Description = "pre-training noise scale (per-sample sd of W)" }
              { Name = "sigma"; Default = 1.0; Description = "downstream label noise sd" } ]
          Create =
            fun p ->
                model (ModelParameter.whole "d" 0 1_000_000 p.["d"]) (ModelParameter.whole "k" 0 1_000_000 p.["k"]) p.["s"] p.["sigma"]
                |> Model.instance }
