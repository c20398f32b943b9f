namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics

/// The linear spectral contrastive model of Section 6.1 / Appendix H (CASE-STUDIES.md §1) with
/// `Sigma_pre = I`, `Sigma_pre^+ = C = diag(c)` (descending), `mu_down = N(0, I_d)`,
/// `f*(x) = beta*^T A* x`, `A* = [diag(sqrt c_1..sqrt c_k), 0]` (Lemma H.1).
type SpectralConfig =
    { /// Ambient dimension `d`.
      D: int
      /// Representation dimension `k`.
      K: int
      /// The diagonal of `C = E[x+ x^T]`, descending, `|c_i| <= 1`.
      C: float[]
      /// `beta*` (length k).
      Beta: float[]
      /// Downstream noise variance `sigma^2`.
      Sigma2: float }

/// Empirical sufficient statistics of the spectral loss: `L_m(A) = -2 tr(M C_hat) + vec(M)^T T vec(M)`,
/// `M = A^T A`, `C_hat = mean sym(x x+^T)`, `T = mean vec(x x-^T) vec(x x-^T)^T` (d^2 x d^2).
type SpectralStatistics =
    { /// `C_hat`.
      CHat: Matrix<float>
      /// `T`.
      Fourth: Matrix<float>
      /// The sample size `m`.
      Count: int }

/// The spectral model end to end: generators, estimator, exact population quantities, routes.
[<RequireQualifiedAccess>]
module Spectral =

    /// The paper's example: `c_i = 1/i`, `beta* = 1` (Cor. 6.3).
    let defaultConfig (d: int) (k: int) (sigma2: float) : SpectralConfig =
        { D = d; K = k; C = Array.init d (fun i -> 1.0 / float (i + 1)); Beta = Array.create k 1.0; Sigma2 = sigma2 }

    /// Validates the configuration; Assumption 6.1 (eigengap `c_k > max(c_{k+1}, 0)`) is required.
    let validate (cfg: SpectralConfig) =
        if cfg.K < 1 || cfg.K >= cfg.D then Check.fail "k" (sprintf "must satisfy 1 <= k < d = %d, got %d" cfg.D cfg.K)
        Check.sameLength "c" cfg.D cfg.C.Length
        Check.sameLength "beta" cfg.K cfg.Beta.Length
        Check.finiteArray "c" cfg.C
        Check.finiteArray "beta" cfg.Beta
        if not (Double.IsFinite cfg.Sigma2) || cfg.Sigma2 < 0.0 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" cfg.Sigma2)
        for i in 0 .. cfg.D - 2 do
            if cfg.C.[i] < cfg.C.[i + 1] then Check.fail "c" "must be in descending order"
        if cfg.C |> Array.exists (fun c -> abs c > 1.0) then Check.fail "c" "must satisfy |c_i| <= 1 (I - C^2 must be PSD)"
        if not (cfg.C.[cfg.K - 1] > max cfg.C.[cfg.K] 0.0) then
            Check.fail "c" (sprintf "Assumption 6.1 fails: need the eigengap c_k > max(c_{k+1}, 0), got c_k = %g, c_{k+1} = %g" cfg.C.[cfg.K - 1] cfg.C.[cfg.K])
        if cfg.Beta |> Array.forall (fun b -> b = 0.0) then Check.fail "beta" "must be non-zero"

    /// `A* = [diag(sqrt c_1, ..., sqrt c_k), 0]` (k x d), a representative of the population minimiser.
    let aStar (cfg: SpectralConfig) : Matrix<float> =
        let a = Linalg.zeros cfg.K cfg.D
        for i in 0 .. cfg.K - 1 do a.[i, i] <- sqrt cfg.C.[i]
        a

    /// A packed pre-training sample `[x; x+; x-]`: `x ~ N(0, I)`, `x+ = C x + (I - C^2)^{1/2} w`, `x- ~ N(0, I)`.
    let sample (cfg: SpectralConfig) (rng: Random) : float[] = SpectralLoss.sampleGaussian cfg.C rng

    /// A seeded downstream data set of size `n`: design rows `x ~ N(0, I_d)` (`mu_down`) and labels
    /// `y = beta*^T A* x + eps`, `eps ~ N(0, sigma^2)` (Section 6.1: realizable linear target).
    let sampleDownstream (cfg: SpectralConfig) (n: int) (rng: Random) : Matrix<float> * float[] =
        validate cfg
        if n < 1 then Check.fail "n" (sprintf "must be >= 1, got %d" n)
        let x = Linalg.randn rng n cfg.D
        let b = aStar(cfg).TransposeThisAndMultiply(DenseVector(cfg.Beta))
        let f = x * b
        x, Array.init n (fun i -> f.[i] + sqrt cfg.Sigma2 * Linalg.gaussian rng)

    let private split (d: int) (z: float[]) = DenseVector(z.[0 .. d - 1]), DenseVector(z.[d .. 2 * d - 1]), DenseVector(z.[2 * d ..])

    /// Per-sample gradient of (6.2): `-2 A (x x+^T + x+ x^T) + 2 (x^T M x-) A (x x-^T + x- x^T)`, `M = A^T A`.
    let sampleGradient (a: Matrix<float>) (z: float[]) : Matrix<float> =
        let x, xp, xm = split a.ColumnCount z
        let s1 = x.OuterProduct xp + xp.OuterProduct x
        let s2 = x.OuterProduct xm + xm.OuterProduct x
        let q2 = (a * x).DotProduct(a * xm)
        a * s1 * -2.0 + a * s2 * (2.0 * q2)

    /// Per-sample Hessian-vector product: `-2 E S1 + 2 (x^T (E^T A + A^T E) x-) A S2 + 2 q2 E S2`.
    let sampleHessianVector (a: Matrix<float>) (z: float[]) (e: Matrix<float>) : Matrix<float> =
        let x, xp, xm = split a.ColumnCount z
        let s1 = x.OuterProduct xp + xp.OuterProduct x
        let s2 = x.OuterProduct xm + xm.OuterProduct x
        let q2 = (a * x).DotProduct(a * xm)
        let dq2 = (e * x).DotProduct(a * xm) + (a * x).DotProduct(e * xm)
        e * s1 * -2.0 + a * s2 * (2.0 * dq2) + e * s2 * (2.0 * q2)

    /// Exact population Hessian-vector product of `L(A) = -2 tr(A C A^T) + ||A A^T||_F^2` (Lemma H.1):
    /// `-4 E C + 4 (E A^T + A E^T) A + 4 (A A^T) E`.
    let populationHessianVector (cfg: SpectralConfig) (a: Matrix<float>) (e: Matrix<float>) : Matrix<float> =
        let c = DenseMatrix.OfDiagonalArray cfg.C
        e * c * -4.0 + (e * a.Transpose() + a * e.Transpose()) * a * 4.0 + (a * a.Transpose()) * e * 4.0

    /// Selection matrices writing `x = P1 xi`, `x+ = P2 xi`, `x- = P3 xi`, `xi ~ N(0, I_{3d})`.
    let private selections (cfg: SpectralConfig) =
        let d = cfg.D
        let p1 = Linalg.zeros d (3 * d)
        let p2 = Linalg.zeros d (3 * d)
        let p3 = Linalg.zeros d (3 * d)
        for i in 0 .. d - 1 do
            p1.[i, i] <- 1.0
            p2.[i, i] <- cfg.C.[i]
            p2.[i, d + i] <- sqrt (max 0.0 (1.0 - cfg.C.[i] * cfg.C.[i]))
            p3.[i, 2 * d + i] <- 1.0
        p1, p2, p3

    /// The per-sample directional score `<nabla_A l(A; z), E>` as a polynomial in quadratic forms of `xi`:
    /// `-2 x^T N x+ + 2 (x^T M x-)(x^T N x-)`, `N = E^T A + A^T E`, `M = A^T A` (exact input to Isserlis).
    let scorePolynomial (cfg: SpectralConfig) (a: Matrix<float>) (e: Matrix<float>) : QuadraticTerm list =
        let p1, p2, p3 = selections cfg
        let n = e.TransposeThisAndMultiply a + a.TransposeThisAndMultiply e
        let m = a.TransposeThisAndMultiply a
        [ { Coefficient = -2.0; Forms = [| GaussianMoments.bilinear p1 n p2 |] }
          { Coefficient = 2.0; Forms = [| GaussianMoments.bilinear p1 m p3; GaussianMoments.bilinear p1 n p3 |] } ]

    /// The per-sample loss `l(A; z)` as a polynomial in quadratic forms (for exact expectations).
    let lossPolynomial (cfg: SpectralConfig) (a: Matrix<float>) : QuadraticTerm list =
        let p1, p2, p3 = selections cfg
        let m = a.TransposeThisAndMultiply a
        let q = GaussianMoments.bilinear p1 m p3
        [ { Coefficient = -2.0; Forms = [| GaussianMoments.bilinear p1 m p2 |] }
          { Coefficient = 1.0; Forms = [| q; q |] } ]

    /// Exact population moments: the gradient and Hessian of `L(A)` (Lemma H.1) and the score covariance
    /// `B^T E[nabla l nabla l^T] B` by Isserlis' theorem (`GaussianMoments`).
    let population (cfg: SpectralConfig) : PopulationMoments =
        let c = DenseMatrix.OfDiagonalArray cfg.C
        { Gradient = SpectralLoss.populationGradient (Linalg.eye cfg.D) c
          HessianVector = populationHessianVector cfg
          ScoreCovariance = fun a basis -> GaussianMoments.secondMoments (basis |> Array.map (scorePolynomial cfg a)) }

    /// The model specification: `O(k)` from the left, `psi(x, A) = A x`, `theta* = beta*`, `w* = A*`.
    let spec (cfg: SpectralConfig) : ModelSpec<float[]> =
        validate cfg
        { Name = sprintf "spectral(d=%d, k=%d)" cfg.D cfg.K
          Action = GroupAction.orthogonalLeft cfg.K cfg.D
          WStar = aStar cfg
          Pretraining =
            { Loss = SpectralLoss.lossPacked
              Gradient = Some sampleGradient
              HessianVector = Some sampleHessianVector
              Sample = sample cfg }
          Population = Some(population cfg)
          Representation =
            LinearGaussian
                { FeatureMatrix = fun a -> a.Clone()
                  FeatureDifferential = fun _ e -> e.Clone()
                  DownstreamCovariance = Linalg.eye cfg.D }
          ThetaStar = Array.copy cfg.Beta
          Sigma2 = cfg.Sigma2 }

    /// The descriptor-manifold model on `FixedRankPsd(d, k)` (Appendix H): `F(M) = -2 tr(M C) + tr(M^2)`,
    /// Euclidean gradient `2 (M - C)` (normal part `-2 C_perp` at `M*`, so the Weingarten term matters),
    /// Euclidean Hessian `Z -> 2 Z` (H.10); score `<t, nabla_M l> = -2 x^T t x+ + 2 (x^T M x-)(x^T t x-)`
    /// with exact moments; section anchored at `A*`.
    let descriptorModel (cfg: SpectralConfig) : DescriptorModel =
        validate cfg
        let a = aStar cfg
        let omega = Linalg.sym (a.TransposeThisAndMultiply a)
        let c = DenseMatrix.OfDiagonalArray cfg.C
        let p1, p2, p3 = selections cfg
        let score (t: Matrix<float>) =
            [ { Coefficient = -2.0; Forms = [| GaussianMoments.bilinear p1 t p2 |] }
              { Coefficient = 2.0; Forms = [| GaussianMoments.bilinear p1 omega p3; GaussianMoments.bilinear p1 t p3 |] } ]
        { Manifold = FixedRankPsd.create cfg.D cfg.K
          OmegaStar = omega
          EuclideanGradient = fun m -> (m - c) * 2.0
          EuclideanHessianVector = fun _ z -> Linalg.sym z * 2.0
          ScoreCovariance = fun basis -> GaussianMoments.secondMoments (basis |> Array.map score)
          Section = (Descriptor.gramLeft a).Section }

    /// `tau = sum_{l <= k} c_l^2` (the paper's `sum_j j^-2` when `c_j = 1/j`).
    let tau (cfg: SpectralConfig) = Array.sub cfg.C 0 cfg.K |> Array.sumBy (fun c -> c * c)

    /// Route `closed` (corrected Cor. 6.3, docs/errata.md): `||L(Z)||^2 = sum_{j>k} lambda_j chi^2_1` with
    /// `lambda_j = sum_{i<=k} beta_i^2 c_i (1 + tau + c_i^2) / (2 (c_i - c_j)^2)`.
    let closedWeights (cfg: SpectralConfig) : float[] =
        validate cfg
        let t = tau cfg
        [| for j in cfg.K .. cfg.D - 1 ->
               Array.init cfg.K (fun i ->
                   let ci = cfg.C.[i]
                   cfg.Beta.[i] ** 2.0 * ci * (1.0 + t + ci * ci) / (2.0 * (ci - cfg.C.[j]) ** 2.0)) |> Array.sum |]
        |> Array.sortDescending

    /// Route `paper` (Cor. 6.3 as printed, L530–L537, i.e. (H.39) with `Sigma_pre = I`): `d - k` equal weights
    /// `2 sum_{i<=k} beta_i^2 (1 + tau + c_i^2) / c_i` (for `c_i = 1/i`, `beta* = 1`: `2 sum_i i (1 + i^-2 + tau)`).
    let paperWeights (cfg: SpectralConfig) : float[] =
        validate cfg
        let t = tau cfg
        let w = Array.init cfg.K (fun i -> let ci = cfg.C.[i] in 2.0 * cfg.Beta.[i] ** 2.0 * (1.0 + t + ci * ci) / ci) |> Array.sum
        Array.create (cfg.D - cfg.K) w

    /// A closed-form route as an `AsymptoticSummary` (`d_eff = k`, `d_base = d`).
    let closedSummary (route: string) (cfg: SpectralConfig) : AsymptoticSummary =
        let weights =
            match route with
            | "closed" -> closedWeights cfg
            | "paper" -> paperWeights cfg
            | _ -> Check.fail "route" (sprintf "must be closed or paper, got %s" route)
        { Route = route; DEff = cfg.K; DBase = cfg.D; Sigma2 = cfg.Sigma2; Gram = Linalg.zeros 0 0; Covariance = Linalg.zeros 0 0; Weights = weights }

    /// Cabannes et al. (2023, Thm. 4) as applied in L547–L552 (App. H.7), logs and constants dropped:
    /// the pre-training term `k (d - k) ||C^-1 A*^T beta*||^2 = k (d - k) sum_{i<=k} beta_i^2 / c_i`.
    let cabannesPretrainTerm (cfg: SpectralConfig) : float =
        validate cfg
        float cfg.K * float (cfg.D - cfg.K) * (Array.init cfg.K (fun i -> cfg.Beta.[i] ** 2.0 / cfg.C.[i]) |> Array.sum)

    /// The whole prior-art bound `sigma^2 k + alpha^-1 k (d - k) ||C^-1 A*^T beta*||^2` (up to constants).
    let cabannesBound (cfg: SpectralConfig) (alpha: float) : float =
        Check.positive "alpha" alpha
        cfg.Sigma2 * float cfg.K + cabannesPretrainTerm cfg / alpha

    /// The improvement factor over Cabannes et al.: prior-art pre-training term / `E||L(Z)||^2` (the paper
    /// claims order `k`, L550–L552).
    let cabannesImprovement (cfg: SpectralConfig) (pretrainMean: float) : float = cabannesPretrainTerm cfg / pretrainMean

    /// Sufficient statistics of a sample of packed `[x; x+; x-]`.
    let statistics (d: int) (zs: float[][]) : SpectralStatistics =
        Check.nonEmpty "zs" zs
        let chat = DenseMatrix.Create(d, d, 0.0)
        let t = DenseMatrix.Create(d * d, d * d, 0.0)
        let tv = t.Values
        let v = Array.zeroCreate (d * d)
        let dd = d * d
        for z in zs do
            Check.sameLength "z" (3 * d) z.Length
            for b in 0 .. d - 1 do
                for a in 0 .. d - 1 do
                    chat.[a, b] <- chat.[a, b] + 0.5 * (z.[a] * z.[d + b] + z.[b] * z.[d + a])
                    v.[a + d * b] <- z.[a] * z.[2 * d + b]
            for c in 0 .. dd - 1 do
                let vc = v.[c]
                let off = c * dd
                for r in 0 .. dd - 1 do
                    tv.[off + r] <- tv.[off + r] + v.[r] * vc
        let m = float zs.Length
        { CHat = chat / m; Fourth = t / m; Count = zs.Length }

    /// The empirical objective `L_m(A) = -2 tr(M C_hat) + vec(M)^T T vec(M)` with its gradient
    /// `A (G + G^T)`, `G = -2 C_hat + 2 mat(T vec M)`, and Hessian-vector product.
    let empiricalObjective (stats: SpectralStatistics) : Objective =
        let d = stats.CHat.RowCount
        let tm (m: Matrix<float>) = Linalg.ofColumnMajor d d ((stats.Fourth * DenseVector(Linalg.values m)).ToArray())
        let gm (m: Matrix<float>) = stats.CHat * -2.0 + tm m * 2.0
        { Value = fun a ->
            let m = a.TransposeThisAndMultiply a
            -2.0 * Linalg.inner m stats.CHat + Linalg.inner m (tm m)
          Gradient = fun a ->
            let g = gm (a.TransposeThisAndMultiply a)
            a * (g + g.Transpose())
          HessianVector = fun a e ->
            let g = gm (a.TransposeThisAndMultiply a)
            let dm = e.TransposeThisAndMultiply a + a.TransposeThisAndMultiply e
            let dg = tm dm * 2.0
            e * (g + g.Transpose()) + a * (dg + dg.Transpose()) }

    /// The pre-training estimator: horizontal Newton (gradient norm `<= 1e-10`) from a spectral start
    /// (top-k eigenpairs of `C_hat`) and `randomStarts` seeded random starts; the lowest converged value wins.
    let fit (k: int) (randomStarts: int) (seed: int) (stats: SpectralStatistics) : MinimiserResult =
        let d = stats.CHat.RowCount
        let lam, v = Linalg.eigSymDesc stats.CHat
        let spectralStart = DenseMatrix.OfDiagonalArray(Array.init k (fun i -> sqrt (max lam.[i] 1e-3))) * v.SubMatrix(0, d, 0, k).Transpose()
        let rng = Random seed
        let starts = Array.append [| spectralStart |] (Array.init randomStarts (fun _ -> Linalg.randn rng k d * 0.5))
        Minimise.multiStart Minimise.defaultOptions (GroupAction.orthogonalLeft k d) (empiricalObjective stats) starts
