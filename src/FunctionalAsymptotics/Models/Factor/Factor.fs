namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics

/// The factor model of Section 6.2 / Appendix I (docs/case-studies.md §2): `x = A* h + mu`, `h ~ N(0, I_k)`,
/// `mu ~ N(0, I_d)`; downstream `y = beta*^T h + nu`, `nu ~ N(0, sigma_nu^2)`.
type FactorConfig =
    { /// The loadings `A*` (d x k, full column rank).
      Loadings: Matrix<float>
      /// `beta*` (length k).
      Beta: float[]
      /// `sigma_nu^2`.
      SigmaNu2: float }

/// The factor model end to end: generators, PPCA estimator, exact population quantities, routes.
[<RequireQualifiedAccess>]
module Factor =

    /// Validates the configuration (`k < d`, full column rank, finite values).
    let validate (cfg: FactorConfig) =
        if isNull (box cfg.Loadings) then Check.fail "loadings" "must not be null"
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        if k < 1 || k >= d then Check.fail "loadings" (sprintf "must be d x k with 1 <= k < d, got %d x %d" d k)
        Linalg.checkFinite "loadings" cfg.Loadings
        let r = Linalg.numericalRank 1e-10 cfg.Loadings
        if r < k then raise (RankDeficientException("loadings", k, r))
        Check.sameLength "beta" k cfg.Beta.Length
        Check.finiteArray "beta" cfg.Beta
        if not (Double.IsFinite cfg.SigmaNu2) || cfg.SigmaNu2 < 0.0 then Check.fail "sigmaNu2" (sprintf "must be finite and >= 0, got %g" cfg.SigmaNu2)

    /// The documented loadings generator of `fa factor --d D --k K --seed N`: i.i.d. `N(0, 1)` entries
    /// (`Linalg.randn` on `System.Random(seed)`, column-major fill).
    let drawLoadings (seed: int) (d: int) (k: int) : Matrix<float> = Linalg.randn (Random seed) d k

    /// `S* = I_d + A* A*^T = Cov(x)`.
    let covariance (cfg: FactorConfig) = Linalg.eye cfg.Loadings.RowCount + cfg.Loadings * cfg.Loadings.Transpose()

    /// `sigma^2 = sigma_nu^2 + beta*^T (I_k + A*^T A*)^-1 beta*` (the conditional variance of `y` given `x`;
    /// L572 prints `(I_d + A* A*^T)^-1`, which does not fit the dimensions of `beta*`).
    let sigma2 (cfg: FactorConfig) : float =
        let k = cfg.Loadings.ColumnCount
        let b = DenseVector(cfg.Beta)
        cfg.SigmaNu2 + b.DotProduct((Linalg.eye k + cfg.Loadings.TransposeThisAndMultiply cfg.Loadings).Solve(b))

    /// `A* h + mu` by a plain loop over the column-major loadings (each entry `(0 + sum_j a_ij h_j) + mu_i`, summed in
    /// the order of MathNet's product, without its allocations and dispatch).
    let private loadingsTimesPlus (loadings: float[]) (h: float[]) (mu: float[]) : float[] =
        let d = mu.Length
        Array.init d (fun i ->
            let mutable s = 0.0
            for j in 0 .. h.Length - 1 do s <- s + loadings.[j * d + i] * h.[j]
            s + mu.[i])

    /// A pre-training sample `x = A* h + mu`.
    let sample (cfg: FactorConfig) (rng: Random) : float[] =
        let h = Linalg.randnVector rng cfg.Loadings.ColumnCount
        let mu = Linalg.randnVector rng cfg.Loadings.RowCount
        loadingsTimesPlus (Linalg.values cfg.Loadings) h mu

    /// A seeded downstream data set of size `n` from the generative model: `h ~ N(0, I_k)`, `x = A* h + mu`,
    /// `y = beta*^T h + nu`, `nu ~ N(0, sigma_nu^2)` (Section 6.2). Rows of the returned matrix are the `x_i`.
    let sampleDownstream (cfg: FactorConfig) (n: int) (rng: Random) : Matrix<float> * float[] =
        validate cfg
        if n < 1 then Check.fail "n" (sprintf "must be >= 1, got %d" n)
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        let x = DenseMatrix.Create(n, d, 0.0)
        let y = Array.zeroCreate n
        let b = DenseVector(cfg.Beta)
        let loadings = Linalg.values cfg.Loadings
        for i in 0 .. n - 1 do
            let h = Linalg.randnVector rng k
            let mu = Linalg.randnVector rng d
            x.SetRow(i, loadingsTimesPlus loadings h mu)
            y.[i] <- b.DotProduct(DenseVector h) + sqrt cfg.SigmaNu2 * Linalg.gaussian rng
        x :> Matrix<float>, y

    /// Features `psi(x, A) = W(A) x`, `W(A) = A^T (I + A A^T)^-1`.
    let featureMatrix (a: Matrix<float>) : Matrix<float> =
        let s = Linalg.eye a.RowCount + a * a.Transpose()
        s.Solve(a).Transpose()

    /// `S^-1 X` for `S = I + A A^T` by the Woodbury identity, `S^-1 = I - A (I_k + A^T A)^-1 A^T`:
    /// `O(d k^2)` per column block after an `O(d k^2)` set-up (partially apply to `a` to reuse it).
    let private woodburySolve (a: Matrix<float>) : Matrix<float> -> Matrix<float> =
        // I_k + A^T A has eigenvalues >= 1: its explicit inverse is as accurate as a factorisation, and
        // (unlike a factorisation's Solve) costs only small products per call.
        let ginv = (Linalg.eye a.ColumnCount + a.TransposeThisAndMultiply a).Cholesky().Solve(Linalg.eye a.ColumnCount)
        let aginv = a * ginv
        fun x -> x - aginv * a.TransposeThisAndMultiply x

    /// `dW(A)[E] = E^T S^-1 - A^T S^-1 (E A^T + A E^T) S^-1`, `S = I + A A^T`, written with `W = A^T S^-1` as
    /// `(I - W A) (S^-1 E)^T - (W E) W` (`O(d k^2)` per direction; partially apply to `a` to reuse the
    /// set-up across directions).
    let featureDifferential (a: Matrix<float>) : Matrix<float> -> Matrix<float> =
        let sinv = woodburySolve a
        let w = (sinv a).Transpose()
        let iwa = Linalg.eye a.ColumnCount - w * a
        fun e -> iwa * (sinv e).Transpose() - (w * e) * w

    /// Gradient of `(1/2)[log det S + tr(S^-1 Sigma)]` in `A`: `S^-1 A - S^-1 Sigma S^-1 A` (per sample `Sigma = x x^T`).
    let private gradientFor (sigma: Matrix<float>) (a: Matrix<float>) =
        let sinv = (Linalg.eye a.RowCount + a * a.Transpose()).Inverse()
        sinv * a - sinv * sigma * sinv * a

    /// The Hessian-vector product of `(1/2)[log det S + tr(S^-1 Sigma)]` in `A` along `E` for any second
    /// moment `Sigma` (per sample `x x^T`; the loss is linear in `Sigma`, so the empirical Hessian is this at
    /// the sample second moment). `dS = E A^T + A E^T`:
    /// `-S^-1 dS S^-1 A + S^-1 E + S^-1 dS S^-1 Sigma S^-1 A + S^-1 Sigma S^-1 dS S^-1 A - S^-1 Sigma S^-1 E`.
    /// With `P = S^-1 A`, `Q = S^-1 Sigma S^-1 A` and `dS X = E (A^T X) + A (E^T X)` (no `d x d` matrix `dS`) this is
    /// `S^-1 (E - dS P + dS Q) + S^-1 Sigma S^-1 (dS P - E)`. Partially applied to `sigma` and `a` it computes
    /// `S^-1`, `S^-1 Sigma S^-1`, `P` and `Q` once; each product then costs `O(d^2 k)`.
    let hessianVectorFor (sigma: Matrix<float>) (a: Matrix<float>) : Matrix<float> -> Matrix<float> =
        let sinv = (Linalg.eye a.RowCount + a * a.Transpose()).Inverse()
        let sss = sinv * sigma * sinv
        let p = sinv * a
        let q = sss * a
        let atp, atq = a.TransposeThisAndMultiply p, a.TransposeThisAndMultiply q
        fun e ->
            let dsP = e * atp + a * e.TransposeThisAndMultiply p
            let dsQ = e * atq + a * e.TransposeThisAndMultiply q
            sinv * (e - dsP + dsQ) + sss * (dsP - e)

    let private outer (x: float[]) = let v = DenseVector(x) in v.OuterProduct v

    /// The per-sample gradient `gradientFor (x x^T) A = S^-1 A - (S^-1 x)(x^T S^-1 A)` in rank-one form with
    /// `S^-1` by Woodbury (`O(d k^2)`, no d x d matrix): what the Monte Carlo route evaluates per sample.
    let sampleGradient (a: Matrix<float>) (x: float[]) : Matrix<float> =
        Check.sameLength "x" a.RowCount x.Length
        let sinv = woodburySolve a
        let sa = sinv a
        let sx = sinv (Linalg.column x)
        sa - sx * (Linalg.column x).TransposeThisAndMultiply sa

    /// Exact population moments at any `A` under the true law `x ~ N(0, S*)`: gradient and Hessian of the
    /// Gaussian NLL (I.3), and the score covariance by Isserlis with `x = S*^{1/2} xi`:
    /// `<nabla l, E> = (1/2) tr(S^-1 dS) - (1/2) xi^T S*^{1/2} S^-1 dS S^-1 S*^{1/2} xi`.
    ///
    /// Computed in structured form: the Hessian-vector product applies `S^-1` and `S*` (identity plus rank k)
    /// to d x k blocks only (`O(d k^2)` per product after partial application to `A`), and the score second
    /// moments, with `M_E = S^-1 dS_E S^-1`, `dS_E = E A^T + A E^T`, `Y = S^-1 S* S^-1`, `Z = S^-1 - Y`, are
    /// `E[s_E s_F] = <Z A, E> <Z A, F> + (1/2) tr(dS_E Y dS_F Y)` (`E[x^T M x] = tr(M S*)`,
    /// `Cov(x^T M_E x, x^T M_F x) = 2 tr(M_E S* M_F S*)`), the traces by
    /// `GaussianMoments.symmetricLowRankTraces` in `O(n^2 d k + n d^2 k)` for `n` directions.
    let population (cfg: FactorConfig) : PopulationMoments =
        let sStar = covariance cfg
        let loadings = cfg.Loadings
        let applyStar (x: Matrix<float>) = x + loadings * loadings.TransposeThisAndMultiply x
        let hessianVector (a: Matrix<float>) : Matrix<float> -> Matrix<float> =
            let sinv = woodburySolve a
            let sss (x: Matrix<float>) = sinv (applyStar (sinv x))
            let sinvA = sinv a
            let sssA = sss a
            let ds (e: Matrix<float>) (x: Matrix<float>) = e * a.TransposeThisAndMultiply x + a * e.TransposeThisAndMultiply x
            // -S^-1 dS S^-1 A + S^-1 E + S^-1 dS Y A + Y dS S^-1 A - Y E  (Y = S^-1 S* S^-1), grouped.
            fun e ->
                let x1 = ds e sinvA
                sinv (e + ds e sssA - x1) + sss (x1 - e)
        let scoreSecondMoments (a: Matrix<float>) (dirs: Matrix<float>[]) =
            let d = a.RowCount
            let sinv = woodburySolve a
            let sinvDense = sinv (Linalg.eye d)
            let y = Linalg.sym (sinv (applyStar sinvDense))
            let za = (sinvDense - y) * a
            let traces = GaussianMoments.symmetricLowRankTraces a dirs [| 0.5, DiagonalPlusLowRank.dense y, DiagonalPlusLowRank.dense y |]
            let f = DenseVector(dirs |> Array.map (Linalg.inner za))
            Linalg.sym (traces + f.OuterProduct f)
        { Gradient = gradientFor sStar
          HessianVector = hessianVector
          ScoreCovariance = scoreSecondMoments }

    /// The model specification: `O(k)` from the right, `psi(x, A) = A^T (I + A A^T)^-1 x`, `theta* = beta*`,
    /// `w* = A*`, `mu_down = N(0, S*)`, `sigma^2` from `sigma2`.
    let spec (cfg: FactorConfig) : ModelSpec<float[]> =
        validate cfg
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        { Name = sprintf "factor(d=%d, k=%d)" d k
          Action = GroupAction.orthogonalRight d k
          WStar = cfg.Loadings.Clone()
          Pretraining =
            { Loss = FactorLoss.loss
              Gradient = Some sampleGradient
              HessianVector = Some(fun a x e -> hessianVectorFor (outer x) a e)
              Sample = sample cfg }
          Population = Some(population cfg)
          Representation =
            LinearGaussian
                { FeatureMatrix = featureMatrix
                  FeatureDifferential = featureDifferential
                  DownstreamCovariance = covariance cfg }
          ThetaStar = Array.copy cfg.Beta
          Sigma2 = sigma2 cfg }

    /// The descriptor-manifold model on `FixedRankPsd(d, k)` (Appendix I): `F(M) = (1/2)[log det(I + M) +
    /// tr((I + M)^-1 S*)]`, gradient `(1/2)[S^-1 - S^-1 S* S^-1]` (zero at `M*`), Hessian
    /// `(1/2)[-S^-1 Z S^-1 + S^-1 Z S^-1 S* S^-1 + S^-1 S* S^-1 Z S^-1]`; score
    /// `<t, nabla_M l> = (1/2) tr(S^-1 t) - (1/2) x^T S^-1 t S^-1 x` with exact moments; section anchored at `A*`.
    let descriptorModel (cfg: FactorConfig) : DescriptorModel =
        validate cfg
        let d = cfg.Loadings.RowCount
        let sStar = covariance cfg
        // The d x d square root and inverse are needed by the score covariance only: computed on first use, so
        // that building the model (e.g. for the closed route at d = 500) costs no d^3 work.
        let root = lazy (Linalg.sqrtPsd sStar)
        let a = cfg.Loadings
        let omega = Linalg.sym (a * a.Transpose())
        let sinvOf (m: Matrix<float>) = (Linalg.eye d + m).Inverse()
        let sinvStar = lazy (sinvOf omega)
        let score (t: Matrix<float>) =
            let root, sinvStar = root.Value, sinvStar.Value
            [ { Coefficient = 0.5 * (sinvStar * t).Trace(); Forms = [||] }
              { Coefficient = -0.5; Forms = [| Linalg.sym (root * sinvStar * t * sinvStar * root) |] } ]
        { Manifold = FixedRankPsd.create d cfg.Loadings.ColumnCount
          OmegaStar = omega
          EuclideanGradient = fun m -> let s = sinvOf m in Linalg.sym ((s - s * sStar * s) * 0.5)
          EuclideanHessianVector =
            fun m z ->
                let s = sinvOf m
                let zs = Linalg.sym z
                Linalg.sym ((-(s * zs * s) + s * zs * s * sStar * s + s * sStar * s * zs * s) * 0.5)
          ScoreCovariance = fun basis -> GaussianMoments.secondMoments (basis |> Array.map score)
          Section = (Descriptor.gramRight a).Section }

    /// Route `closed` (corrected Cor. 6.4, docs/errata.md): `d - k` equal weights
    /// `lambda = beta*^T (A*^T A*)^-1 (I_k + A*^T A*)^-1 beta*`.
    let closedWeights (cfg: FactorConfig) : float[] =
        validate cfg
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        let g = cfg.Loadings.TransposeThisAndMultiply cfg.Loadings
        let b = DenseVector(cfg.Beta)
        let lam = g.Solve((Linalg.eye k + g).Solve(b)).DotProduct(b)
        Array.create (d - k) lam

    /// Route `paper` (Cor. 6.4 as printed, L585–L589, (I.17)): `d - k` equal weights
    /// `||(I_k + Sigma*)^-1/2 U1^T A* beta*||^2`, `Sigma*`, `U1` the top-k eigenpairs of `A* A*^T`.
    let paperWeights (cfg: FactorConfig) : float[] =
        validate cfg
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        let lam, u = Linalg.eigSymDesc (cfg.Loadings * cfg.Loadings.Transpose())
        let v = u.SubMatrix(0, d, 0, k).Transpose() * (cfg.Loadings * DenseVector(cfg.Beta))
        let w = Array.init k (fun i -> v.[i] * v.[i] / (1.0 + lam.[i])) |> Array.sum
        Array.create (d - k) w

    /// The rescaling of `atUnitScale`: the problem at unit size (`beta* / c`, `sigma_nu^2 = 0`) and the
    /// factor `c^2` (1 when `beta* = 0`), `c` the power of two nearest `max_j |beta*_j|`.
    let unitScale (cfg: FactorConfig) : FactorConfig * float =
        validate cfg
        let size = cfg.Beta |> Array.fold (fun m b -> max m (abs b)) 0.0
        if size = 0.0 then cfg, 1.0
        else
            let c = Math.ScaleB(1.0, Math.ILogB size)
            { cfg with Beta = cfg.Beta |> Array.map (fun b -> b / c); SigmaNu2 = 0.0 }, c * c

    /// A summary of the unit-size problem of `unitScale` scaled back to `cfg`: weights and Gram times `c2`,
    /// `sigma^2 = sigma2 cfg` (a Monte Carlo standard error of `E||L(Z)||^2` scales by `c2` as well).
    let scaleBack (cfg: FactorConfig) (c2: float) (s: AsymptoticSummary) : AsymptoticSummary =
        { s with
            Sigma2 = sigma2 cfg
            Weights = s.Weights |> Array.map (fun w -> w * c2)
            Gram = s.Gram.Map(fun g -> g * c2) }

    /// Computes a summary of the law on the problem rescaled to unit size and scales the result back.
    /// The weights `lambda_j` of `||L(Z)||^2` and the Gram `G` are quadratic in `beta*` and do not involve
    /// `sigma_nu^2` (Theorem 5.1: the noise enters only through `sigma^2 d_eff`), so `summaryOf` runs on
    /// `beta* / c` with `sigma_nu^2 = 0`, its weights and Gram are multiplied by `c^2`, and `sigma^2` is
    /// `sigma2 cfg` of the original problem. `c` is the power of two nearest `max_j |beta*_j|`, so the
    /// rescaling is exact in floating point; the routes never form the products of huge (or tiny) `beta*`
    /// entries that overflow (or underflow) inside the eigensolver.
    let atUnitScale (summaryOf: FactorConfig -> AsymptoticSummary) (cfg: FactorConfig) : AsymptoticSummary =
        let scaled, c2 = unitScale cfg
        scaleBack cfg c2 (summaryOf scaled)

    /// A closed-form route as an `AsymptoticSummary` (`d_eff = k`, `d_base = d`).
    let closedSummary (route: string) (cfg: FactorConfig) : AsymptoticSummary =
        let weights =
            match route with
            | "closed" -> closedWeights cfg
            | "paper" -> paperWeights cfg
            | _ -> Check.fail "route" (sprintf "must be closed or paper, got %s" route)
        let d, k = cfg.Loadings.RowCount, cfg.Loadings.ColumnCount
        { Route = route; DEff = k; DBase = d; Sigma2 = sigma2 cfg; Gram = Linalg.zeros 0 0; Covariance = Linalg.zeros 0 0; Weights = weights }

    /// `D = max(||A*||_op, ||beta*||, 1)` of Ge et al. (2024).
    let geD (cfg: FactorConfig) =
        let sv = Linalg.singularValues cfg.Loadings
        max (max sv.[0] (DenseVector(cfg.Beta).L2Norm())) 1.0

    /// Ge et al. (2024, Thm. 4.4) pre-training term (L598–L603, constants and logs dropped):
    /// `D^12 (D^4 + s_min(A*)^-4) d`.
    let gePretrainTerm (cfg: FactorConfig) : float =
        validate cfg
        let sv = Linalg.singularValues cfg.Loadings
        let dd = geD cfg
        dd ** 12.0 * (dd ** 4.0 + sv.[sv.Length - 1] ** -4.0) * float cfg.Loadings.RowCount

    /// The whole bound `D^4 k + alpha^-1 D^12 (D^4 + s_min^-4) d`.
    let geBound (cfg: FactorConfig) (alpha: float) : float =
        Check.positive "alpha" alpha
        geD cfg ** 4.0 * float cfg.Loadings.ColumnCount + gePretrainTerm cfg / alpha

    /// Improvement factor over Ge et al.: prior-art pre-training term / `E||L(Z)||^2`.
    let geImprovement (cfg: FactorConfig) (pretrainMean: float) : float = gePretrainTerm cfg / pretrainMean

    /// The PPCA maximum-likelihood estimator (Lemma I.1) from the uncentred sample covariance `sm = X^T X / m`
    /// (d x d, symmetric): `A_hat = U_k diag((lambda_i - 1)_+)^{1/2}`, `(lambda_i, U)` the eigenpairs of `sm`
    /// in descending order. The MLE depends on the data only through `sm`.
    let fitPpcaCovariance (k: int) (sm: Matrix<float>) : Matrix<float> =
        let lam, u = Linalg.eigSymDesc sm
        u.SubMatrix(0, sm.RowCount, 0, k) * DenseMatrix.OfDiagonalArray(Array.init k (fun i -> sqrt (max 0.0 (lam.[i] - 1.0))))

    /// The PPCA maximum-likelihood estimator (Lemma I.1): `fitPpcaCovariance` at the uncentred sample
    /// covariance `S_m = X^T X / m` (rows of `x` are samples).
    let fitPpca (k: int) (x: Matrix<float>) : Matrix<float> =
        fitPpcaCovariance k (Linalg.sym (x.TransposeThisAndMultiply x / float x.RowCount))
