namespace FunctionalAsymptotics.Models

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Kernels

/// Which computation produced a mixture limit law.
type MixtureRoute =
    /// Fisher information conditioned on the inert coordinates `z_q`, `q > K` (exact given `U* = beta I_{K,d}`);
    /// label-stratified antithetic draws `z = u_i +- eps`; the reverse-mode `a(x)` in the eigenbasis of
    /// `S(U*)`, the analytic feature-span basis `diag(V_r, 1)` per block, SIMD Gram kernels.
    | Specialised
    /// The generic horizontal-lift computation (docs/theory.md section 3–4) with the trivial vertical space of
    /// the finite group `S_K` (`B = I_{Kd}`): plain mixture draws, `J_psi` column by column from forward
    /// directional derivatives, `a = J_psi^T theta*`, the feature span found numerically from `E[psi psi^T]`.
    | Generic
    /// The specialised route's integrands with every expectation in closed form except over the `r*`-dimensional
    /// span of the centred centres: given the label, the rotated coordinates `xt_b`, `b >= r*`, are `N(m_b, 1)`
    /// independent of the span coordinates and of the label (`m = V^T u_bar`), the responsibilities do not depend
    /// on them, the score is linear and `a(x)` affine in them, so they integrate exactly; the span coordinates are
    /// integrated per label by Gauss–Hermite tensor grids of increasing order until the last two changes between
    /// successive orders are within `QuadratureTolerance` (the reported error is the larger of them).
    /// `I(U*)` is read off `E[phi phi^T]`. docs/gmm/README.md, "The quadrature route".
    | Quadrature

/// Monte Carlo settings for the mixture's population expectations.
type MixtureOptions =
    { /// Draws for the Fisher information `I(U*) = E[score score^T]`.
      FisherSamples: int
      /// Draws for the Gram matrices `E[a a^T]`, `E[a psi^T]`, `E[psi psi^T]` under `mu_down`.
      GramSamples: int
      /// Independent batches (delete-one-batch jackknife for the standard error); also the parallel grain.
      Batches: int
      /// Seed of the generators (one `System.Random` per batch and stage, seeded from it).
      Seed: int
      /// Euclidean norm of `theta*` (1: paper text, Appendix K; 10: the authors' code).
      ThetaNorm: float
      /// Relative tolerance for the numerical feature span and `d_base` ranks.
      RankTolerance: float
      /// Smallest admissible `lambda_min / lambda_max` of `I(U*)` and of the feature Gram on its span.
      ConditionTolerance: float
      /// Quadrature route: refine the Gauss–Hermite order until `tr(V G)` changes by at most this, relatively.
      QuadratureTolerance: float
      /// Quadrature route: the largest number of nodes (labels times grid points) an order may use.
      QuadratureMaxNodes: int }

/// The estimated limit law of the mixture case study.
type MixtureLimit =
    { /// The route that computed it.
      Route: MixtureRoute
      /// Number of centres `K`.
      K: int
      /// Ambient dimension `d`.
      D: int
      /// Separation `beta` of `U* = beta I_{K,d}`.
      Beta: float
      /// `r* = rank S(U*) = K - 1`.
      RStar: int
      /// `d_eff = K (r* + 1)`.
      DEff: int
      /// Numerical rank of the joint Gram of `(psi, a)` (docs/theory.md section 4, baseline).
      DBase: int
      /// Norm of `theta*` used.
      ThetaNorm: float
      /// Eigenvalues of `V^{1/2} G V^{1/2}` (descending), `V = I(U*)^{-1}`; those within `1e-10` of the largest
      /// in absolute value (rounding in the null space of `G`) are set to 0.
      Weights: float[]
      /// `E ||L(Z)||^2 = tr(V G)` (the point estimate from all draws).
      PretrainMean: float
      /// Standard error of `PretrainMean`: the delete-one-batch jackknife (Monte Carlo routes) or, for the
      /// quadrature route, the larger of the last two changes of `tr(V G)` between successive Gauss–Hermite orders.
      PretrainMeanStdErr: float
      /// Fisher information estimate `I(U*)` (`Kd x Kd`).
      Fisher: Matrix<float>
      /// `G = E[a a^T] - C Sigma^{-1} C^T` on the feature span (`Kd x Kd`).
      G: Matrix<float>
      /// Wall-clock seconds of the Fisher stage, the Gram stage and the final linear algebra.
      Timings: float * float * float }

/// Population expectations of the mixture case study by seeded float64 Monte Carlo (Section 6.3,
/// Theorem 5.1): `V = I(U*)^{-1}` (well-specified MLE: `H = Sigma = I`), `G`, the weights and `tr(V G)`.
[<RequireQualifiedAccess>]
module GaussianMixturePretraining =

    /// Defaults: at (K, d, beta) = (4, 20, 2) the relative standard error of `tr(V G)` is below 0.2%.
    let defaultOptions =
        { FisherSamples = 200_000; GramSamples = 600_000; Batches = 20; Seed = 1
          ThetaNorm = 1.0; RankTolerance = 1e-9; ConditionTolerance = 1e-10
          QuadratureTolerance = 1e-3; QuadratureMaxNodes = 4_000_000 }

    let private validate (o: MixtureOptions) =
        if o.Batches < 2 then Check.fail "Batches" (sprintf "must be >= 2, got %d" o.Batches)
        if o.FisherSamples < 2 * o.Batches then Check.fail "FisherSamples" (sprintf "must be >= 2 * Batches, got %d" o.FisherSamples)
        if o.GramSamples < 2 * o.Batches then Check.fail "GramSamples" (sprintf "must be >= 2 * Batches, got %d" o.GramSamples)
        Check.positive "ThetaNorm" o.ThetaNorm
        Check.positive "RankTolerance" o.RankTolerance
        Check.positive "ConditionTolerance" o.ConditionTolerance
        Check.positive "QuadratureTolerance" o.QuadratureTolerance
        if o.QuadratureMaxNodes < 1000 then Check.fail "QuadratureMaxNodes" (sprintf "must be >= 1000, got %d" o.QuadratureMaxNodes)

    /// Per-batch sums (upper triangles filled by the kernels; symmetrised later).
    type private Sums = { Fisher: float[]; NF: int; Aa: float[]; APsi: float[]; PsiPsi: float[]; NG: int }

    let private upperToSym (n: int) (xs: float[]) =
        Linalg.init n n (fun i j -> if j >= i then xs.[i * n + j] else xs.[j * n + i])

    let private rowMajor (rows: int) (cols: int) (xs: float[]) = (Linalg.init rows cols (fun i j -> xs.[i * cols + j]))

    /// `tr(V G)` and the ingredients from moment sums: `V = I^{-1}`, `G = A - C S^{-1} C^T` (exact solve on the span).
    let private evaluate (o: MixtureOptions) (kd: int) (p: int) (fisher: Matrix<float>) (aa: Matrix<float>) (aPsi: Matrix<float>) (psiPsi: Matrix<float>) =
        let vMat = Linalg.inversePd "Fisher information I(U*)" o.ConditionTolerance fisher
        let sInv =
            try Linalg.inversePd "feature Gram E[psi psi^T] on its span" o.ConditionTolerance psiPsi
            with :? RankDeficientException as e ->
                raise (MixtureAssumptionException(sprintf "(iii) rank E[psi psi^T] < K(r*+1) = %d (numerical rank %d)" p e.NumericalRank))
        let g = Linalg.sym (aa - aPsi * sInv * aPsi.Transpose())
        let tr = (vMat.PointwiseMultiply(g)).Enumerate() |> Seq.sum
        ignore kd
        tr, vMat, g

    /// A generator per (seed, stage, batch), seeded deterministically through SplitMix64 (reproducible
    /// across processes; swap for the counter-based `Rng.stream` when it lands).
    let private rng (seed: int) (stage: int) (batch: int) =
        let mutable z = uint64 seed * 0x9E3779B97F4A7C15UL + uint64 stage * 0xBF58476D1CE4E5B9UL + uint64 batch * 0x94D049BB133111EBUL
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z <- z ^^^ (z >>> 31)
        Random(int (z &&& 0x7FFFFFFFUL))

    /// Split `n` into `b` near-equal parts.
    let private parts (n: int) (b: int) = Array.init b (fun j -> n / b + (if j < n % b then 1 else 0))

    /// Fisher sums at `U* = beta I_{K,d}` by conditioning on the inert coordinates. `gamma` depends on `z`
    /// only through `y = (z_1..z_K)` (`-|z - u_i|^2/2 = -|z|^2/2 + beta z_i - beta^2/2`), and `z_q`, `q > K`, is
    /// `N(0, 1)` independent of `y` and of the label. Hence, with `r_i = y - beta e_i`:
    /// `I[(i,q),(j,q')] = E[gamma_i gamma_j r_iq r_jq']` for `q, q' <= K`, `= E[gamma_i gamma_j] delta_qq'` for
    /// `q, q' > K`, and `0` across. Only `y` is drawn: label-stratified and antithetic, `y = beta e_i +- eps`.
    /// Returns the full upper triangle (`Kd x Kd`, row-major) of the sum and the draw count.
    [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)>]
    let private fisherSpecialised (u: Matrix<float>) (o: MixtureOptions) (batch: int) (n: int) =
        let d, k = u.RowCount, u.ColumnCount
        let beta = u.[0, 0]
        let kd = k * d
        let kk = k * k
        let m1 = Array.zeroCreate (kk * kk)
        let m2 = Array.zeroCreate (k * k)
        let r = rng o.Seed 1 batch
        let pairsPerLabel = max 1 (n / (2 * k))
        let eps = Array.zeroCreate k
        let y = Array.zeroCreate k
        let sc = Array.zeroCreate kk
        let post = Array.zeroCreate k
        for i in 0 .. k - 1 do
            for _ in 1 .. pairsPerLabel do
                for q in 0 .. k - 1 do eps.[q] <- Linalg.gaussian r
                for sign in [| 1.0; -1.0 |] do
                    for q in 0 .. k - 1 do y.[q] <- (if q = i then beta else 0.0) + sign * eps.[q]
                    for j in 0 .. k - 1 do post.[j] <- beta * y.[j]
                    MixtureKernels.SoftmaxInPlace(Span post)
                    for j in 0 .. k - 1 do
                        for q in 0 .. k - 1 do sc.[j * k + q] <- post.[j] * (y.[q] - (if q = j then beta else 0.0))
                    MixtureKernels.AccumulateGramUpper(ReadOnlySpan sc, Span m1)
                    MixtureKernels.AccumulateGramUpper(ReadOnlySpan post, Span m2)
        let count = 2 * k * pairsPerLabel
        let acc = Array.zeroCreate (kd * kd)
        for i in 0 .. k - 1 do
            for j in i .. k - 1 do
                for q in 0 .. d - 1 do
                    for q2 in 0 .. d - 1 do
                        let a, b = i * d + q, j * d + q2
                        if b >= a then
                            if q < k && q2 < k then
                                let ia, ib = i * k + q, j * k + q2
                                acc.[a * kd + b] <- if ib >= ia then m1.[ia * kk + ib] else m1.[ib * kk + ia]
                            elif q = q2 then
                                acc.[a * kd + b] <- m2.[i * k + j]
        acc, count

    [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)>]
    let private gramSpecialised (u: Matrix<float>) (adj: GaussianMixture.Adjoint) (p: int) (o: MixtureOptions) (batch: int) (n: int) =
        let d, k = u.RowCount, u.ColumnCount
        let kd = k * d
        let aa = Array.zeroCreate (kd * kd)
        let aPsi = Array.zeroCreate (kd * p)
        let psiPsi = Array.zeroCreate (p * p)
        let r = rng o.Seed 2 batch
        let pairsPerLabel = max 1 (n / (2 * k))
        let eps = Array.zeroCreate d
        let z = Array.zeroCreate d
        let block = 32
        let gradBuf = Array.zeroCreate (block * kd)
        let phiBuf = Array.zeroCreate (block * p)
        let mutable filled = 0
        let flush () =
            MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan gradBuf, filled, kd, Span aa)
            MixtureKernels.AccumulateCrossBlock(ReadOnlySpan gradBuf, ReadOnlySpan phiBuf, filled, kd, p, Span aPsi)
            MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan phiBuf, filled, p, Span psiPsi)
            filled <- 0
        let scratch = Array.zeroCreate (GaussianMixture.adjointScratchLength adj)
        let cols = Array.init k (fun i -> u.Column(i).ToArray())
        for i in 0 .. k - 1 do
            for _ in 1 .. pairsPerLabel do
                for q in 0 .. d - 1 do eps.[q] <- Linalg.gaussian r
                for t in 0 .. 1 do
                    let sign = if t = 0 then 1.0 else -1.0
                    for q in 0 .. d - 1 do z.[q] <- cols.[i].[q] + sign * eps.[q]
                    GaussianMixture.adjointGradientIn false adj (ReadOnlySpan z) (Span(gradBuf, filled * kd, kd)) (Span(phiBuf, filled * p, p)) scratch
                    filled <- filled + 1
                    if filled = block then flush ()
        if filled > 0 then flush ()
        aa, aPsi, psiPsi, 2 * k * pairsPerLabel

    let private fisherGeneric (u: Matrix<float>) (o: MixtureOptions) (batch: int) (n: int) =
        let kd = u.RowCount * u.ColumnCount
        let acc = Array.zeroCreate (kd * kd)
        let r = rng o.Seed 3 batch
        for _ in 1 .. n do
            let _, z = GaussianMixture.sample u r
            MixtureKernels.AccumulateGramUpperReference(ReadOnlySpan(GaussianMixture.score u z), Span acc)
        acc, n

    let private gramGeneric (u: Matrix<float>) (pr: GaussianMixture.Projector) (theta: float[]) (o: MixtureOptions) (batch: int) (n: int) =
        let d, k = u.RowCount, u.ColumnCount
        let kd = k * d
        let q = k * (d + 1)
        let directions =
            Array.init kd (fun j ->
                let du = Linalg.zeros d k
                du.[j % d, j / d] <- 1.0
                du)
        let dps = directions |> Array.map (GaussianMixture.projectorDerivative pr)
        let aa = Array.zeroCreate (kd * kd)
        let aPsi = Array.zeroCreate (kd * q)
        let psiPsi = Array.zeroCreate (q * q)
        let r = rng o.Seed 4 batch
        let a = Array.zeroCreate kd
        for _ in 1 .. n do
            let _, x = GaussianMixture.sample u r
            let psi = GaussianMixture.features pr u x
            for j in 0 .. kd - 1 do
                let col = GaussianMixture.featureDerivativeGiven pr dps.[j] u x directions.[j]
                let mutable s = 0.0
                for t in 0 .. q - 1 do s <- s + col.[t] * theta.[t]
                a.[j] <- s
            MixtureKernels.AccumulateGramUpperReference(ReadOnlySpan a, Span aa)
            MixtureKernels.AccumulateOuterReference(ReadOnlySpan a, ReadOnlySpan psi, Span aPsi)
            MixtureKernels.AccumulateGramUpperReference(ReadOnlySpan psi, Span psiPsi)
        aa, aPsi, psiPsi, n

    let private addInto (dst: float[]) (src: float[]) = for j in 0 .. dst.Length - 1 do dst.[j] <- dst.[j] + src.[j]

    /// Product weights below this (the grid's weights sum to 1, divided by K per label) are skipped: their nodes lie
    /// beyond about 7 standard deviations, where the polynomially growing integrands contribute far below the
    /// tolerance (`tr(V G)` moves by 2e-10 relative at (4, 20, 2) and 2e-9 at (5, 12, 2.5) against the cut 1e-18,
    /// whose grids are 1.6 times larger; the quadrature error reported there is 7e-4 and 3e-3).
    [<Literal>]
    let private NegligibleWeight = 1e-13

    /// An orthonormal basis (row-major `(d - r*) x m`, and `m`) of the span of the vectors `Tt_j`, `Ut_j` (`j < K`)
    /// and `mean`, restricted to the rotated coordinates `b >= r*`: with the off-span coordinates at their mean, the
    /// rotated gradient's entries `(i, b)`, `b >= r*`, are `sum_{a < r*} N_ba C_ai` and each column of `N` is a
    /// combination of these vectors divided by `lambda_a - lambda_b = lambda_a` (`adjointGradientOfRotated`), so every
    /// block's off-span part lies in this span, of dimension at most `2K + 1` (2 for `theta*` parallel to `1_d`)
    /// instead of `d - r*`. Gram–Schmidt applied twice; a vector whose remainder is below `1e-13` of its length adds
    /// no direction.
    let private offSpanBasis (adj: GaussianMixture.Adjoint) (mean: float[]) : float[] * int =
        let d, k, r = adj.D, adj.K, adj.R
        let rows = d - r
        let candidates =
            [| for j in 0 .. k - 1 do
                   yield Array.init rows (fun b -> adj.Tt.[j * d + r + b])
                   yield Array.init rows (fun b -> adj.Ut.[j * d + r + b])
               yield Array.init rows (fun b -> mean.[r + b]) |]
        let basis = Collections.Generic.List<float[]>()
        for v in candidates do
            let norm0 = sqrt (Array.sumBy (fun x -> x * x) v)
            let x = Array.copy v
            for _ in 1 .. 2 do
                for q in basis do
                    let mutable dot = 0.0
                    for b in 0 .. rows - 1 do dot <- dot + q.[b] * x.[b]
                    for b in 0 .. rows - 1 do x.[b] <- x.[b] - dot * q.[b]
            let norm = sqrt (Array.sumBy (fun x -> x * x) x)
            if norm0 > 0.0 && norm > 1e-13 * norm0 && basis.Count < rows then basis.Add(x |> Array.map (fun y -> y / norm))
        let m = basis.Count
        Array.init (rows * m) (fun j -> basis.[j % m].[j / m]), m

    /// Moments by the quadrature route at one Gauss–Hermite order `n` (means, not sums): the rotated Fisher
    /// information `R^T I(U*) R` (`R = I_K (x) V`), `E[a a^T]` and `E[a phi^T]` in the eigenbasis, and `E[phi phi^T]`.
    /// Per label `tau` and grid node `eps`, the span coordinates are `y = (V_r^T u_tau) + eps` and the others are set
    /// to their mean `m`; `a` there (`abar`) and the slope `e` give `E[a a^T] = E[abar abar^T] + E[e e^T] (x) I`
    /// on the blocks `b >= r*` (the exact Gaussian integral of an affine function); `E[a phi^T] = E[abar phi^T]`.
    /// `abar` is accumulated in the reduced coordinates `(I_K (x) diag(I_r*, Q^T)) abar` (`offSpanBasis`), `K (r* + m)`
    /// entries instead of `Kd`, and the moments mapped back once (`abar` lies in that subspace, so nothing is lost).
    /// The score at `U*` is `-gamma_i (xt - Ut_i)` with `gamma = pi` (the posterior depends on the span only), so
    /// `I` on the span is `E[phi phi^T]` restricted to the span entries and `E[pi_i pi_j] I` off it.
    [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)>]
    let private quadratureMoments (adj: GaussianMixture.Adjoint) (n: int) =
        let d, k, r = adj.D, adj.K, adj.R
        let kd, p = k * d, k * (r + 1)
        let nodes, weights = GaussHermite.tensor n r
        let mean = Array.zeroCreate d
        for b in r .. d - 1 do
            let mutable s = 0.0
            for i in 0 .. k - 1 do s <- s + adj.Ut.[i * d + b]
            mean.[b] <- s / float k
        let q, m = offSpanBasis adj mean
        let rm = r + m
        let kr = k * rm
        // one label per task (the labels in parallel), summed in label order: the same bits on any core count
        let perLabel (tau: int) =
            let aa = Array.zeroCreate (kr * kr)
            let aPsi = Array.zeroCreate (kr * p)
            let psiPsi = Array.zeroCreate (p * p)
            let ee = Array.zeroCreate (k * k)
            let xt = Array.copy mean
            let block = 32
            let gradBuf = Array.zeroCreate (block * kr)
            let phiBuf = Array.zeroCreate (block * p)
            let full = Array.zeroCreate kd
            let slope = Array.zeroCreate k
            let scratch = Array.zeroCreate (GaussianMixture.adjointScratchLength adj)
            let mutable filled = 0
            let flush () =
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan(gradBuf, 0, filled * kr), filled, kr, Span aa)
                MixtureKernels.AccumulateCrossBlock(ReadOnlySpan(gradBuf, 0, filled * kr), ReadOnlySpan(phiBuf, 0, filled * p), filled, kr, p, Span aPsi)
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan(phiBuf, 0, filled * p), filled, p, Span psiPsi)
                filled <- 0
            for c in 0 .. weights.Length - 1 do
                let w = weights.[c] / float k
                if w >= NegligibleWeight then
                    for a in 0 .. r - 1 do xt.[a] <- adj.Ut.[tau * d + a] + nodes.[c * r + a]
                    let g = Span(gradBuf, filled * kr, kr)
                    let f = Span(phiBuf, filled * p, p)
                    GaussianMixture.adjointGradientRotated adj (ReadOnlySpan xt) (Span full) f (Span slope) scratch
                    let sw = sqrt w
                    for i in 0 .. k - 1 do
                        for a in 0 .. r - 1 do g.[i * rm + a] <- sw * full.[i * d + a]
                        for j in 0 .. m - 1 do
                            let mutable s = 0.0
                            for b in 0 .. d - r - 1 do s <- s + q.[b * m + j] * full.[i * d + r + b]
                            g.[i * rm + r + j] <- sw * s
                    for j in 0 .. p - 1 do f.[j] <- sw * f.[j]
                    for i in 0 .. k - 1 do
                        for j in i .. k - 1 do ee.[i * k + j] <- ee.[i * k + j] + w * slope.[i] * slope.[j]
                    filled <- filled + 1
                    if filled = block then flush ()
            if filled > 0 then flush ()
            aa, aPsi, psiPsi, ee
        let parts = Array.Parallel.init k perLabel
        let aa, aPsi, psiPsi, ee = parts.[0]
        for tau in 1 .. k - 1 do
            let a2, c2, p2, e2 = parts.[tau]
            addInto aa a2; addInto aPsi c2; addInto psiPsi p2; addInto ee e2
        let psiM = upperToSym p psiPsi
        let eeM = upperToSym k ee
        // back from the reduced coordinates: B = I_K (x) diag(I_r*, Q), kd x K (r* + m)
        let expand =
            let bm = Linalg.zeros kd kr
            for i in 0 .. k - 1 do
                for a in 0 .. r - 1 do bm.[i * d + a, i * rm + a] <- 1.0
                for b in 0 .. d - r - 1 do
                    for j in 0 .. m - 1 do bm.[i * d + r + b, i * rm + r + j] <- q.[b * m + j]
            bm
        let aaM = Linalg.sym (expand * upperToSym kr aa * expand.Transpose())
        for i in 0 .. k - 1 do
            for j in 0 .. k - 1 do
                for b in r .. d - 1 do aaM.[i * d + b, j * d + b] <- aaM.[i * d + b, j * d + b] + eeM.[i, j]
        let fisher =
            DenseMatrix.Create(kd, kd, fun x y ->
                let i, a, j, b = x / d, x % d, y / d, y % d
                if a < r && b < r then psiM.[i * (r + 1) + a, j * (r + 1) + b]
                elif a >= r && a = b then psiM.[i * (r + 1) + r, j * (r + 1) + r]
                else 0.0) :> Matrix<float>
        fisher, aaM, expand * rowMajor kr p aPsi, psiM

    /// Gauss–Hermite orders tried by the quadrature route, in turn.
    let private quadratureOrders = [| 6; 9; 13; 19; 27; 38; 54; 76 |]


    /// The record from the moments on the feature span (rotated coordinates where the route uses them, `rot` back):
    /// the weights (eigenvalues of `V^{1/2} G V^{1/2}`, the numerical null space of `G` set to 0) and `d_base`, the
    /// numerical rank of the joint Gram of `(phi, a)`.
    let private assemble (route: MixtureRoute) (k: int) (d: int) (beta: float) (o: MixtureOptions) (tr: float, vMat: Matrix<float>, g: Matrix<float>) (se: float)
                         (aaM: Matrix<float>) (apM: Matrix<float>) (ppM: Matrix<float>) (fisher: Matrix<float>) (rot: Matrix<float>) (timings: float * float * float) =
        let rStar = k - 1
        let dEff = GaussianMixture.dEff k rStar
        let kd = k * d
        let half = Linalg.sqrtPsd vMat
        let lam, _ = Linalg.eigSymDesc (half * g * half)
        let top = max lam.[0] 0.0
        let weights =
            lam |> Array.map (fun l ->
                if abs l <= 1e-10 * max top 1e-300 then 0.0   // the numerical null space of G
                elif l > 0.0 then l
                else raise (RankDeficientException("G (not positive semi-definite)", 0, 0)))
        // d_base: rank of the joint Gram of (phi, a)
        let joint =
            let m = Linalg.zeros (dEff + kd) (dEff + kd)
            m.SetSubMatrix(0, 0, ppM); m.SetSubMatrix(dEff, dEff, aaM)
            m.SetSubMatrix(dEff, 0, apM); m.SetSubMatrix(0, dEff, apM.Transpose())
            m
        let dBase = Linalg.numericalRank o.RankTolerance joint
        { Route = route; K = k; D = d; Beta = beta; RStar = rStar; DEff = dEff; DBase = dBase; ThetaNorm = o.ThetaNorm
          Weights = weights; PretrainMean = tr; PretrainMeanStdErr = se; Fisher = fisher; G = rot * g * rot.Transpose()
          Timings = timings }

    /// `R = I_K (x) V` for the eigenvectors `V` of `S(U*)` behind an adjoint.
    let private blockRotation (adj: GaussianMixture.Adjoint) (k: int) (d: int) : Matrix<float> =
        let v = GaussianMixture.adjointBasis adj
        let m = Linalg.zeros (k * d) (k * d)
        for i in 0 .. k - 1 do m.SetSubMatrix(i * d, i * d, v)
        m

    /// The quadrature route (see `MixtureRoute.Quadrature`): orders from `quadratureOrders` until the last two
    /// changes of `tr(V G)` are within `o.QuadratureTolerance` relatively or the next order would exceed
    /// `o.QuadratureMaxNodes`; the error reported is the larger of the last two changes.
    let private estimateQuadrature (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit =
        let u = GaussianMixture.uStar k d beta
        let rStar = k - 1
        let pr = GaussianMixture.projector rStar u
        let adj = GaussianMixture.adjoint pr u (GaussianMixture.thetaStar k d o.ThetaNorm)
        let kd = k * d
        let dEff = GaussianMixture.dEff k rStar
        let sw = Diagnostics.Stopwatch.StartNew()
        let nodes n = float k * float n ** float rStar
        let feasible = quadratureOrders |> Array.filter (fun n -> nodes n <= float o.QuadratureMaxNodes)
        if feasible.Length < 2 then
            Check.fail "QuadratureMaxNodes" (sprintf "allows fewer than two Gauss-Hermite orders at K = %d (r* = %d): needs >= %g" k rStar (nodes quadratureOrders.[1]))
        let at n =
            let fisher, aaM, apM, ppM = quadratureMoments adj n
            let res = evaluate o kd dEff fisher aaM apM ppM
            res, fisher, aaM, apM, ppM
        let trOf ((t, _, _), _, _, _, _) = t
        let mutable cur = at feasible.[0]
        let mutable lastChange = infinity
        let mutable prevChange = infinity
        let mutable idx = 0
        // stop when the last two changes are both within the tolerance (one small change can be a coincidence
        // of an oscillating sequence); the error reported is the larger of the two
        while idx + 1 < feasible.Length && max lastChange prevChange > o.QuadratureTolerance * abs (trOf cur) do
            idx <- idx + 1
            let next = at feasible.[idx]
            prevChange <- lastChange
            lastChange <- abs (trOf next - trOf cur)
            cur <- next
        let tGram = sw.Elapsed.TotalSeconds
        let res, fisher, aaM, apM, ppM = cur
        let rot = blockRotation adj k d
        let err = if Double.IsFinite prevChange then max lastChange prevChange else lastChange
        let limit = assemble Quadrature k d beta o res err aaM apM ppM (rot * fisher * rot.Transpose()) rot (0.0, tGram, 0.0)
        { limit with Timings = (0.0, tGram, sw.Elapsed.TotalSeconds - tGram) }

    /// The limit-law ingredients of the mixture at `U* = beta I_{K,d}`, `theta*` of norm `o.ThetaNorm`,
    /// by the chosen route. `E||L(Z)||^2 = tr(V G)` (Theorem 5.1, eq. (5.2)); the standard error is the
    /// delete-one-batch jackknife over `o.Batches` independent batches (Fisher and Gram draws both resampled).
    let private estimateMonteCarlo (cancel: CancellationToken) (progress: IProgress<WorkProgress>) (route: MixtureRoute) (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit =
        let counter = ProgressCounter(progress, 2 * o.Batches)
        let u = GaussianMixture.uStar k d beta
        let rStar = k - 1
        let pr = GaussianMixture.projector rStar u
        let theta = GaussianMixture.thetaStar k d o.ThetaNorm
        let kd = k * d
        let dEff = GaussianMixture.dEff k rStar
        let sw = Diagnostics.Stopwatch.StartNew()
        let fParts = parts o.FisherSamples o.Batches
        let fisherBatches =
            LongRun.parallelInit cancel counter o.Batches (fun b ->
                if route = Generic then fisherGeneric u o b fParts.[b] else fisherSpecialised u o b fParts.[b])
        let tFisher = sw.Elapsed.TotalSeconds
        let gParts = parts o.GramSamples o.Batches
        let adj = GaussianMixture.adjoint pr u theta
        let q = if route = Generic then k * (d + 1) else dEff
        let gramBatches =
            LongRun.parallelInit cancel counter o.Batches (fun b ->
                if route = Generic then gramGeneric u pr theta o b gParts.[b] else gramSpecialised u adj dEff o b gParts.[b])
        let tGram = sw.Elapsed.TotalSeconds - tFisher
        let total = { Fisher = Array.zeroCreate (kd * kd); NF = 0; Aa = Array.zeroCreate (kd * kd); APsi = Array.zeroCreate (kd * q); PsiPsi = Array.zeroCreate (q * q); NG = 0 }
        let fisherTot = Array.zeroCreate (kd * kd)
        let aaTot = Array.zeroCreate (kd * kd)
        let aPsiTot = Array.zeroCreate (kd * q)
        let psiTot = Array.zeroCreate (q * q)
        let mutable nF = 0
        let mutable nG = 0
        for (f, n) in fisherBatches do addInto fisherTot f; nF <- nF + n
        for (a, c, s, n) in gramBatches do addInto aaTot a; addInto aPsiTot c; addInto psiTot s; nG <- nG + n
        ignore total
        // the feature span: analytic (specialised) or numerical (generic); fixed across the jackknife
        let basis =
            if route <> Generic then Linalg.eye dEff
            else
                let s = upperToSym q psiTot / float nG
                let bs = Linalg.rangeBasis o.RankTolerance s
                if bs.ColumnCount <> dEff then
                    raise (MixtureAssumptionException(sprintf "(iii) rank E[psi psi^T] = %d, not K(r*+1) = %d" bs.ColumnCount dEff))
                bs
        // the specialised route accumulates a(x) in the eigenbasis of S(U*): R = I_K (x) V; tr(V G) and the
        // weights are invariant when I(U*) is rotated the same way, R^T I R.
        let rot =
            match route with
            | Generic -> Linalg.eye kd
            | _ -> blockRotation adj k d
        let stat (fis: float[]) (nf: int) (aa: float[]) (ap: float[]) (pp: float[]) (ng: int) =
            let fisher = rot.Transpose() * (upperToSym kd fis / float nf) * rot
            let aaM = upperToSym kd aa / float ng
            let apM = rowMajor kd q ap / float ng * basis
            let ppM = basis.Transpose() * (upperToSym q pp / float ng) * basis
            evaluate o kd dEff fisher aaM apM ppM
        let tr, vMat, g = stat fisherTot nF aaTot aPsiTot psiTot nG
        let loo =
            Array.init o.Batches (fun b ->
                let f, nf = fisherBatches.[b]
                let a, c, s, ng = gramBatches.[b]
                let sub (t: float[]) (x: float[]) = Array.map2 (-) t x
                let v, _, _ = stat (sub fisherTot f) (nF - nf) (sub aaTot a) (sub aPsiTot c) (sub psiTot s) (nG - ng)
                v)
        let bF = float o.Batches
        let mLoo = Array.average loo
        let se = sqrt ((bF - 1.0) / bF * (loo |> Array.sumBy (fun v -> (v - mLoo) ** 2.0)))
        let aaM = upperToSym kd aaTot / float nG
        let apM = rowMajor kd q aPsiTot / float nG * basis
        let ppM = basis.Transpose() * (upperToSym q psiTot / float nG) * basis
        let tAlg = sw.Elapsed.TotalSeconds - tFisher - tGram
        assemble route k d beta o (tr, vMat, g) se aaM apM ppM (upperToSym kd fisherTot / float nF) rot (tFisher, tGram, tAlg)

    /// The limit-law ingredients of the mixture by `route`: the quadrature (`Quadrature`: deterministic; its
    /// error is the change between the last quadrature orders, one unit of progress) or Monte Carlo
    /// (`Specialised`, `Generic`: `progress` counts the `2 o.Batches` batches, Fisher then Gram, as they finish).
    /// Once `cancel` is set no further unit of work starts and `OperationCanceledException` is raised.
    let estimateWith (cancel: CancellationToken) (progress: IProgress<WorkProgress>) (route: MixtureRoute) (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit =
        validate o
        cancel.ThrowIfCancellationRequested()
        match route with
        | Quadrature ->
            let limit = estimateQuadrature k d beta o
            progress.Report { Completed = 1; Total = 1 }
            limit
        | Specialised | Generic -> estimateMonteCarlo cancel progress route k d beta o

    /// `estimateWith` without cancellation or progress reports.
    let estimate (route: MixtureRoute) (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit =
        estimateWith CancellationToken.None LongRun.none route k d beta o

    /// The limit law `sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1` (Theorem 5.1) from an estimate.
    let limitLaw (sigma2: float) (alpha: float) (m: MixtureLimit) : LimitLaw =
        LimitLaw.create sigma2 m.DEff alpha m.Weights

    /// Figure 2's fixed values (L660–L690): varying `K` uses `d = 30, beta = 2`; varying `d` uses
    /// `K = 4, beta = 2`; varying `beta` uses `K = 4, d = 20`.
    let figure2Fixed (vary: string) : int * int * float =
        match vary with
        | "K" -> 0, 30, 2.0
        | "d" -> 4, 0, 2.0
        | "beta" -> 4, 20, 0.0
        | other -> Check.fail "vary" (sprintf "must be K, d or beta, got %s" other)

    /// The route `fa gmm`, the sweeps and the simulation's limit law use: `Quadrature` while its grids stay small
    /// (`K <= 5`, a grid of dimension `r* = K - 1 <= 4`) and the gates smooth enough for it to converge fast
    /// (`beta <= 2.5`: the responsibilities' poles lie about `pi / (beta sqrt 2)` off the real span, and at
    /// beta = 3-4 the Gauss–Hermite sequence converges slowly and erratically, docs/gmm/README.md), else
    /// `Specialised` (Monte Carlo).
    let preferredRoute (k: int) (beta: float) : MixtureRoute = if k <= 5 && beta <= 2.5 then Quadrature else Specialised

    /// A Figure 2 sweep: `E||L(Z)||^2` at each value of `vary` (`"K"`, `"d"` or `"beta"`), the other two
    /// held at `(k, d, beta)`; every point by `preferredRoute` with `o` (Monte Carlo points share the seed:
    /// common random numbers). `progress` counts the units of work of all points (`estimateWith`); once
    /// `cancel` is set no further batch starts and `OperationCanceledException` is raised.
    let sweepWith (cancel: CancellationToken) (progress: IProgress<WorkProgress>) (vary: string) (values: float[]) (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit[] =
        Check.nonEmpty "values" values
        validate o
        let perPoint = 2 * o.Batches
        values
        |> Array.mapi (fun i v ->
            let point =
                { new IProgress<WorkProgress> with
                    member _.Report p = progress.Report { Completed = i * perPoint + p.Completed; Total = values.Length * perPoint } }
            match vary with
            | "K" -> estimateWith cancel point (preferredRoute (int v) beta) (int v) d beta o
            | "d" -> estimateWith cancel point (preferredRoute k beta) k (int v) beta o
            | "beta" -> estimateWith cancel point (preferredRoute k v) k d v o
            | other -> Check.fail "vary" (sprintf "must be K, d or beta, got %s" other))

    /// `sweepWith` without cancellation or progress reports.
    let sweep (vary: string) (values: float[]) (k: int) (d: int) (beta: float) (o: MixtureOptions) : MixtureLimit[] =
        sweepWith CancellationToken.None LongRun.none vary values k d beta o
