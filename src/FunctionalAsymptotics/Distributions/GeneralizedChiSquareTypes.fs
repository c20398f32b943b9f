namespace FunctionalAsymptotics.Distributions


/// The algorithm that evaluated a probability of a generalized chi-square law.
type ChiSquareMethod =
    /// Ruben's (1962) mixture-of-chi-squares series; same-sign weights only. Error bound is rigorous.
    | Ruben
    /// Imhof's (1961) inversion integral, by adaptive Gauss–Kronrod quadrature; any signs.
    | Imhof
    /// The law is degenerate or the point is outside its support: the value is exact.
    | Exact
    override this.ToString() =
        match this with
        | Ruben -> "ruben"
        | Imhof -> "imhof"
        | Exact -> "exact"

/// Which algorithm a caller wants; `Auto` picks Ruben for same-sign weights when its series is short
/// enough, Imhof otherwise.
type ChiSquareAlgorithm =
    | Auto
    | UseRuben
    | UseImhof

/// A probability (or density) together with how it was computed.
/// `ErrorBound` bounds the absolute error of `Value` (for Ruben: truncation bound plus rounding;
/// for Imhof: quadrature error estimate plus the tail-truncation bound of the integral).
[<Struct>]
type ChiSquareEvaluation =
    { Value: float
      Method: ChiSquareMethod
      ErrorBound: float }

/// Numerical settings. `AbsoluteTolerance` is the target absolute error of a cdf value,
/// `RelativeTolerance` the target relative error of an upper-tail probability (Ruben),
/// `MaxRubenTerms` the longest Ruben series `Auto` accepts before switching to Imhof.
type ChiSquareSettings =
    { Algorithm: ChiSquareAlgorithm
      AbsoluteTolerance: float
      RelativeTolerance: float
      MaxRubenTerms: int }
    static member Default =
        { Algorithm = Auto
          AbsoluteTolerance = 1e-12
          RelativeTolerance = 1e-11
          MaxRubenTerms = 20_000 }
