namespace FunctionalAsymptotics.Simulation

open System
open System.Runtime.Intrinsics
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Models

/// Simulation adapter for the Gaussian-mixture model (Section 6.3, Appendix K): `K` unit-covariance
/// components with centres `U* = beta I_{K,d}`, `theta*` of norm `thetaNorm`, downstream design from the
/// same mixture and `f*(x) = theta*^T psi_{U*}(x)` (6.4).
///
/// Each replicate draws `m` unlabelled samples, fits the centres by EM (k-means++ starts, aligned to `U*`
/// by optimal assignment), builds the features at the fitted `U`, draws the `n`-point design, and computes
/// the exact conditional risk of Proposition B.1 (noise integrated out analytically, as in Appendix K):
/// `n Rep = n min_theta E(f* - theta^T psi_U)^2`, `n Leak = n (theta_n - theta_U)^T Sigma_U (theta_n - theta_U)`
/// and `Var = sigma^2 tr(Sigma_U Sigma_n^-1)`. The features are non-linear, so the population moments at the
/// fitted `U` (`Sigma_U = E psi psi^T`, `E psi f*`, `E f*^2`) come from `populationDraws` seeded draws per
/// replicate; `Rep` is the least-squares residual on that one sample (common random numbers), whose
/// relative Monte Carlo error is about `sqrt(2 / populationDraws)`. Those draws, and the design's, are made in
/// an orthonormal basis of `span(V_r) + span(V*_r)` (`2 r*` normals each instead of `d`; `moments`): the
/// features see `x` only through that span, and the mixture's law there is the same mixture of unit Gaussians.
///
/// The features are used in coordinates of their span: `psi_U` lives in `range(P_U)` per block, so with
/// `V_r` the leading `r* = K - 1` eigenvectors of `S(U)` the vector
/// `(pi_i V_r^T (x - u_i), pi_i)_{i <= K}` of dimension `d_eff = K (r* + 1)` is an isometric image of `psi_U`
/// (same Gram, same least-squares fits): the exact solve on the `d_eff`-dimensional span, no ridge.
[<RequireQualifiedAccess>]
module GaussianMixturePipeline =

    /// The projector data of `U` for the compact features: `V_r` row-major (`d x r*`, entry `(j, a)` at
    /// `j r* + a`), the projected centres `V_r^T u_i` and half their squared norms.
    type internal Basis = { Vr: float[]; R: int; Vu: float[][]; HalfNorms: float[] }

    /// The regression function `f*(x) = theta*^T psi_{U*}(x) = sum_i pi*_i(x) (a_i^T (x - u*_i) + t_i)` (6.4),
    /// `a_i = P* theta*_i` (first `d` entries of block `i`), `t_i` its last entry. As `a_i` lies in
    /// `range(P*) = span(V*_r)`, `a_i^T x = (V*_r^T a_i)^T (V*_r^T x)`: `Star` is the basis at `U*`,
    /// `AHat.[i] = V*_r^T a_i` and `Offset.[i] = t_i - a_i^T u*_i`.
    type internal Target = { Star: Basis; AHat: float[][]; Offset: float[] }

    /// Draws per batch of the moment accumulation.
    [<Literal>]
    let private Batch = 256

    let internal compactBasis (u: Matrix<float>) : Basis =
        let k, d = u.ColumnCount, u.RowCount
        let r = k - 1
        let pr = GaussianMixture.projector r u
        let vr = pr.Eigenvectors.SubMatrix(0, d, 0, r)
        let vu = Array.init k (fun i -> (vr.TransposeThisAndMultiply(u.Column i)).ToArray())
        { Vr = Array.init (d * r) (fun idx -> vr.[idx / r, idx % r]); R = r; Vu = vu
          HalfNorms = vu |> Array.map (fun v -> 0.5 * Array.sumBy (fun t -> t * t) v) }

    /// `f*` of the model with centres `uStar` and `theta*` of norm `thetaNorm`.
    let internal target (uStar: Matrix<float>) (thetaNorm: float) : Target =
        let k, d = uStar.ColumnCount, uStar.RowCount
        let theta = GaussianMixture.thetaStar k d thetaNorm
        let prStar = GaussianMixture.projector (k - 1) uStar
        let star = compactBasis uStar
        let vr = DenseMatrix.Create(d, star.R, fun j a -> star.Vr.[j * star.R + a])
        let a = Array.init k (fun i -> prStar.P * DenseVector(theta.[i * (d + 1) .. i * (d + 1) + d - 1]))
        { Star = star
          AHat = a |> Array.map (fun ai -> (vr.TransposeThisAndMultiply ai).ToArray())
          Offset = Array.init k (fun i -> theta.[i * (d + 1) + d] - a.[i].DotProduct(uStar.Column i)) }

    /// `proj = V_r^T x` for the row of `xs` at `off` (length `d`).
    let private project (b: Basis) (xs: float[]) (off: int) (d: int) (proj: float[]) =
        let r = b.R
        let vr = b.Vr
        for a in 0 .. r - 1 do proj.[a] <- 0.0
        for j in 0 .. d - 1 do
            let xj = xs.[off + j]
            let o = j * r
            for a in 0 .. r - 1 do proj.[a] <- proj.[a] + vr.[o + a] * xj

    /// Projected responsibilities (6.3) from `proj`: `s_i = softmax_i((V_r^T u_i)^T proj - |V_r^T u_i|^2 / 2)`.
    let private gates (b: Basis) (proj: float[]) (s: float[]) =
        for i in 0 .. b.Vu.Length - 1 do
            let ui = b.Vu.[i]
            let mutable acc = -b.HalfNorms.[i]
            for a in 0 .. b.R - 1 do acc <- acc + ui.[a] * proj.[a]
            s.[i] <- acc
        FunctionalAsymptotics.Kernels.MixtureKernels.SoftmaxInPlace(Span s)

    /// Scratch of `writeRow`.
    type private Scratch = { Proj: float[]; S: float[]; ProjStar: float[]; SStar: float[] }

    let private scratch (k: int) = { Proj = Array.zeroCreate (k - 1); S = Array.zeroCreate k; ProjStar = Array.zeroCreate (k - 1); SStar = Array.zeroCreate k }

    /// Writes `(phi_U(x), f*(x))` into `out.[o .. o + p]` for the row of `xs` at `off` (one point at a time: the
    /// plain reference of `moments`' batched computation): the compact features
    /// `(pi_i V_r^T (x - u_i), pi_i)_{i <= K}`, an isometric image of `psi_U(x)` (dimension `p = K (r* + 1)`), then `f*(x)`.
    let private writeRow (basis: Basis) (t: Target) (xs: float[]) (off: int) (d: int) (sc: Scratch) (out: float[]) (o: int) =
        let r = basis.R
        let k = basis.Vu.Length
        project basis xs off d sc.Proj
        gates basis sc.Proj sc.S
        for i in 0 .. k - 1 do
            let si = sc.S.[i]
            let ui = basis.Vu.[i]
            let b = o + i * (r + 1)
            for a in 0 .. r - 1 do out.[b + a] <- si * (sc.Proj.[a] - ui.[a])
            out.[b + r] <- si
        project t.Star xs off d sc.ProjStar
        gates t.Star sc.ProjStar sc.SStar
        let mutable f = 0.0
        for i in 0 .. k - 1 do
            let ai = t.AHat.[i]
            let mutable dot = t.Offset.[i]
            for a in 0 .. r - 1 do dot <- dot + ai.[a] * sc.ProjStar.[a]
            f <- f + sc.SStar.[i] * dot
        out.[o + k * (r + 1)] <- f

    /// `(phi_U(x), f*(x))` at one point (tests: the isometry with `GaussianMixture.features` and `f* = theta*^T psi_{U*}`).
    let internal featuresAndTarget (basis: Basis) (t: Target) (x: float[]) : float[] * float =
        let k = basis.Vu.Length
        let p = k * (basis.R + 1)
        let out = Array.zeroCreate (p + 1)
        writeRow basis t x 0 x.Length (scratch k) out 0
        out.[0 .. p - 1], out.[p]

    /// `count` draws of the mixture at `centres` into the rows of `xs` (row-major `count x d`): the `count`
    /// component indices first (one uniform each), then the `count d` normals in one `FillNormal`.
    let private drawBatch (centres: float[][]) (rng: ReplicateRng) (count: int) (xs: float[]) (comp: int[]) =
        let k = centres.Length
        let d = centres.[0].Length
        for s in 0 .. count - 1 do comp.[s] <- min (k - 1) (int (rng.NextDouble() * float k))
        rng.FillNormal(Span(xs, 0, count * d))
        for s in 0 .. count - 1 do
            let c = centres.[comp.[s]]
            let off = s * d
            for j in 0 .. d - 1 do xs.[off + j] <- xs.[off + j] + c.[j]

    /// `count` mixture draws as rows (pre-training data), batch by batch.
    let internal drawSamples (centres: float[][]) (rng: ReplicateRng) (count: int) : float[][] =
        let d = centres.[0].Length
        let xs = Array.zeroCreate (Batch * d)
        let comp = Array.zeroCreate Batch
        let z = Array.zeroCreate count
        let mutable start = 0
        while start < count do
            let b = min Batch (count - start)
            drawBatch centres rng b xs comp
            for s in 0 .. b - 1 do z.[start + s] <- Array.sub xs (s * d) d
            start <- start + b
        z

    /// Moments over `count` draws of the mixture whose centres are `centres` in some coordinates (dimension `q`),
    /// with the stacked projection directions `v` (row-major `q x 2r*`: column `a < r*` gives `V_r^T x`, column
    /// `r* + a` gives `V*_r^T x`). Batches of 256 draws (the same draws as `drawSamples` from the same stream):
    /// both projections at once by the SIMD kernel `MixtureKernels.ProjectColumns`, gates and features eight
    /// samples at a time (`Vector512`, the operations of `writeRow` lane by lane), the gates' exponentials over
    /// the whole batch (`TensorPrimitives.Exp`), then rows `(phi_U, f*)` into the SIMD Gram kernel
    /// `MixtureKernels.AccumulateGramUpperBlock` (the last column gives `c` and `mean f*^2`).
    let private accumulate (centres: float[][]) (v: float[]) (basis: Basis) (t: Target) (rng: ReplicateRng) (count: int) : Matrix<float> * Vector<float> * float =
        let k = centres.Length
        let d = centres.[0].Length
        let r = basis.R
        let p = k * (r + 1)
        let w = p + 1
        let c2 = 2 * r
        let xs = Array.zeroCreate (Batch * d)
        let xT = Array.zeroCreate (Batch * d)
        let comp = Array.zeroCreate Batch
        let proj = Array.zeroCreate (c2 * Batch)
        let scores = Array.zeroCreate (2 * k * Batch)
        let acc = Array.zeroCreate k
        let rowsT = Array.zeroCreate (w * Batch)
        let rows = Array.zeroCreate (Batch * w)
        let gram = Array.zeroCreate (w * w)
        let inline load (a: float[]) (o: int) : Vector512<float> = Vector512.Create<float>(ReadOnlySpan<float>(a, o, 8))
        let inline store (v: Vector512<float>) (a: float[]) (o: int) = v.CopyTo(Span(a, o, 8))
        let mutable start = 0
        while start < count do
            let b = min Batch (count - start)
            drawBatch centres rng b xs comp
            // Eight samples per SIMD step, every per-sample array sample-minor with stride bp (b rounded up to 8): the
            // lanes past b hold finite stale values and are computed and dropped. Each lane does the scalar
            // operations of `writeRow` in the same order (no fused multiply-adds), so the values are the same.
            let bp = (b + 7) / 8 * 8
            for s in 0 .. b - 1 do
                for j in 0 .. d - 1 do xT.[j * bp + s] <- xs.[s * d + j]
            FunctionalAsymptotics.Kernels.MixtureKernels.ProjectColumns(ReadOnlySpan(xT, 0, d * bp), bp, d, ReadOnlySpan v, c2, Span(proj, 0, c2 * bp))
            // Gate scores, shifted by their maximum: U's at i bp + s, U*'s at (K + i) bp + s.
            for half in 0 .. 1 do
                let bs = if half = 0 then basis else t.Star
                for s in 0 .. 8 .. bp - 1 do
                    let mutable mx = Vector512.Create Double.NegativeInfinity
                    for i in 0 .. k - 1 do
                        let ui = bs.Vu.[i]
                        let mutable a = Vector512.Create(-bs.HalfNorms.[i])
                        for c in 0 .. r - 1 do a <- a + Vector512.Create ui.[c] * load proj ((half * r + c) * bp + s)
                        acc.[i] <- a
                        mx <- Vector512.Max(mx, a)
                    for i in 0 .. k - 1 do store (acc.[i] - mx) scores ((half * k + i) * bp + s)
            System.Numerics.Tensors.TensorPrimitives.Exp(ReadOnlySpan(scores, 0, 2 * k * bp), Span(scores, 0, 2 * k * bp))
            // Rows (phi_U, f*), column-major (entry a of sample s at a bp + s), then transposed for the Gram kernel.
            for s in 0 .. 8 .. bp - 1 do
                let mutable se = Vector512<float>.Zero
                let mutable seStar = Vector512<float>.Zero
                for i in 0 .. k - 1 do
                    se <- se + load scores (i * bp + s)
                    seStar <- seStar + load scores ((k + i) * bp + s)
                let mutable f = Vector512<float>.Zero
                for i in 0 .. k - 1 do
                    let pi = load scores (i * bp + s) / se
                    let ui = basis.Vu.[i]
                    let bo = i * (r + 1)
                    for a in 0 .. r - 1 do store (pi * (load proj (a * bp + s) - Vector512.Create ui.[a])) rowsT ((bo + a) * bp + s)
                    store pi rowsT ((bo + r) * bp + s)
                    let ai = t.AHat.[i]
                    let mutable dot = Vector512.Create t.Offset.[i]
                    for a in 0 .. r - 1 do dot <- dot + Vector512.Create ai.[a] * load proj ((r + a) * bp + s)
                    f <- f + load scores ((k + i) * bp + s) / seStar * dot
                store f rowsT (p * bp + s)
            for s in 0 .. b - 1 do
                for a in 0 .. w - 1 do rows.[s * w + a] <- rowsT.[a * bp + s]
            FunctionalAsymptotics.Kernels.MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan(rows, 0, b * w), b, w, Span gram)
            start <- start + b
        let c = float count
        let sigma = DenseMatrix.Create(p, p, fun a b -> (if a <= b then gram.[a * w + b] else gram.[b * w + a]) / c)
        sigma :> Matrix<float>, DenseVector(Array.init p (fun a -> gram.[a * w + p] / c)) :> Vector<float>, gram.[p * w + p] / c

    /// Both bases side by side, row-major `d x 2r*`: column `a < r*` is column `a` of `V_r`, column `r* + a` of `V*_r`.
    let private stacked (basis: Basis) (t: Target) (d: int) : float[] =
        let r = basis.R
        let c2 = 2 * r
        Array.init (d * c2) (fun idx -> let j, a = idx / c2, idx % c2 in if a < r then basis.Vr.[j * r + a] else t.Star.Vr.[j * r + a - r])

    /// `moments` from draws in the ambient coordinates: `d` normals per draw, projected on `V_r` and `V*_r`
    /// (the reference of `moments`' reduced draws; the same draws as `drawSamples`).
    let internal momentsAmbient (centres: float[][]) (basis: Basis) (t: Target) (rng: ReplicateRng) (count: int) : Matrix<float> * Vector<float> * float =
        accumulate centres (stacked basis t centres.[0].Length) basis t rng count

    /// Moments over `count` draws of the mixture at `centres` (unit covariance): `Sigma = mean phi_U phi_U^T`,
    /// `c = mean phi_U f*` and `mean f*^2`. The features and `f*` depend on `x` only through `V_r^T x` and
    /// `V*_r^T x`, that is through `Q^T x` for an orthonormal basis `Q` (`d x 2r*`, thin QR of `[V_r V*_r]`) of a
    /// space containing both spans. Under the mixture, `Q^T x = Q^T u*_c + zeta` with `c` the component and
    /// `zeta ~ N(0, I_{2r*})` (`Q^T Q = I`), so the draws are made in those coordinates: centres `Q^T u*_i`,
    /// `2r*` normals per draw instead of `d`, directions `Q^T [V_r V*_r]` (`V = Q Q^T V`). The same law of the
    /// rows `(phi_U(x), f*(x))` as draws in the ambient space (`momentsAmbient`), other random numbers.
    let internal moments (centres: float[][]) (basis: Basis) (t: Target) (rng: ReplicateRng) (count: int) : Matrix<float> * Vector<float> * float =
        let d = centres.[0].Length
        let c2 = 2 * basis.R
        if c2 >= d then momentsAmbient centres basis t rng count
        else
            let v = stacked basis t d
            let vm = DenseMatrix.Create(d, c2, fun j a -> v.[j * c2 + a])
            let q = vm.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q
            let reduced = centres |> Array.map (fun u -> (q.TransposeThisAndMultiply(DenseVector u)).ToArray())
            let vq = q.TransposeThisAndMultiply vm
            accumulate reduced (Array.init (c2 * c2) (fun idx -> vq.[idx / c2, idx % c2])) basis t rng count

    /// The pipeline model. `thetaNorm`: 1 (paper text) or 10 (the authors' code); `populationDraws`: draws for
    /// the population moments at the fitted centres, per replicate (Appendix K: 2 10^5); `lawOptions`: the
    /// options of the limit law (`GaussianMixturePretraining.estimate` by `preferredRoute`: quadrature for `K <= 5`).
    let create (k: int) (d: int) (beta: float) (thetaNorm: float) (sigma2: float) (populationDraws: int) (emRestarts: int)
               (lawOptions: MixtureOptions) (alpha: float) : PipelineModel =
        Check.positive "alpha" alpha
        if populationDraws < 1000 then Check.fail "population-draws" (sprintf "must be >= 1000, got %d" populationDraws)
        if emRestarts < 1 then Check.fail "em-restarts" (sprintf "must be >= 1, got %d" emRestarts)
        if not (sigma2 >= 0.0) || Double.IsInfinity sigma2 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
        let uStar = GaussianMixture.uStar k d beta
        let centres = Array.init k (fun i -> uStar.Column(i).ToArray())
        let limit = GaussianMixturePretraining.estimate (GaussianMixturePretraining.preferredRoute k beta) k d beta { lawOptions with ThetaNorm = thetaNorm }
        let law = GaussianMixturePretraining.limitLaw sigma2 alpha limit
        let fStar = target uStar thetaNorm
        let replicate (ctx: ReplicateContext) : ReplicateOutcome =
            let rng = ctx.Rng
            let random = new StreamRandom(rng)
            // Pre-training: EM on m draws, aligned to U*.
            let z = drawSamples centres rng ctx.M
            let uHat =
                GaussianMixtureEm.fit { GaussianMixtureEm.defaultOptions with Restarts = emRestarts; Seed = random.Next() } k z
                |> GaussianMixtureEm.align uStar
            let basis = compactBasis uHat
            // Population moments at U by common random numbers, then the design's.
            let sigmaU, cU, ffU = moments centres basis fStar rng populationDraws
            let cholU = sigmaU.Cholesky()
            let thetaU = cholU.Solve cU
            let rep = max 0.0 (ffU - cU.DotProduct thetaU)
            let sigmaN, cN, _ = moments centres basis fStar rng ctx.N
            let cholN = sigmaN.Cholesky()
            let thetaN = cholN.Solve cN
            let dt = thetaN - thetaU
            let leak = dt.DotProduct(sigmaU * dt)
            let var = sigma2 * (cholN.Solve sigmaU).Trace()
            let nf = float ctx.N
            { Total = nf * rep + nf * leak + var; Pretrain = nf * rep; Leak = nf * leak; Variance = var }
        { Name = "gmm"
          Law = law
          SigmaSquaredDEff = sigma2 * float limit.DEff
          PopulationMomentError = limit.PretrainMeanStdErr
          Replicate = replicate }
