namespace FunctionalAsymptotics.Prediction

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

/// The Gaussian mixture's plug-in (paper Section 6.3, eqs. (6.3)-(6.4); docs/case-studies.md §3;
/// docs/predict.md): EM on the unlabelled data, the empirical sandwich at the fitted centres, least squares
/// of `y` on the subspace-gated features at the fitted centres, and the estimated `G`, weights, `d_eff`,
/// `d_base` from the labelled rows.
[<RequireQualifiedAccess>]
module MixturePlugIn =

    /// The empirical Hessian and score second moment of the mixture's negative log-likelihood at `U`, in
    /// `vec(U)` coordinates (index `i d + r`: coordinate `r` of centre `i`), over the weighted rows of `t`:
    /// with `gamma = softmax(-|x - u_i|^2 / 2)`, `r_i = x - u_i` and `v = (gamma_i r_i)_i` (minus the score),
    /// the per-row Hessian is `blockdiag(gamma_i (I - r_i r_i^T)) + v v^T` (`GaussianMixture.hessian`) and the
    /// score outer product `v v^T`. One pass, `O((K d)^2)` a row. Returns `(H, Sigma)`, both divided by `sum w`.
    let sandwichMatrices (t: DataTable) (weights: float[]) (u: Matrix<float>) : Matrix<float> * Matrix<float> =
        Check.sameLength "weights" t.Rows weights.Length
        let d, k = u.RowCount, u.ColumnCount
        Check.sameLength "centres (rows of U)" t.Width d
        let kd = k * d
        let cols = Array.init k (fun i -> u.Column(i).ToArray())
        let vv = Array.zeroCreate (kd * kd)
        let blocks = Array.init k (fun _ -> Array.zeroCreate (d * d))
        let mass = Array.zeroCreate k
        let v = Array.zeroCreate kd
        let s = Array.zeroCreate k
        let ri = Array.zeroCreate d
        for row in 0 .. t.Rows - 1 do
            let w = weights.[row]
            if w <> 0.0 then
                let o = row * d
                for i in 0 .. k - 1 do
                    let c = cols.[i]
                    let mutable a = 0.0
                    for r in 0 .. d - 1 do let e = t.Values.[o + r] - c.[r] in a <- a + e * e
                    s.[i] <- -0.5 * a
                FunctionalAsymptotics.Kernels.MixtureKernels.SoftmaxInPlace(Span s)
                let sw = sqrt w
                for i in 0 .. k - 1 do
                    let g = s.[i]
                    let c = cols.[i]
                    mass.[i] <- mass.[i] + w * g
                    for r in 0 .. d - 1 do
                        ri.[r] <- t.Values.[o + r] - c.[r]
                        v.[i * d + r] <- sw * g * ri.[r]
                    let b = blocks.[i]
                    let wg = w * g
                    for r in 0 .. d - 1 do
                        let x = wg * ri.[r]
                        for q in r .. d - 1 do b.[r * d + q] <- b.[r * d + q] + x * ri.[q]
                FunctionalAsymptotics.Kernels.MixtureKernels.AccumulateGramUpper(ReadOnlySpan v, Span vv)
        let total = WeightedMoments.total weights
        let sigma = Linalg.init kd kd (fun a b -> (if a <= b then vv.[a * kd + b] else vv.[b * kd + a]) / total)
        let h = sigma.Clone()
        for i in 0 .. k - 1 do
            for r in 0 .. d - 1 do
                for q in 0 .. d - 1 do
                    let bq = if r <= q then blocks.[i].[r * d + q] else blocks.[i].[q * d + r]
                    h.[i * d + r, i * d + q] <- h.[i * d + r, i * d + q] - bq / total + (if r = q then mass.[i] / total else 0.0)
        h, sigma

    /// The `Kd x q` matrix whose columns are `vec(b_j)` (column-major, index `i d + r`) of a basis.
    let private basisMatrix (basis: Matrix<float>[]) : Matrix<float> =
        let rows = if basis.Length = 0 then 0 else basis.[0].RowCount * basis.[0].ColumnCount
        Linalg.init rows basis.Length (fun a j -> (Linalg.values basis.[j]).[a])

    /// The number of standard errors by which a fitted quantity that Assumption 6.5 needs to be non-zero (the
    /// distance between two centres, the eigengap of `S(U)` at `r*`) must exceed zero (`checkIdentifiable`).
    [<Literal>]
    let IdentifiabilityZ = 3.0

    /// Refuses a fit whose structure the data do not determine (Assumption 6.5 (i)-(ii) at the estimate, not
    /// only at rounding level): with `V_vec = B V_h B^T` the sandwich in `vec(U)` coordinates and `m_w` the
    /// unlabelled rows, the delta-method standard error of a smooth function `f(U)` is `sqrt(g^T V_vec g / m_w)`,
    /// `g = grad f`. (i) each distance `|u_i - u_j|` (`g = +-(u_i - u_j)/|u_i - u_j|` on blocks `i`, `j`) and
    /// (ii) the eigengap `lambda_{r*}` of `S(U)` (the smallest non-zero eigenvalue, `r* = K - 1`; `g` on block `i`
    /// is `2 (c_i^T v) v` for its unit eigenvector `v` and the centred centre `c_i`) must exceed
    /// `IdentifiabilityZ` standard errors; otherwise `MixtureAssumptionException` (e.g. more components than
    /// clusters: two fitted centres within their noise; clusters on a line for `K = 3`: no eigengap).
    let checkIdentifiable (pr: GaussianMixture.Projector) (u: Matrix<float>) (sw: Sandwich) (rows: float) =
        let d, k = u.RowCount, u.ColumnCount
        let b = basisMatrix sw.Basis
        let v = b * sw.Covariance * b.Transpose()
        let se (g: float[]) = sqrt (max 0.0 ((Linalg.vector g).DotProduct(v * (Linalg.vector g))) / rows)
        for i in 0 .. k - 1 do
            for j in i + 1 .. k - 1 do
                let diff = u.Column(i) - u.Column(j)
                let dist = diff.L2Norm()
                let g = Array.zeroCreate (k * d)
                for r in 0 .. d - 1 do
                    g.[i * d + r] <- diff.[r] / dist
                    g.[j * d + r] <- -diff.[r] / dist
                let e = se g
                if not (dist > IdentifiabilityZ * e) then
                    raise (MixtureAssumptionException(sprintf "(i) centres %d and %d are not distinguishable from these data: distance %.3g, standard error %.3g (more components than clusters?)" (i + 1) (j + 1) dist e))
        let a = pr.RStar - 1
        let va = pr.Eigenvectors.Column a
        let g = Array.init (k * d) (fun idx -> let i, r = idx / d, idx % d in 2.0 * pr.Centred.Column(i).DotProduct(va) * va.[r])
        let gap = pr.Eigenvalues.[a] - (if pr.RStar < d then pr.Eigenvalues.[pr.RStar] else 0.0)
        let e = se g
        if not (gap > IdentifiabilityZ * e) then
            raise (MixtureAssumptionException(sprintf "(ii) the eigengap of S(U) at r* = %d is not distinguishable from zero in these data: %.3g, standard error %.3g (centres nearly on a %d-dimensional affine subspace?)" pr.RStar gap e (pr.RStar - 1)))

    /// The empirical sandwich at the fitted centres on the horizontal space of the `S_K` action
    /// (`GroupAction.permutationBlocks`): a finite group has no vertical directions, so `Hor(U) = R^{Kd}` and the
    /// basis is the standard one; `H_h = B^T H B`, `Sigma_h = B^T Sigma B` (`sandwichMatrices`),
    /// `V_h = H_h^-1 Sigma_h H_h^-1` (`Sandwich.ofMatrices`: `NotLocalMinimiserException` at a saddle,
    /// `NotIdentifiableException` for a flat direction; never a pseudo-inverse).
    let sandwich (t: DataTable) (weights: float[]) (u: Matrix<float>) : Sandwich =
        let d, k = u.RowCount, u.ColumnCount
        let basis = GroupAction.horizontalBasis (GroupAction.permutationBlocks d k (d + 1)) u
        let b = basisMatrix basis
        let h, sigma = sandwichMatrices t weights u
        Sandwich.ofMatrices basis (b.TransposeThisAndMultiply(h) * b) (b.TransposeThisAndMultiply(sigma) * b)

    /// Calls `f w grad phi row` for every labelled row of non-zero weight `w`, with `grad = a(x)` and `phi`
    /// from `GaussianMixture.adjointGradient` (buffers reused between rows); returns `sum w`.
    let private eachRow (adj: GaussianMixture.Adjoint) (k: int) (t: DataTable) (weights: float[]) (f: float -> float[] -> float[] -> int -> unit) =
        let d = t.Width
        let grad = Array.zeroCreate (k * d)
        let phi = Array.zeroCreate (k * k)
        let scratch = Array.zeroCreate (GaussianMixture.adjointScratchLength adj)
        for row in 0 .. t.Rows - 1 do
            let w = weights.[row]
            if w <> 0.0 then
                GaussianMixture.adjointGradient adj (ReadOnlySpan(t.Values, row * d, d)) (Span grad) (Span phi) scratch
                f w grad phi row
        WeightedMoments.total weights

    /// The matrix `acc / total` from a row-major `rows x cols` sum whose upper triangle only is filled when `symmetric`.
    let private averaged (rows: int) (cols: int) (symmetric: bool) (total: float) (acc: float[]) : Matrix<float> =
        Linalg.init rows cols (fun a b -> (if not symmetric || a <= b then acc.[a * cols + b] else acc.[b * cols + a]) / total)

    /// Weighted moments of the features at `U` over the labelled rows: `S = sum w phi phi^T / sum w`,
    /// `c = sum w y phi / sum w` and `sum w y^2 / sum w`, with the features in coordinates of their span,
    /// `phi(x) = (pi_i V_r^T (x - u_i), pi_i)_{i <= K}` (`GaussianMixture.adjointGradient`), an isometric image
    /// of `psi_U(x)` (6.4) of dimension `K (r* + 1)`.
    let private featureMoments (adj: GaussianMixture.Adjoint) (k: int) (t: DataTable) (y: float[]) (weights: float[]) =
        let p = k * k
        let s = Array.zeroCreate (p * p)
        let c = Array.zeroCreate p
        let yy = ref 0.0
        let total =
            eachRow adj k t weights (fun w _ phi row ->
                for a in 0 .. p - 1 do
                    let wa = w * phi.[a]
                    c.[a] <- c.[a] + wa * y.[row]
                    for b in a .. p - 1 do s.[a * p + b] <- s.[a * p + b] + wa * phi.[b]
                yy.Value <- yy.Value + w * y.[row] * y.[row])
        averaged p p true total s, c |> Array.map (fun x -> x / total), yy.Value / total

    /// Weighted moments of `a(x) = J_psi(x)^T theta` (the gradient in `U` of `<theta, psi_U(x)>`, reverse mode,
    /// `GaussianMixture.adjointGradient`) with itself and with the features: `E[a a^T]` (`Kd x Kd`) and
    /// `E[a phi^T]` (`Kd x K(r*+1)`) over the weighted labelled rows.
    let private gradientMoments (adj: GaussianMixture.Adjoint) (k: int) (t: DataTable) (weights: float[]) =
        let kd, p = k * t.Width, k * k
        let aa = Array.zeroCreate (kd * kd)
        let ap = Array.zeroCreate (kd * p)
        let total =
            eachRow adj k t weights (fun w grad phi _ ->
                for a in 0 .. kd - 1 do
                    let wa = w * grad.[a]
                    for b in a .. kd - 1 do aa.[a * kd + b] <- aa.[a * kd + b] + wa * grad.[b]
                    for b in 0 .. p - 1 do ap.[a * p + b] <- ap.[a * p + b] + wa * phi.[b])
        averaged kd kd true total aa, averaged kd p false total ap

    /// `theta` in the coordinates of `psi_U` (length `K (d + 1)`, blocks `(theta_i, b_i)`) from coefficients
    /// `thetaPhi` on the span coordinates `phi`: `theta_i = V_r thetaPhi_i[0 .. r-1]`, `b_i = thetaPhi_i[r]`, so
    /// `<theta, psi_U(x)> = <thetaPhi, phi(x)>` (`theta_i` in `range(P_U)`; a component outside it would not
    /// change `G`, which projects out the feature span).
    let liftTheta (pr: GaussianMixture.Projector) (k: int) (thetaPhi: float[]) : float[] =
        let d = pr.Eigenvectors.RowCount
        let r = pr.RStar
        Check.sameLength "thetaPhi" (k * (r + 1)) thetaPhi.Length
        [| for i in 0 .. k - 1 do
               for j in 0 .. d - 1 do
                   let mutable s = 0.0
                   for a in 0 .. r - 1 do s <- s + pr.Eigenvectors.[j, a] * thetaPhi.[i * (r + 1) + a]
                   yield s
               yield thetaPhi.[i * (r + 1) + r] |]

    /// The estimate at fitted centres `U` (no EM): the projector `P_U` (`r* = K - 1`;
    /// `MixtureAssumptionException` for coincident centres or no eigengap of `S(U)`, Assumption 6.5), the
    /// empirical sandwich on the unlabelled rows (`checkIdentifiable`), least squares `theta_hat` and `sigma_hat^2 = RSS / (n_w - K^2)`
    /// on `phi` over the labelled rows (`RankDeficientException` when `E_n[phi phi^T]` is singular, Assumption
    /// 6.5 (iii)), `G = E_n[a a^T] - E_n[a phi^T] E_n[phi phi^T]^-1 E_n[phi a^T]` at `theta_hat`, `d_eff = K^2`,
    /// `d_base` the numerical rank of the joint Gram of `(phi, a)`, and the weights, the eigenvalues of
    /// `V^1/2 G V^1/2` (Theorem 5.1, eq. (6.1)).
    let estimateAt (data: PredictionData) (wu: float[]) (wl: float[]) (u: Matrix<float>) : PlugInEstimate =
        let k = u.ColumnCount
        let p = k * k
        let pr = GaussianMixture.projector (k - 1) u
        let sw = sandwich data.Unlabelled wu u
        checkIdentifiable pr u sw (WeightedMoments.total wu)
        let nw = WeightedMoments.total wl
        if not (nw > float p) then Check.fail "labelled" (sprintf "needs more than K^2 = %d rows (the number of features), got %g" p nw)
        let zeroAdjoint = GaussianMixture.adjoint pr u (Array.zeroCreate (k * (u.RowCount + 1)))
        let s, c, syy = featureMoments zeroAdjoint k data.Labelled data.Labels wl
        let thetaPhi = DownstreamFit.solveNormal "labelled feature Gram E_n[phi phi^T] (Assumption 6.5 (iii))" (Linalg.sym s) c
        let rss = syy - Array.fold2 (fun acc a b -> acc + a * b) 0.0 thetaPhi c
        let sigma2 = max 0.0 rss * nw / (nw - float p)
        let theta = liftTheta pr k thetaPhi
        let aa, ap = gradientMoments (GaussianMixture.adjoint pr u theta) k data.Labelled wl
        // G in vec(U) coordinates, then in the horizontal basis of the sandwich (the same coordinates here: the
        // standard basis of R^{Kd} in vec order; written out so that V and G always share their coordinates).
        let gVec = Linalg.sym (aa - ap * s.Solve(ap.Transpose()))
        let b = basisMatrix sw.Basis
        let g = Linalg.sym (b.TransposeThisAndMultiply(gVec) * b)
        let joint =
            let m = Linalg.zeros (p + aa.RowCount) (p + aa.RowCount)
            m.SetSubMatrix(0, 0, s); m.SetSubMatrix(p, p, aa)
            m.SetSubMatrix(p, 0, ap); m.SetSubMatrix(0, p, ap.Transpose())
            m
        let summary =
            { Route = "plug-in"; DEff = p; DBase = Linalg.numericalRank TwoStage.rankTolerance joint; Sigma2 = sigma2
              Gram = g; Covariance = sw.Covariance; Weights = TwoStage.weightsOf sw.Covariance g }
        let features =
            lazy (let rows = Array.zeroCreate (data.Labelled.Rows * p)
                  eachRow zeroAdjoint k data.Labelled (Array.create data.Labelled.Rows 1.0) (fun _ _ phi row -> Array.blit phi 0 rows (row * p) p) |> ignore
                  Linalg.init data.Labelled.Rows p (fun i a -> rows.[i * p + a]))
        { Representation = u; Theta = theta; Summary = summary; LabelledFeatures = features; LabelledWeights = wl }

    /// EM settings of the plug-in: the library's defaults (5 k-means++ starts, tolerance 1e-10 on the mean
    /// log-likelihood, at most 1000 iterations, SQUAREM).
    let defaultEmOptions = GaussianMixtureEm.defaultOptions

    /// The mixture's plug-in estimator with `k` components: EM with `o.Restarts` k-means++ starts on the
    /// weighted unlabelled rows (the model's own pre-training estimator: equal weights, identity covariances;
    /// `ConvergenceException` at the iteration cap, `DegenerateMixtureException` for a collapsed component or
    /// coincident centres), then `estimateAt`. The law is invariant to the order of the centres (the `S_K`
    /// action permutes the centres and the feature blocks together).
    let estimator (o: EmOptions) (k: int) : PlugInEstimator =
        if k < 2 then Check.fail "K" (sprintf "must be >= 2, got %d" k)
        fun data wu wl ->
            if data.Unlabelled.Width < k - 1 then Check.fail "K" (sprintf "needs K - 1 <= d = %d (r* = K - 1 is the rank of the centred centres), got K = %d" data.Unlabelled.Width k)
            let u = GaussianMixtureEm.fit o k (WeightedMoments.expand data.Unlabelled wu)
            estimateAt data wu wl u

    /// The estimator of the bootstrap replicates: EM started at the centres `start` of the fit to the data as
    /// given (one start; the standard bootstrap of a mixture MLE, which keeps each replicate in the original fit's
    /// labelling), the result aligned to `start` by optimal assignment (`GaussianMixtureEm.align`: the
    /// representative of the quotient by `S_K` nearest the original fit), then `estimateAt`.
    let replicateEstimator (o: EmOptions) (start: Matrix<float>) : PlugInEstimator =
        fun data wu wl ->
            let u, _ = GaussianMixtureEm.fitFrom o start (WeightedMoments.expand data.Unlabelled wu)
            estimateAt data wu wl (GaussianMixtureEm.align start u)
