namespace FunctionalAsymptotics.Distributions

open System
open FunctionalAsymptotics

/// The generalized chi-square law `Q = c + s * sum_j w_j chi^2_{k_j}(lambda_j)` with independent terms:
/// offset `c`, scale `s > 0`, non-zero weights `w_j` of either sign, integer degrees of freedom
/// `k_j >= 1` and noncentralities `lambda_j >= 0`. Theorem 5.1's limit law is of this family.
/// Immutable; construct it with `GeneralizedChiSquare.create`.
[<Sealed>]
type GeneralizedChiSquare internal (weights: float[], dofs: int[], noncentralities: float[], offset: float, scale: float) =
    /// The weights `w_j` (a copy).
    member _.Weights = Array.copy weights
    /// The degrees of freedom `k_j` (a copy).
    member _.Dofs = Array.copy dofs
    /// The noncentralities `lambda_j` (a copy).
    member _.Noncentralities = Array.copy noncentralities
    /// The offset `c`.
    member _.Offset = offset
    /// The scale `s > 0`.
    member _.Scale = scale
    /// Number of terms.
    member _.Count = weights.Length
    member internal _.W = weights
    member internal _.K = dofs
    member internal _.L = noncentralities
    /// `E Q = c + s sum_j w_j (k_j + lambda_j)`.
    member _.Mean =
        let mutable acc = 0.0
        for j in 0 .. weights.Length - 1 do acc <- acc + weights.[j] * (float dofs.[j] + noncentralities.[j])
        offset + scale * acc
    /// `Var Q = 2 s^2 sum_j w_j^2 (k_j + 2 lambda_j)`.
    member _.Variance =
        let mutable acc = 0.0
        for j in 0 .. weights.Length - 1 do
            acc <- acc + weights.[j] * weights.[j] * (float dofs.[j] + 2.0 * noncentralities.[j])
        2.0 * scale * scale * acc
    /// Skewness `8 sum w^3 (k + 3 lambda) / (2 sum w^2 (k + 2 lambda))^{3/2}` (scale- and offset-free).
    member this.Skewness =
        let mutable k3 = 0.0
        for j in 0 .. weights.Length - 1 do
            k3 <- k3 + weights.[j] ** 3.0 * (float dofs.[j] + 3.0 * noncentralities.[j])
        let v = this.Variance / (scale * scale)
        8.0 * k3 / (v ** 1.5)
    override this.ToString() =
        let terms =
            Array.init weights.Length (fun j ->
                if noncentralities.[j] = 0.0 then sprintf "%g chi2_%d" weights.[j] dofs.[j]
                else sprintf "%g chi2_%d(%g)" weights.[j] dofs.[j] noncentralities.[j])
        sprintf "%g + %g * (%s)" offset scale (String.Join(" + ", terms))

/// Functions on `GeneralizedChiSquare` (MathNet style: the type above, the verbs here).
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module GeneralizedChiSquare =

    /// `c + s * sum_j w_j chi^2_{k_j}(lambda_j)`. Raises `InvalidArgumentException` (naming the argument)
    /// for empty or mismatched arrays, a zero or non-finite weight, `k_j < 1`, `lambda_j < 0` or
    /// non-finite, a non-finite offset, or a scale that is not finite and positive.
    let create (weights: float[]) (dofs: int[]) (noncentralities: float[]) (offset: float) (scale: float) =
        Check.nonEmpty "weights" weights
        Check.finiteArray "weights" weights
        if isNull (box dofs) then Check.fail "dofs" "must not be null"
        if isNull (box noncentralities) then Check.fail "noncentralities" "must not be null"
        Check.sameLength "dofs" weights.Length dofs.Length
        Check.sameLength "noncentralities" weights.Length noncentralities.Length
        for j in 0 .. weights.Length - 1 do
            if weights.[j] = 0.0 then Check.fail "weights" (sprintf "must be non-zero, but weights[%d] = 0" j)
            if dofs.[j] < 1 then Check.fail "dofs" (sprintf "must be integers >= 1, but dofs[%d] = %d" j dofs.[j])
        Check.finiteArray "noncentralities" noncentralities
        for j in 0 .. noncentralities.Length - 1 do
            if noncentralities.[j] < 0.0 then
                Check.fail "noncentralities" (sprintf "must be >= 0, but noncentralities[%d] = %g" j noncentralities.[j])
        Check.finite "offset" offset
        Check.positive "scale" scale
        GeneralizedChiSquare(Array.copy weights, Array.copy dofs, Array.copy noncentralities, offset, scale)

    /// `sum_j w_j chi^2_1`: central terms with one degree of freedom, no offset, unit scale.
    let ofWeights (weights: float[]) =
        if isNull (box weights) then Check.fail "weights" "must not be null"
        create weights (Array.create weights.Length 1) (Array.zeroCreate weights.Length) 0.0 1.0

    /// The same law moved by `delta`: `Q + delta`.
    let shift (delta: float) (q: GeneralizedChiSquare) =
        Check.finite "delta" delta
        GeneralizedChiSquare(q.W, q.K, q.L, q.Offset + delta, q.Scale)

    /// The same law scaled by `factor > 0`: `factor * Q`.
    let rescale (factor: float) (q: GeneralizedChiSquare) =
        Check.positive "factor" factor
        GeneralizedChiSquare(q.W, q.K, q.L, factor * q.Offset, factor * q.Scale)

    /// `E Q`.
    let mean (q: GeneralizedChiSquare) = q.Mean
    /// `Var Q`.
    let variance (q: GeneralizedChiSquare) = q.Variance
    /// Skewness of `Q`.
    let skewness (q: GeneralizedChiSquare) = q.Skewness

    // ---- API under construction (implementations land in the next commits) ----
    /// `P(Q <= x)` with the method used and an absolute error bound.
    let cdfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation = raise (NotImplementedException())
    /// `P(Q > x)`, computed natively (not as 1 - cdf), with the method used and an absolute error bound.
    let sfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation = raise (NotImplementedException())
    /// Density of Q at x, with method and error bound.
    let pdfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation = raise (NotImplementedException())
    /// `P(Q <= x)`.
    let cdf (q: GeneralizedChiSquare) (x: float) : float = raise (NotImplementedException())
    /// `P(Q > x)`.
    let sf (q: GeneralizedChiSquare) (x: float) : float = raise (NotImplementedException())
    /// `log P(Q > x)`, finite even below the double range.
    let logSf (q: GeneralizedChiSquare) (x: float) : float = raise (NotImplementedException())
    /// Density at x.
    let pdf (q: GeneralizedChiSquare) (x: float) : float = raise (NotImplementedException())
    /// The x with `P(Q <= x) = p`.
    let quantile (q: GeneralizedChiSquare) (p: float) : float = raise (NotImplementedException())
    /// The x with `P(Q > x) = p`.
    let isf (q: GeneralizedChiSquare) (p: float) : float = raise (NotImplementedException())
    /// `count` independent draws of Q, reproducible from `seed` (whatever the thread count).
    let sample (seed: uint64) (count: int) (q: GeneralizedChiSquare) : float[] =
        if count < 0 then Check.fail "count" (sprintf "must be >= 0, got %d" count)
        let out = Array.zeroCreate count
        ChiSquareSampler.fill seed q.W q.K q.L out
        for i in 0 .. count - 1 do out.[i] <- q.Offset + q.Scale * out.[i]
        out
