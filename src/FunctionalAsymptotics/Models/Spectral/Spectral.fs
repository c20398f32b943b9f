namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics

/// The linear spectral contrastive model of Section 6.1 / Appendix H (docs/case-studies.md §1) in the diagonal
/// setting of App. H.7: `Sigma_pre = diag(a)`, `Sigma_pre^+ = C = diag(c)`, `lambda_i = c_i / a_i` (the k largest first),
/// `mu_down = N(0, I_d)`, `f*(x) = beta*^T A* x`, `A* = [diag(sqrt c_i / a_i), 0]` (Lemma H.1:
/// `M* = diag(c_i / a_i^2)` on the top k). The paper's example is `a = 1`, `c_i = 1/i`.
type SpectralConfig =
    { /// Ambient dimension `d`.
      D: int
      /// Representation dimension `k`.
      K: int
      /// The diagonal `a` of `Sigma_pre = E[x x^T]` (all > 0).
      SigmaPre: float[]
      /// The diagonal of `C = E[x+ x^T]`, with `|c_i| <= a_i`; the k largest `c_i / a_i` come first.
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
        { D = d; K = k; SigmaPre = Array.create d 1.0; C = Array.init d (fun i -> 1.0 / float (i + 1)); Beta = Array.create k 1.0; Sigma2 = sigma2 }

    /// `lambda_i = c_i / a_i`, the eigenvalues of `Sigma_pre^-1/2 C Sigma_pre^-1/2`.
    let lambdas (cfg: SpectralConfig) = Array.map2 (/) cfg.C cfg.SigmaPre

    /// Validates the configuration; Assumption 6.1 (invertible `Sigma_pre`, eigengap
    /// `lambda_k > max(lambda_{k+1}, 0)`) is required.
    let validate (cfg: SpectralConfig) =
        if cfg.K < 1 || cfg.K >= cfg.D then Check.fail "k" (sprintf "must satisfy 1 <= k < d = %d, got %d" cfg.D cfg.K)
        Check.sameLength "c" cfg.D cfg.C.Length
        Check.sameLength "sigmaPre" cfg.D cfg.SigmaPre.Length
        Check.finiteArray "sigmaPre" cfg.SigmaPre
        if cfg.SigmaPre |> Array.exists (fun a -> not (a > 0.0)) then Check.fail "sigmaPre" "must be > 0 (Assumption 6.1: Sigma_pre invertible)"
        Check.sameLength "beta" cfg.K cfg.Beta.Length
        Check.finiteArray "c" cfg.C
        Check.finiteArray "beta" cfg.Beta
        if not (Double.IsFinite cfg.Sigma2) || cfg.Sigma2 < 0.0 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" cfg.Sigma2)
        let lam = Array.map2 (/) cfg.C cfg.SigmaPre
        if Array.exists2 (fun c a -> abs c > a) cfg.C cfg.SigmaPre then Check.fail "c" "must satisfy |c_i| <= a_i (the joint covariance must be PSD)"
        // The top k of lambda_i = c_i / a_i must be the first k coordinates, separated by a gap.
        let topMin = Array.min lam.[.. cfg.K - 1]
        let restMax = Array.max lam.[cfg.K ..]
        if not (topMin > max restMax 0.0) then
            Check.fail "c" (sprintf "Assumption 6.1 fails: need the eigengap min_{i<=k} c_i/a_i > max(max_{j>k} c_j/a_j, 0), got %g and %g" topMin restMax)
        if cfg.Beta |> Array.forall (fun b -> b = 0.0) then Check.fail "beta" "must be non-zero"

    /// `A* = [diag(sqrt c_i / a_i), 0]` (k x d), a representative of the population minimiser.
    let aStar (cfg: SpectralConfig) : Matrix<float> =
        let a = Linalg.zeros cfg.K cfg.D
        for i in 0 .. cfg.K - 1 do a.[i, i] <- sqrt cfg.C.[i] / cfg.SigmaPre.[i]
        a

    /// `sample`'s transform in place: `z = [xi1; xi2; xi3]` (3d standard normals) becomes `[x; x+; x-]`.
    let ofStandardNormals (cfg: SpectralConfig) (z: float[]) : unit =
        let d = cfg.D
        Check.sameLength "z" (3 * d) z.Length
        let a = cfg.SigmaPre
        for i in 0 .. d - 1 do
            let x = sqrt a.[i] * z.[i]
            z.[i] <- x
            z.[d + i] <- cfg.C.[i] / a.[i] * x + sqrt (max 0.0 (a.[i] - cfg.C.[i] * cfg.C.[i] / a.[i])) * z.[d + i]
            z.[2 * d + i] <- sqrt a.[i] * z.[2 * d + i]

    /// A packed pre-training sample `[x; x+; x-]` (jointly Gaussian construction of docs/case-studies.md §1,
    /// generalised to `Sigma_pre = diag(a)`): `x = a^{1/2} xi1`, `x+ = (c / a) x + (a - c^2 / a)^{1/2} xi2`,
    /// `x- = a^{1/2} xi3`, so `E[x x^T] = E[x+ x+^T] = diag(a)`, `E[x+ x^T] = diag(c)`.
    let sample (cfg: SpectralConfig) (rng: Random) : float[] =
        // xi1, xi2, xi3 drawn in this order into the three blocks, then transformed in place.
        let z = Array.init (3 * cfg.D) (fun _ -> Linalg.gaussian rng)
        ofStandardNormals cfg z
        z

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

    /// Per-sample gradient of (6.2): `-2 A (x x+^T + x+ x^T) + 2 (x^T M x-) A (x x-^T + x- x^T)`, `M = A^T A`,
    /// as the rank-four sum `-2 [(A x) x+^T + (A x+) x^T] + 2 q [(A x) x-^T + (A x-) x^T]`, `q = <A x, A x->`
    /// (`O(k d)`, no d x d matrix).
    let sampleGradient (a: Matrix<float>) (z: float[]) : Matrix<float> =
        let d = a.ColumnCount
        let k = a.RowCount
        Check.sameLength "z" (3 * d) z.Length
        let x, xp, xm = split d z
        let ax, axp, axm = (a * x).ToArray(), (a * xp).ToArray(), (a * xm).ToArray()
        let q2 = Array.fold2 (fun acc u v -> acc + u * v) 0.0 ax axm
        let out = Array.zeroCreate (k * d)
        for j in 0 .. d - 1 do
            let xj, xpj, xmj = z.[j], z.[d + j], z.[2 * d + j]
            for i in 0 .. k - 1 do
                out.[i + k * j] <- -2.0 * (ax.[i] * xpj + axp.[i] * xj) + 2.0 * q2 * (ax.[i] * xmj + axm.[i] * xj)
        DenseMatrix(k, d, out) :> Matrix<float>

    /// Per-sample Hessian-vector product: `-2 E S1 + 2 (x^T (E^T A + A^T E) x-) A S2 + 2 q2 E S2`.
    let sampleHessianVector (a: Matrix<float>) (z: float[]) (e: Matrix<float>) : Matrix<float> =
        let x, xp, xm = split a.ColumnCount z
        let s1 = x.OuterProduct xp + xp.OuterProduct x
        let s2 = x.OuterProduct xm + xm.OuterProduct x
        let q2 = (a * x).DotProduct(a * xm)
        let dq2 = (e * x).DotProduct(a * xm) + (a * x).DotProduct(e * xm)
        e * s1 * -2.0 + a * s2 * (2.0 * dq2) + e * s2 * (2.0 * q2)

    /// Exact population Hessian-vector product of `L(A) = -2 tr(A C A^T) + tr((A S A^T)^2)` (Lemma H.1,
    /// `S = Sigma_pre`): `-4 E C + 4 (E S A^T + A S E^T) A S + 4 (A S A^T) E S`.
    /// The diagonal matrices enter as column scalings, so one product costs `O(k^2 d)` (no d x d product).
    let populationHessianVector (cfg: SpectralConfig) (a: Matrix<float>) (e: Matrix<float>) : Matrix<float> =
        let scaleColumns (x: Matrix<float>) (by: float[]) = DenseMatrix.Create(x.RowCount, x.ColumnCount, fun i j -> x.[i, j] * by.[j]) :> Matrix<float>
        let sp = cfg.SigmaPre
        let asp = scaleColumns a sp
        let esp = scaleColumns e sp
        scaleColumns e cfg.C * -4.0
        + (esp.TransposeAndMultiply a + asp.TransposeAndMultiply e) * asp * 4.0
        + asp.TransposeAndMultiply a * esp * 4.0

    /// Selection matrices writing `x = P1 xi`, `x+ = P2 xi`, `x- = P3 xi`, `xi ~ N(0, I_{3d})`.
    let private selections (cfg: SpectralConfig) =
        let d = cfg.D
        let p1 = Linalg.zeros d (3 * d)
        let p2 = Linalg.zeros d (3 * d)
        let p3 = Linalg.zeros d (3 * d)
        for i in 0 .. d - 1 do
            let a = cfg.SigmaPre.[i]
            p1.[i, i] <- sqrt a
            p2.[i, i] <- cfg.C.[i] / sqrt a
            p2.[i, d + i] <- sqrt (max 0.0 (a - cfg.C.[i] * cfg.C.[i] / a))
            p3.[i, 2 * d + i] <- sqrt a
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

    /// The exact uncentred score second moments `E[<nabla l, E_i> <nabla l, E_j>]` for any directions `E_i`
    /// (k x d), by Isserlis' theorem worked out for this loss. With `x, x+, x-` jointly Gaussian,
    /// `S = Sigma_pre = diag(a)`, `C = E[x+ x^T] = diag(c)`, `M = A^T A`, `N_E = E^T A + A^T E`, the score is
    /// `s_E = -2 u_E + 2 v_E`, `u_E = x^T N_E x+`, `v_E = (x^T M x-)(x^T N_E x-)`, and (conditioning on `x`
    /// for the `x-` moments, then Isserlis in `(x, x+)`):
    /// `E[u_E u_F] = f_E f_F + tr(N_E S N_F S) + tr(N_E C N_F C)`, `f_E = tr(N_E C)`;
    /// `E[u_E v_F] = f_E g_F + tr(N_E S M S N_F C) + tr(N_E C M S N_F S)`, `g_E = tr(M S N_E S)`;
    /// `E[v_E v_F] = tr(K S) tr(N_E S N_F S) + tr(N_E S K S N_F S) + tr(N_E S N_F S K S)
    ///   + 2 [g_E g_F + tr(N_E S N_F S K S) + tr(N_E S M S N_F S M S)]`, `K = M S M`.
    /// Every trace is `tr(N_E X N_F Y)` with `X, Y` diagonal or of rank k, evaluated by
    /// `GaussianMoments.symmetricLowRankTraces` in `O(n^2 d k)` for `n` directions (the generic
    /// `scorePolynomial` + `GaussianMoments.secondMoments` route gives the same numbers in `O(n^2 d^3)`).
    let scoreSecondMoments (cfg: SpectralConfig) (a: Matrix<float>) (dirs: Matrix<float>[]) : Matrix<float> =
        let d = cfg.D
        Linalg.checkShape "a" cfg.K d a
        dirs |> Array.iteri (fun i e -> Linalg.checkShape (sprintf "dirs[%d]" i) cfg.K d e)
        let scaleRows (by: float[]) (x: Matrix<float>) = DenseMatrix.Create(x.RowCount, x.ColumnCount, fun i j -> by.[i] * x.[i, j]) :> Matrix<float>
        let sa = cfg.SigmaPre
        let v = a.Transpose()
        let sv = scaleRows sa v
        let cv = scaleRows cfg.C v
        let asa = a * sv
        let s = DiagonalPlusLowRank.diagonal sa
        let c = DiagonalPlusLowRank.diagonal cfg.C
        let sms = DiagonalPlusLowRank.lowRank sv sv
        let sks = DiagonalPlusLowRank.lowRank (sv * asa) sv
        let cms = DiagonalPlusLowRank.lowRank cv sv
        let trKS = Linalg.inner asa asa
        let terms =
            [| 4.0 * (1.0 + trKS), s, s
               4.0, c, c
               4.0, sks, s
               12.0, s, sks
               8.0, sms, sms
               -4.0, sms, c
               -4.0, cms, s
               -4.0, c, sms
               -4.0, s, cms |]
        let traces = GaussianMoments.symmetricLowRankTraces v (dirs |> Array.map (fun e -> e.Transpose())) terms
        let ac = (scaleRows cfg.C v).Transpose()
        let asms = (sv * (sv.TransposeThisAndMultiply v)).Transpose()
        let f = DenseVector(dirs |> Array.map (fun e -> 2.0 * Linalg.inner ac e))
        let g = DenseVector(dirs |> Array.map (fun e -> 2.0 * Linalg.inner asms e))
        let scalars = f.OuterProduct f * 4.0 - (f.OuterProduct g + g.OuterProduct f) * 4.0 + g.OuterProduct g * 8.0
        Linalg.sym (traces + scalars)

    /// Exact population moments: the gradient and Hessian of `L(A)` (Lemma H.1) and the score second
    /// moments in any directions (`scoreSecondMoments`, Isserlis' theorem in structured form).
    let population (cfg: SpectralConfig) : PopulationMoments =
        let c = DenseMatrix.OfDiagonalArray cfg.C
        { Gradient = SpectralLoss.populationGradient (DenseMatrix.OfDiagonalArray cfg.SigmaPre) c
          HessianVector = populationHessianVector cfg
          ScoreCovariance = scoreSecondMoments cfg }

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

    /// The descriptor-manifold model on `FixedRankPsd(d, k)` (Appendix H): `F(M) = -2 tr(M C) + tr(M S M S)`,
    /// `S = Sigma_pre`; Euclidean gradient `2 (S M S - C)` (for `S = I` its normal part at `M*` is `-2 C_perp`,
    /// so the Weingarten term matters), Euclidean Hessian `Z -> 2 S Z S` (H.10); score `<t, nabla_M l> = -2 x^T t x+ + 2 (x^T M x-)(x^T t x-)`
    /// with exact moments; section anchored at `A*`.
    let descriptorModel (cfg: SpectralConfig) : DescriptorModel =
        validate cfg
        let a = aStar cfg
        let omega = Linalg.sym (a.TransposeThisAndMultiply a)
        let c = DenseMatrix.OfDiagonalArray cfg.C
        let sp = DenseMatrix.OfDiagonalArray cfg.SigmaPre
        let p1, p2, p3 = selections cfg
        let score (t: Matrix<float>) =
            [ { Coefficient = -2.0; Forms = [| GaussianMoments.bilinear p1 t p2 |] }
              { Coefficient = 2.0; Forms = [| GaussianMoments.bilinear p1 omega p3; GaussianMoments.bilinear p1 t p3 |] } ]
        { Manifold = FixedRankPsd.create cfg.D cfg.K
          OmegaStar = omega
          EuclideanGradient = fun m -> (sp * m * sp - c) * 2.0
          EuclideanHessianVector = fun _ z -> sp * Linalg.sym z * sp * 2.0
          ScoreCovariance = fun basis -> GaussianMoments.secondMoments (basis |> Array.map score)
          Section = (Descriptor.gramLeft a).Section }

    /// `tau = sum_{l <= k} lambda_l^2` (the paper's `sum_j j^-2` when `a = 1`, `c_j = 1/j`).
    let tau (cfg: SpectralConfig) = Array.sub (lambdas cfg) 0 cfg.K |> Array.sumBy (fun c -> c * c)

    /// Route `closed` (corrected Cor. 6.3 / (H.39), docs/errata.md): `||L(Z)||^2 = sum_{j>k} s_j chi^2_1` with
    /// `s_j = (1 / (2 a_j)) sum_{i<=k} beta_i^2 (1 + tau + lambda_i^2) lambda_i / (lambda_i - mu_j)^2`,
    /// `lambda_i = c_i / a_i`, `mu_j = c_j / a_j`; for `a = 1`: `sum_i beta_i^2 c_i (1 + tau + c_i^2) / (2 (c_i - c_j)^2)`.
    let closedWeights (cfg: SpectralConfig) : float[] =
        validate cfg
        let t = tau cfg
        let lam = lambdas cfg
        [| for j in cfg.K .. cfg.D - 1 ->
               (Array.init cfg.K (fun i ->
                   let li = lam.[i]
                   cfg.Beta.[i] ** 2.0 * (1.0 + t + li * li) * li / (li - lam.[j]) ** 2.0) |> Array.sum) / (2.0 * cfg.SigmaPre.[j]) |]
        |> Array.sortDescending

    /// Route `paper` (Cor. 6.3 as printed, L530–L537, i.e. (H.39) L5428): weights
    /// `(2 / a_j) sum_{i<=k} beta_i^2 (1 + tau + lambda_i^2) / lambda_i`, `j > k` (for `a = 1`, `c_i = 1/i`,
    /// `beta* = 1`: `d - k` copies of `2 sum_i i (1 + i^-2 + tau)`).
    let paperWeights (cfg: SpectralConfig) : float[] =
        validate cfg
        let t = tau cfg
        let lam = lambdas cfg
        let w = Array.init cfg.K (fun i -> let li = lam.[i] in 2.0 * cfg.Beta.[i] ** 2.0 * (1.0 + t + li * li) / li) |> Array.sum
        [| for j in cfg.K .. cfg.D - 1 -> w / cfg.SigmaPre.[j] |] |> Array.sortDescending

    /// A closed-form route as an `AsymptoticSummary` (`d_eff = k`, `d_base = d`).
    let closedSummary (route: string) (cfg: SpectralConfig) : AsymptoticSummary =
        let weights =
            match route with
            | "closed" -> closedWeights cfg
            | "paper" -> paperWeights cfg
            | _ -> Check.fail "route" (sprintf "must be closed or paper, got %s" route)
        { Route = route; DEff = cfg.K; DBase = cfg.D; Sigma2 = cfg.Sigma2; Gram = Linalg.zeros 0 0; Covariance = Linalg.zeros 0 0; Weights = weights }

    /// Cabannes et al. (2023, Thm. 4) as applied in L547–L552 (App. H.7), logs and constants dropped:
    /// the pre-training term `k (d - k) ||C^-1 A*^T beta*||^2 = k (d - k) sum_{i<=k} beta_i^2 / (a_i^2 c_i)`.
    let cabannesPretrainTerm (cfg: SpectralConfig) : float =
        validate cfg
        float cfg.K * float (cfg.D - cfg.K) * (Array.init cfg.K (fun i -> cfg.Beta.[i] ** 2.0 / (cfg.SigmaPre.[i] ** 2.0 * cfg.C.[i])) |> Array.sum)

    /// The whole prior-art bound `sigma^2 k + alpha^-1 k (d - k) ||C^-1 A*^T beta*||^2` (up to constants).
    let cabannesBound (cfg: SpectralConfig) (alpha: float) : float =
        Check.positive "alpha" alpha
        cfg.Sigma2 * float cfg.K + cabannesPretrainTerm cfg / alpha

    /// The improvement factor over Cabannes et al.: prior-art pre-training term / `E||L(Z)||^2` (the paper
    /// claims order `k`, L550–L552).
    let cabannesImprovement (cfg: SpectralConfig) (pretrainMean: float) : float = cabannesPretrainTerm cfg / pretrainMean

    /// Sufficient statistics of a sample of packed `[x; x+; x-]`. `T = sum_s v_s v_s^T / m`, `v_s = vec(x x-^T)`, is
    /// accumulated by the SIMD Gram kernel `MixtureKernels.AccumulateGramUpperBlock` over batches of the `v_s`
    /// (upper triangle, one fused multiply-add per sample and entry in sample order; mirrored at the end).
    let statistics (d: int) (zs: float[][]) : SpectralStatistics =
        Check.nonEmpty "zs" zs
        let dd = d * d
        let batch = 64
        let chat = Array.zeroCreate dd
        let rows = Array.zeroCreate (batch * dd)
        let gram = Array.zeroCreate (dd * dd)
        let mutable filled = 0
        let flush () =
            FunctionalAsymptotics.Kernels.MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan(rows, 0, filled * dd), filled, dd, Span gram)
            filled <- 0
        for z in zs do
            Check.sameLength "z" (3 * d) z.Length
            let o = filled * dd
            for b in 0 .. d - 1 do
                for a in 0 .. d - 1 do
                    chat.[a + d * b] <- chat.[a + d * b] + 0.5 * (z.[a] * z.[d + b] + z.[b] * z.[d + a])
                    rows.[o + a + d * b] <- z.[a] * z.[2 * d + b]
            filled <- filled + 1
            if filled = batch then flush ()
        if filled > 0 then flush ()
        let m = float zs.Length
        let t = DenseMatrix.Create(dd, dd, fun r c -> if r <= c then gram.[r * dd + c] else gram.[c * dd + r])
        { CHat = DenseMatrix(d, d, chat) / m; Fourth = t / m; Count = zs.Length }

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
