namespace FunctionalAsymptotics.Distributions

/// The generalized chi-square law `Q = c + s * sum_j w_j chi^2_{k_j}(lambda_j)` with independent terms:
/// offset `c`, scale `s > 0`, non-zero weights `w_j` of either sign, integer degrees of freedom
/// `k_j >= 1` and noncentralities `lambda_j >= 0`. Theorem 5.1's limit law (paper L395–L420) is of this
/// family. Immutable and thread-safe; construct it with `GeneralizedChiSquare.create`. Point-independent
/// work (Ruben's mixture weights) is computed once per law and shared by all evaluations.
/// Exactly scale-equivariant: every probability, density and quantile is computed for the normalised law
/// `sum_j (w_j / 2^e) chi^2_{k_j}(lambda_j)` (`2^e` the power of two above `max |w_j|`) at the point
/// `(x - c) / (s 2^e)`, formed without multiplying scales, so weights and scales anywhere in the double range
/// (1e-300 .. 1e300) give the same answers as the unit law.
[<Sealed>]
type GeneralizedChiSquare =
    /// The weights `w_j` (a copy).
    member Weights: float[]
    /// The degrees of freedom `k_j` (a copy).
    member Dofs: int[]
    /// The noncentralities `lambda_j` (a copy).
    member Noncentralities: float[]
    /// The offset `c`.
    member Offset: float
    /// The scale `s > 0`.
    member Scale: float
    /// Number of terms.
    member Count: int
    /// `E Q = c + s sum_j w_j (k_j + lambda_j)`; an infinity of the right sign only when `|E Q|` exceeds the
    /// largest double (then `LogAbsMean` gives its size).
    member Mean: float
    /// `log |E Q|`: finite whenever `E Q <> 0`, also where `E Q` overflows.
    member LogAbsMean: float
    /// `Var Q = 2 s^2 sum_j w_j^2 (k_j + 2 lambda_j)`, computed from the normalised weights `w_j / max|w|` so
    /// that it is neither lost to underflow nor overflows before the final scaling: `+infinity` only when it
    /// exceeds the largest double (then `LogVariance` gives its size).
    member Variance: float
    /// `log Var Q`, finite for every law (also where `Var Q` over- or underflows a double).
    member LogVariance: float
    /// `sqrt(Var Q)`.
    member StandardDeviation: float
    /// Skewness `8 sum w^3 (k + 3 lambda) / (2 sum w^2 (k + 2 lambda))^{3/2}` (scale- and offset-free).
    member Skewness: float
    /// `c + s * (w_1 chi2_k1(lambda_1) + ...)`.
    override ToString: unit -> string
    member internal W: float[]
    member internal K: int[]
    member internal L: float[]

/// Functions on `GeneralizedChiSquare` (MathNet style: the type, and the verbs here).
/// Accuracy (tested against exact laws): absolute cdf error <= 1e-10 (typically 1e-14); relative sf
/// error <= 1e-8 (typically 1e-13) for same-sign weights down to sf = 1e-300; quantiles to relative 1e-10.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module GeneralizedChiSquare =

    /// `c + s * sum_j w_j chi^2_{k_j}(lambda_j)`. Raises `InvalidArgumentException` (naming the argument)
    /// for empty or mismatched arrays, a zero or non-finite weight, `k_j < 1`, `lambda_j < 0` or
    /// non-finite, a non-finite offset, or a scale that is not finite and positive.
    val create: weights: float[] -> dofs: int[] -> noncentralities: float[] -> offset: float -> scale: float -> GeneralizedChiSquare

    /// `sum_j w_j chi^2_1`: central terms with one degree of freedom, no offset, unit scale.
    val ofWeights: weights: float[] -> GeneralizedChiSquare

    /// The same law moved by `delta`: `Q + delta`.
    val shift: delta: float -> q: GeneralizedChiSquare -> GeneralizedChiSquare

    /// The same law scaled by `factor > 0`: `factor * Q`. Raises `InvalidArgumentException("factor")` when
    /// the scaled scale or offset would not be a finite double (or the scale would underflow to 0).
    val rescale: factor: float -> q: GeneralizedChiSquare -> GeneralizedChiSquare

    /// `E Q`.
    val mean: q: GeneralizedChiSquare -> float
    /// `Var Q`.
    val variance: q: GeneralizedChiSquare -> float
    /// Skewness of `Q`.
    val skewness: q: GeneralizedChiSquare -> float

    /// `P(Q <= x)` with the method used (Ruben, Imhof, or Exact outside the support) and a bound on its
    /// absolute error. `settings.Algorithm` picks the method (`Auto`: Ruben's series for same-sign
    /// weights when it is short, Imhof's integral otherwise).
    val cdfWith: settings: ChiSquareSettings -> q: GeneralizedChiSquare -> x: float -> ChiSquareEvaluation

    /// `P(Q > x)`, computed natively (not as 1 - cdf), with the method used and an absolute error bound.
    val sfWith: settings: ChiSquareSettings -> q: GeneralizedChiSquare -> x: float -> ChiSquareEvaluation

    /// `P(Q <= x)`.
    val cdf: q: GeneralizedChiSquare -> x: float -> float

    /// `P(Q > x)`, with relative accuracy in the upper tail.
    val sf: q: GeneralizedChiSquare -> x: float -> float

    /// `log P(Q > x)`; finite even where `P(Q > x)` underflows (Imhof's integral is scaled by its
    /// saddle point).
    val logSf: q: GeneralizedChiSquare -> x: float -> float

    /// `log P(Q <= x)`; finite even where `P(Q <= x)` underflows.
    val logCdf: q: GeneralizedChiSquare -> x: float -> float

    /// Density of Q at x, with the method used and an absolute error bound.
    val pdfWith: settings: ChiSquareSettings -> q: GeneralizedChiSquare -> x: float -> ChiSquareEvaluation

    /// Density of Q at x.
    val pdf: q: GeneralizedChiSquare -> x: float -> float

    /// `P(Q > x)` by Imhof's printed formula `1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du` (the
    /// contour through `c = 0`), with its absolute error bound: an independent cross-check of `sf`, with
    /// absolute accuracy `absTol` only (no relative accuracy in the tails). Returns (sf, error bound).
    val imhofClassic: q: GeneralizedChiSquare -> absTol: float -> x: float -> struct (float * float)

    /// The x with `P(Q <= x) = p` (relative accuracy 1e-10 or better). `p = 0` and `p = 1` give the
    /// support's edges (possibly infinite). Raises `InvalidArgumentException("p")` outside [0, 1].
    val quantile: q: GeneralizedChiSquare -> p: float -> float

    /// The x with `P(Q > x) = p`: the upper-tail quantile, accurate for `p` down to 1e-300.
    val isf: q: GeneralizedChiSquare -> p: float -> float

    /// `count` independent draws of Q, reproducible from `seed` whatever the thread count.
    val sample: seed: uint64 -> count: int -> q: GeneralizedChiSquare -> float[]
