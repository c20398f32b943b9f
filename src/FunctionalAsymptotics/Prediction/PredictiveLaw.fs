namespace FunctionalAsymptotics.Prediction

open System
open System.Threading.Tasks
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Simulation

/// Monte Carlo draws of the predictive law of `n(R - sigma^2)` (docs/predict.md, "The predictive band"): draw
/// `j` is `VariancePart.[j] + PretrainPart.[j] / alpha`, so one set of draws serves every `alpha` at the same `n`.
type PredictiveDraws =
    { /// `sigma_b^2 t_j`: the noise level of fit `b` times a finite-`n` variance factor `t_j`.
      VariancePart: float[]
      /// `sum_i lambda_i^(b) Z_i^2` (`Z_i` i.i.d. standard normal): `||L(Z)||^2` at the weights of fit `b`.
      PretrainPart: float[] }

/// The predictive law's mean, median and 5%/95% quantiles at one `alpha` (Monte Carlo over `Draws` draws).
type PredictiveSummary =
    { /// The mean of the draws.
      Mean: float
      /// The 5% quantile.
      Q05: float
      /// The median.
      Q50: float
      /// The 95% quantile.
      Q95: float
      /// The number of Monte Carlo draws.
      Draws: int }

/// The predictive law of `n(R - sigma^2)` at the user's `n` and `m` (docs/predict.md). The exact conditional
/// excess risk of the two-stage pipeline is `Var_n + Rep + Leak` (Proposition B.1, eq. (B.3)) with
/// `n Var_n = sigma^2 tr(Sigma Sigma_n^-1)`; Theorem 5.1 replaces `tr(Sigma Sigma_n^-1)` by its limit `d_eff` and
/// `n Rep` by `alpha^-1 ||L(Z)||^2`, and the plug-in puts the estimate in place of the truth. The predictive law
/// keeps the finite-`n` law of the variance factor and the estimation error: it is the mixture over the fits `b`
/// (the bootstrap replicates, or the point estimate alone) of `sigma_b^2 t + alpha^-1 sum_i lambda_i^(b) Z_i^2`,
/// with `t = tr(G_hat G_n*^-1)` drawn by resampling `n` labelled feature rows (`G_hat` their second moment at the
/// fit, `G_n*` that of the resample) independently of `Z` (the two data sets are independent). `n Leak` is left
/// out (it is `O_p(1/m)` against the others; docs/predict.md measures it).
[<RequireQualifiedAccess>]
module PredictiveLaw =

    /// Variance factors `t` drawn per prediction (`varianceFactors`).
    [<Literal>]
    let VarianceFactorDraws = 2000

    /// Draws of the predictive law per prediction (the default of `PredictionSettings.PredictiveDraws`).
    [<Literal>]
    let DefaultDraws = 20000

    /// Draws of one seeded block of `draw` (block `c` uses the stream `ReplicateStreams.derive seed 6 c`).
    [<Literal>]
    let BlockSize = 1000

    /// The Cholesky factor (lower, row-major, in place) of a `p x p` matrix; false when a pivot is
    /// `<= tolerance` (the matrix is singular at that tolerance).
    let private choleskyInPlace (p: int) (a: float[]) (tolerance: float) : bool =
        let mutable ok = true
        let mutable j = 0
        while ok && j < p do
            let mutable d = a.[j * p + j]
            for c in 0 .. j - 1 do d <- d - a.[j * p + c] * a.[j * p + c]
            if not (d > tolerance) then ok <- false
            else
                let l = sqrt d
                a.[j * p + j] <- l
                for i in j + 1 .. p - 1 do
                    let mutable s = a.[i * p + j]
                    for c in 0 .. j - 1 do s <- s - a.[i * p + c] * a.[j * p + c]
                    a.[i * p + j] <- s / l
            j <- j + 1
        ok

    /// `tr(L^-1 C L^-T) = tr((L L^T)^-1 C)` for `C = cf cf^T` given by its Cholesky factor `cf` (both lower,
    /// row-major): `||L^-1 cf||_F^2` by forward substitution, column by column.
    let private traceSolve (p: int) (l: float[]) (cf: float[]) (col: float[]) : float =
        let mutable total = 0.0
        for c in 0 .. p - 1 do
            for i in 0 .. p - 1 do
                let mutable s = cf.[i * p + c]
                for r in 0 .. i - 1 do s <- s - l.[i * p + r] * col.[r]
                col.[i] <- s / l.[i * p + i]
                total <- total + col.[i] * col.[i]
        total

    /// `draws` variance factors `t_j = tr(G_hat G_j^-1)` at downstream size `n`: `G_hat` is the weighted second
    /// moment of the feature rows (`weights`: how often each row counts), `G_j = (1/n) sum phi phi^T` over `n`
    /// rows drawn with replacement with probabilities proportional to `weights` (draw `j` from the stream
    /// `ReplicateStreams.derive seed 5 j`, so the result does not depend on `threads`, <= 0 for all cores). For
    /// Gaussian features `E t = p n / (n - p - 1)` (`p` features; the inverse Wishart mean), tending to
    /// `d_eff = p`. Raises `InvalidArgumentException` for `n` when `n <= p` or when a resampled `G_j` is singular
    /// (pivot <= 1e-10 x the largest diagonal entry of `G_hat`): `n` is too small for these features.
    let varianceFactors (features: Matrix<float>) (weights: float[]) (n: int) (draws: int) (seed: uint64) (threads: int) : float[] =
        let rows, p = features.RowCount, features.ColumnCount
        Check.sameLength "weights" rows weights.Length
        if draws < 1 then Check.fail "draws" (sprintf "must be >= 1, got %d" draws)
        if not (n > p) then Check.fail "n" (sprintf "must exceed the %d features of the fitted representation (the least-squares fit needs an invertible n-row Gram), got %d" p n)
        let x = Array.init (rows * p) (fun i -> features.[i / p, i % p])
        let cumulative = Array.scan (+) 0.0 weights |> Array.tail
        let total = WeightedMoments.total weights
        let uniform = weights |> Array.forall (fun w -> w = weights.[0])
        let ghat = Array.zeroCreate (p * p)
        for i in 0 .. rows - 1 do
            let w = weights.[i] / total
            if w <> 0.0 then
                for a in 0 .. p - 1 do
                    for b in 0 .. a do ghat.[a * p + b] <- ghat.[a * p + b] + w * x.[i * p + a] * x.[i * p + b]
        let scale = Seq.max (Seq.init p (fun a -> ghat.[a * p + a]))
        let tolerance = 1e-10 * scale
        if not (choleskyInPlace p ghat tolerance) then
            raise (RankDeficientException("labelled feature second moment G_hat", p, p - 1))
        // The products x_a x_b (b <= a) of every row, contiguous, so that a draw only adds rows of `z`: the
        // same products in the same order as accumulating x_a x_b row by row.
        let tri = p * (p + 1) / 2
        let z = Array.zeroCreate (rows * tri)
        for i in 0 .. rows - 1 do
            let mutable e = i * tri
            for a in 0 .. p - 1 do
                for b in 0 .. a do
                    z.[e] <- x.[i * p + a] * x.[i * p + b]
                    e <- e + 1
        let result = Array.zeroCreate draws
        let singular = ref Int32.MaxValue
        let options = ParallelOptions(MaxDegreeOfParallelism = (if threads <= 0 then Environment.ProcessorCount else threads))
        let chunks = (draws + 63) / 64
        Parallel.For(0, chunks, options, fun c ->
            let acc = Array.zeroCreate tri
            let g = Array.zeroCreate (p * p)
            let col = Array.zeroCreate p
            for j in c * 64 .. min draws ((c + 1) * 64) - 1 do
                Array.Clear acc
                let rng = ReplicateStreams.derive seed 5 j
                for _ in 1 .. n do
                    let i =
                        if uniform then min (rows - 1) (int (rng.NextDouble() * float rows))
                        else
                            let k = Array.BinarySearch(cumulative, rng.NextDouble() * total)
                            min (rows - 1) (if k >= 0 then k + 1 else ~~~k)
                    let o = i * tri
                    System.Numerics.Tensors.TensorPrimitives.Add(ReadOnlySpan acc, ReadOnlySpan(z, o, tri), Span acc)
                let mutable e = 0
                for a in 0 .. p - 1 do
                    for b in 0 .. a do
                        g.[a * p + b] <- acc.[e] / float n
                        e <- e + 1
                if choleskyInPlace p g tolerance then result.[j] <- traceSolve p g ghat col
                else lock singular (fun () -> singular.Value <- min singular.Value j)) |> ignore
        if singular.Value < Int32.MaxValue then
            Check.fail "n" (sprintf "is too small for the %d features: the second moment of n = %d labelled feature rows resampled from the data is singular (draw %d)" p n singular.Value)
        result

    /// `draws` draws of the predictive law from the fits `fits` (at least one: the bootstrap replicates, or the
    /// point estimate alone) and the variance factors `t`: draw `j` uses fit `j mod fits.Length`, a variance factor
    /// picked uniformly from `t`, and fresh standard normals `Z` for `||L(Z)||^2 = sum_i lambda_i Z_i^2` (block
    /// `c` of `BlockSize` draws from `ReplicateStreams.derive seed 6 c`; independent of `threads`).
    let draw (fits: AsymptoticSummary[]) (t: float[]) (draws: int) (seed: uint64) (threads: int) : PredictiveDraws =
        if fits.Length = 0 then Check.fail "fits" "must be non-empty"
        if t.Length = 0 then Check.fail "t" "must be non-empty"
        if draws < 2 then Check.fail "draws" (sprintf "must be >= 2, got %d" draws)
        let variance = Array.zeroCreate draws
        let pretrain = Array.zeroCreate draws
        let options = ParallelOptions(MaxDegreeOfParallelism = (if threads <= 0 then Environment.ProcessorCount else threads))
        Parallel.For(0, (draws + BlockSize - 1) / BlockSize, options, fun c ->
            let rng = ReplicateStreams.derive seed 6 c
            for j in c * BlockSize .. min draws ((c + 1) * BlockSize) - 1 do
                let f = fits.[j % fits.Length]
                let tj = t.[min (t.Length - 1) (int (rng.NextDouble() * float t.Length))]
                variance.[j] <- f.Sigma2 * tj
                let mutable s = 0.0
                for lam in f.Weights do
                    let z = rng.NextNormal()
                    s <- s + lam * z * z
                pretrain.[j] <- s) |> ignore
        { VariancePart = variance; PretrainPart = pretrain }

    /// The predictive law at `alpha`: mean, 5%, 50%, 95% quantiles of `VariancePart + PretrainPart / alpha`
    /// (type-7 quantiles of the Monte Carlo draws).
    let at (alpha: float) (d: PredictiveDraws) : PredictiveSummary =
        if not (alpha > 0.0 && Double.IsFinite alpha) then Check.fail "alpha" (sprintf "must be positive and finite, got %g" alpha)
        let v = Array.map2 (fun a b -> a + b / alpha) d.VariancePart d.PretrainPart
        Array.sortInPlace v
        { Mean = Array.average v; Q05 = Bootstrap.quantileSorted v 0.05; Q50 = Bootstrap.quantileSorted v 0.5
          Q95 = Bootstrap.quantileSorted v 0.95; Draws = v.Length }

    /// The variance factors of an estimate at `n`: `varianceFactors` on its labelled features and weights,
    /// `VarianceFactorDraws` of them.
    let varianceFactorsOf (estimate: PlugInEstimate) (n: int) (seed: uint64) (threads: int) : float[] =
        varianceFactors estimate.LabelledFeatures.Value estimate.LabelledWeights n VarianceFactorDraws seed threads

    /// `draw` over the bootstrap replicates' fits, or over the point estimate alone when there are none.
    let ofFits (estimate: PlugInEstimate) (replicates: AsymptoticSummary[]) (t: float[]) (draws: int) (seed: uint64) (threads: int) : PredictiveDraws =
        draw (if replicates.Length = 0 then [| estimate.Summary |] else replicates) t draws seed threads
