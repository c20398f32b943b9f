namespace FunctionalAsymptotics.Prediction

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

/// A plug-in estimate of the limit law of Theorem 5.1 from data (docs/predict.md): the fitted
/// representation `w_hat`, the downstream coefficients `theta_hat` fitted at it, and the summary
/// (`d_eff`, `d_base`, `sigma_hat^2`, `V_hat`, `G_hat`, the weights) of `TwoStage.horizontalWith`.
type PlugInEstimate =
    { /// The fitted pre-training parameter `w_hat` (an empirical minimiser).
      Representation: Matrix<float>
      /// `theta_hat`: least squares of `y` on the features `psi(x, w_hat)` of the labelled data.
      Theta: float[]
      /// The estimated limit-law quantities.
      Summary: AsymptoticSummary
      /// The labelled rows' features at the fitted representation (row `i`: `phi(x_i, w_hat)`, in the
      /// coordinates of the least-squares fit), built on first use: the predictive law's finite-`n` variance
      /// factor resamples them (`PredictiveLaw.varianceFactors`, docs/predict.md).
      LabelledFeatures: Lazy<Matrix<float>>
      /// How often each row of `LabelledFeatures` counts (the labelled weights given to the estimator).
      LabelledWeights: float[] }

/// A plug-in estimator: from the data and row weights (`unlabelledWeights`, `labelledWeights`: how often
/// each row counts, all ones for the data as given, multinomial counts for a bootstrap resample) to the
/// estimate.
type PlugInEstimator = PredictionData -> float[] -> float[] -> PlugInEstimate

/// Weighted moments of data tables (the sufficient statistics of the Gaussian and least-squares steps).
[<RequireQualifiedAccess>]
module WeightedMoments =

    /// `sum_i w_i`, checked > 0.
    let total (weights: float[]) =
        let s = Array.sum weights
        if not (s > 0.0) then Check.fail "weights" "must have a positive sum"
        s

    /// `sum_i w_i x_i x_i^T / sum_i w_i` (d x d): one pass, rows with zero weight skipped.
    let secondMoment (t: DataTable) (weights: float[]) : Matrix<float> =
        Check.sameLength "weights" t.Rows weights.Length
        let d = t.Width
        let acc = Array.zeroCreate (d * d)
        let v = t.Values
        for i in 0 .. t.Rows - 1 do
            let w = weights.[i]
            if w <> 0.0 then
                let o = i * d
                for a in 0 .. d - 1 do
                    let wa = w * v.[o + a]
                    let r = a * d
                    for b in a .. d - 1 do acc.[r + b] <- acc.[r + b] + wa * v.[o + b]
        let s = total weights
        Linalg.init d d (fun a b -> (if a <= b then acc.[a * d + b] else acc.[b * d + a]) / s)

    /// `sum_i w_i y_i x_i / sum_i w_i` (length d).
    let crossMoment (t: DataTable) (y: float[]) (weights: float[]) : float[] =
        Check.sameLength "labels" t.Rows y.Length
        let d = t.Width
        let acc = Array.zeroCreate d
        for i in 0 .. t.Rows - 1 do
            let wy = weights.[i] * y.[i]
            if wy <> 0.0 then
                for a in 0 .. d - 1 do acc.[a] <- acc.[a] + wy * t.Values.[i * d + a]
        let s = total weights
        acc |> Array.map (fun x -> x / s)

    /// `sum_i w_i y_i^2 / sum_i w_i`.
    let labelSecondMoment (y: float[]) (weights: float[]) : float =
        (Array.fold2 (fun acc w v -> acc + w * v * v) 0.0 weights y) / total weights

    /// The table as a `rows x width` matrix (a copy).
    let matrix (t: DataTable) : Matrix<float> = Linalg.init t.Rows t.Width (fun i a -> t.Values.[i * t.Width + a])

    /// Row `i` of a table (a copy).
    let row (t: DataTable) (i: int) : float[] = Array.sub t.Values (i * t.Width) t.Width

    /// The rows of a table repeated by their (integer) weights: the empirical distribution of a resample.
    let expand (t: DataTable) (weights: float[]) : float[][] =
        [| for i in 0 .. t.Rows - 1 do
             let c = int (Math.Round weights.[i])
             if float c <> weights.[i] || c < 0 then Check.fail "weights" (sprintf "must be non-negative integers to expand rows, got %g" weights.[i])
             if c > 0 then
                 let r = row t i
                 for _ in 1 .. c do yield r |]

/// The downstream step of every plug-in: least squares at fitted features, the noise level and the
/// downstream design moments.
[<RequireQualifiedAccess>]
module DownstreamFit =

    /// Solves the `p x p` normal equations `S theta = c`; `RankDeficientException` when `S` is singular.
    let solveNormal (argument: string) (s: Matrix<float>) (c: float[]) : float[] =
        let p = s.RowCount
        let r = Linalg.numericalRank 1e-10 s
        if r < p then raise (RankDeficientException(argument, p, r))
        s.Solve(Linalg.vector c).ToArray()

    /// `theta_hat = (W S_xx W^T)^-1 W S_xy` and `sigma_hat^2 = (S_yy - theta_hat^T W S_xy) n_w / (n_w - p)` for
    /// linear features `W x` from the weighted moments (`n_w = sum w` > p): the least-squares fit of `y` on
    /// `W x` and its unbiased residual variance.
    let linear (w: Matrix<float>) (sxx: Matrix<float>) (sxy: float[]) (syy: float) (nw: float) : float[] * float =
        let p = w.RowCount
        if not (nw > float p) then Check.fail "labelled" (sprintf "needs more than %d rows (the number of features), got %g" p nw)
        let c = (w * (Linalg.vector sxy)).ToArray()
        let theta = solveNormal "labelled feature covariance W S_xx W^T" (Linalg.sym (w * sxx * w.Transpose())) c
        let rss = syy - Array.fold2 (fun acc a b -> acc + a * b) 0.0 theta c
        theta, max 0.0 rss * nw / (nw - float p)

/// The factor model's plug-in (Section 6.2, Lemma I.1; docs/predict.md): PPCA on the unlabelled data, the
/// empirical sandwich at the fit, least squares of `y` on `W(A_hat) x` on the labelled data.
[<RequireQualifiedAccess>]
module FactorPlugIn =

    /// The PPCA estimator from a second moment `S` (Lemma I.1): `A_hat = U_k diag(lambda_i - 1)^{1/2}`.
    /// Raises `InvalidArgumentException` for `k` unless `lambda_k > 1` (the model's unit noise level): with
    /// `lambda_k <= 1` the k-th factor is not identifiable from these data (`A_hat` would lose rank).
    let fitLoadings (k: int) (s: Matrix<float>) : Matrix<float> =
        let d = s.RowCount
        if k < 1 || k >= d then Check.fail "k" (sprintf "must satisfy 1 <= k < d = %d, got %d" d k)
        let lam, u = Linalg.eigSymDesc s
        if not (lam.[k - 1] > 1.0) then
            Check.fail "k" (sprintf "the %d-th eigenvalue of the unlabelled second moment is %g <= 1 (the factor model's unit noise level): %d factors are not identifiable from these data" k lam.[k - 1] k)
        u.SubMatrix(0, d, 0, k) * (Linalg.diag (Array.init k (fun i -> sqrt (lam.[i] - 1.0))))

    /// The empirical score second moment `sum_i w_i g_h(x_i) g_h(x_i)^T / sum w` on the horizontal basis,
    /// with the per-sample gradient `nabla_A l = S^-1 A - y z^T`, `y = S^-1 x`, `z = A^T y`, `S = I + A A^T`
    /// (the gradient of `(1/2)[log det S + x^T S^-1 x]`), `g_h = B^T vec(nabla_A l)`. As `g_h = -B^T r` with
    /// `r = vec(y z^T - S^-1 A)`, the moment is `B^T (sum_i w_i r_i r_i^T / sum w) B`: the `dk x dk` second moment
    /// of the rows `sqrt(w_i) r_i` by the SIMD Gram kernel (`MixtureKernels.AccumulateGramUpperBlock`, blocks of
    /// 128 rows), then one product with the basis: `O(d^2 + (dk)^2 / 2)` a row instead of `O(q d k + q^2 / 2)`.
    let scoreCovariance (t: DataTable) (weights: float[]) (a: Matrix<float>) (basis: Matrix<float>[]) : Matrix<float> =
        let d, k, q = a.RowCount, a.ColumnCount, basis.Length
        let dk = d * k
        Check.sameLength "weights" t.Rows weights.Length
        if weights |> Array.exists (fun w -> not (w >= 0.0)) then Check.fail "weights" "must be non-negative (row counts)"
        let sinv = (Linalg.eye d + a * a.Transpose()).Inverse()
        let si = Array.init (d * d) (fun i -> sinv.[i / d, i % d])
        let at = Array.init (k * d) (fun i -> a.[i % d, i / d])
        // vec(S^-1 A), column-major (entry (r, c) at r + d c), the same order as vec(y z^T) below and as `bm`.
        let sa = sinv * a
        let u = Array.init dk (fun e -> sa.[e % d, e / d])
        let block = FunctionalAsymptotics.Kernels.MixtureKernels.GramRowBlock
        let rows = Array.zeroCreate (block * dk)
        let gram = Array.zeroCreate (dk * dk)
        let y = Array.zeroCreate d
        let z = Array.zeroCreate k
        let mutable filled = 0
        let flush () =
            if filled > 0 then
                FunctionalAsymptotics.Kernels.MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan(rows, 0, filled * dk), filled, dk, Span gram)
                filled <- 0
        for i in 0 .. t.Rows - 1 do
            let w = weights.[i]
            if w <> 0.0 then
                let o = i * d
                for r in 0 .. d - 1 do
                    let mutable s = 0.0
                    for c in 0 .. d - 1 do s <- s + si.[r * d + c] * t.Values.[o + c]
                    y.[r] <- s
                for c in 0 .. k - 1 do
                    let mutable s = 0.0
                    for r in 0 .. d - 1 do s <- s + at.[c * d + r] * y.[r]
                    z.[c] <- s
                let sw = sqrt w
                let ob = filled * dk
                for c in 0 .. k - 1 do
                    for r in 0 .. d - 1 do rows.[ob + r + d * c] <- sw * (y.[r] * z.[c] - u.[r + d * c])
                filled <- filled + 1
                if filled = block then flush ()
        flush ()
        let total = WeightedMoments.total weights
        let m = Linalg.init dk dk (fun e f -> (if e <= f then gram.[e * dk + f] else gram.[f * dk + e]) / total)
        let bm = Linalg.init dk q (fun e j -> basis.[j].[e % d, e / d])
        let h = bm.TransposeThisAndMultiply(m * bm)
        Linalg.init q q (fun j l -> 0.5 * (h.[j, l] + h.[l, j]))

    /// The empirical sandwich at `A_hat`: `H_h` is the Hessian of the loss at the unlabelled second moment
    /// (the loss is linear in `x x^T`), `Sigma_h` the empirical score second moment (`scoreCovariance`).
    let sandwich (t: DataTable) (weights: float[]) (secondMoment: Matrix<float>) (a: Matrix<float>) : Sandwich =
        let basis = GroupAction.horizontalBasis (GroupAction.orthogonalRight a.RowCount a.ColumnCount) a
        let d, k, q = a.RowCount, a.ColumnCount, basis.Length
        // H_h = B^T [H b_1 .. H b_q] as one product (columns vec(.), column-major like `scoreCovariance`).
        let hessian = Factor.hessianVectorFor secondMoment a
        let hvs = Array.init q (fun j -> hessian basis.[j])
        let bm = Linalg.init (d * k) q (fun e j -> basis.[j].[e % d, e / d])
        let hm = Linalg.init (d * k) q (fun e j -> hvs.[j].[e % d, e / d])
        let h = bm.TransposeThisAndMultiply hm
        Sandwich.ofMatrices basis h (scoreCovariance t weights a basis)

    /// The model specification at the fitted point: `w = A_hat`, `theta = theta_hat`, `sigma^2 = sigma_hat^2`,
    /// downstream design moments `E[x x^T]` replaced by the labelled data's `S_xx` (the features are linear in
    /// `x`, so every L2 quantity of the engine needs only this second moment).
    let fittedSpec (a: Matrix<float>) (theta: float[]) (sigma2: float) (sxx: Matrix<float>) : ModelSpec<float[]> =
        { Factor.spec { Loadings = a; Beta = theta; SigmaNu2 = 0.0 } with
            Sigma2 = sigma2
            Representation =
                LinearGaussian
                    { FeatureMatrix = Factor.featureMatrix
                      FeatureDifferential = Factor.featureDifferential
                      DownstreamCovariance = sxx } }

    /// The factor model's plug-in estimator with `k` factors (docs/predict.md): PPCA `A_hat` on the weighted
    /// unlabelled data, the empirical sandwich `V_hat` on `Hor(A_hat)`, least squares `theta_hat` and
    /// `sigma_hat^2` of `y` on `W(A_hat) x` on the weighted labelled data, then `TwoStage.horizontalWith`
    /// (Theorem 5.1, eq. (6.1)) at the fitted specification. The weights are invariant to the choice of
    /// representative `A_hat Q` (`Q` orthogonal), so no alignment is needed for them.
    let estimator (k: int) : PlugInEstimator =
        fun data wu wl ->
            let su = WeightedMoments.secondMoment data.Unlabelled wu
            let a = fitLoadings k su
            let sw = sandwich data.Unlabelled wu su a
            let sxx = WeightedMoments.secondMoment data.Labelled wl
            let sxy = WeightedMoments.crossMoment data.Labelled data.Labels wl
            let syy = WeightedMoments.labelSecondMoment data.Labels wl
            let w = Factor.featureMatrix a
            let theta, sigma2 = DownstreamFit.linear w sxx sxy syy (WeightedMoments.total wl)
            let spec = fittedSpec a theta sigma2 sxx
            let features = lazy (WeightedMoments.matrix data.Labelled * w.Transpose())
            { Representation = a; Theta = theta; Summary = TwoStage.horizontalWith sw spec
              LabelledFeatures = features; LabelledWeights = wl }

/// The plug-in for a user's model (a `ModelSpec` whose samples are data rows `float[]`): the user's fit
/// of the pre-training minimiser, the generic empirical sandwich `Sandwich.plugIn`, least squares at the
/// fitted features, and the engine at the fitted specification.
[<RequireQualifiedAccess>]
module UserModelPlugIn =

    /// The estimator. `fit rows` returns an empirical minimiser `w_hat` of the pre-training loss over the
    /// unlabelled rows (e.g. by `Minimise`); `spec` gives the loss, the group action and the representation
    /// (its `WStar`, `ThetaStar` and `Sigma2` are replaced by the fitted values). For a linear representation
    /// the downstream second moment becomes the labelled data's `S_xx`; for a sampled one, `Sample` draws
    /// labelled rows uniformly (the empirical distribution, `Count` draws as before).
    let estimator (spec: ModelSpec<float[]>) (fit: float[][] -> Matrix<float>) : PlugInEstimator =
        fun data wu wl ->
            let rows = WeightedMoments.expand data.Unlabelled wu
            let w = fit rows
            let sw = Sandwich.plugIn spec rows w
            let labelled = WeightedMoments.expand data.Labelled wl
            let labels = [| for i in 0 .. data.Labels.Length - 1 do for _ in 1 .. int (Math.Round wl.[i]) do yield data.Labels.[i] |]
            let nw = float labelled.Length
            let phi = labelled |> Array.map (ModelSpec.features { spec with WStar = w } w)
            let p = phi.[0].Length
            if not (nw > float p) then Check.fail "labelled" (sprintf "needs more than %d rows (the number of features), got %g" p nw)
            let pm = DenseMatrix.OfRowArrays phi
            let theta = DownstreamFit.solveNormal "labelled feature covariance" (Linalg.sym (pm.TransposeThisAndMultiply pm / nw)) ((pm.TransposeThisAndMultiply(Linalg.vector labels) / nw).ToArray())
            let resid = (Linalg.vector labels) - pm * (Linalg.vector theta)
            let sigma2 = resid.DotProduct(resid) / (nw - float p)
            let repr =
                match spec.Representation with
                | LinearGaussian r ->
                    let xm = DenseMatrix.OfRowArrays labelled
                    LinearGaussian { r with DownstreamCovariance = Linalg.sym (xm.TransposeThisAndMultiply xm / nw) }
                | Sampled r -> Sampled { r with Sample = fun rng -> labelled.[rng.Next labelled.Length] }
            let fitted = { spec with WStar = w; ThetaStar = theta; Sigma2 = sigma2; Representation = repr }
            { Representation = w; Theta = theta; Summary = TwoStage.horizontalWith sw fitted
              LabelledFeatures = lazy (pm :> Matrix<float>); LabelledWeights = Array.create labelled.Length 1.0 }
