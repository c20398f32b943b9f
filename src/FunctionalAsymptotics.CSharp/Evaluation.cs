namespace FunctionalAsymptotics.CSharp;

/// <summary>Which algorithm evaluates a probability of a generalized chi-square law.</summary>
public enum Algorithm
{
    /// <summary>Ruben's series for same-sign weights when it is short enough, Imhof's integral otherwise.</summary>
    Auto,
    /// <summary>Ruben's (1962) mixture-of-chi-squares series (same-sign weights only; rigorous error bound).</summary>
    Ruben,
    /// <summary>Imhof's (1961) inversion integral by adaptive quadrature (any signs).</summary>
    Imhof,
}

/// <summary>
/// A probability or density together with how it was computed.
/// </summary>
/// <param name="Value">The probability (or density) value.</param>
/// <param name="Method">The algorithm that produced it: <c>"ruben"</c>, <c>"imhof"</c> or <c>"exact"</c>
/// (degenerate law or a point outside the support).</param>
/// <param name="ErrorBound">A bound on the absolute error of <paramref name="Value"/>.</param>
public sealed record ProbabilityEvaluation(double Value, string Method, double ErrorBound);

/// <summary>Conversions between the facade's plain .NET types and the F# core's.</summary>
internal static class Interop
{
    internal static Distributions.ChiSquareSettings Settings(Algorithm algorithm, double absoluteTolerance)
    {
        var d = Distributions.ChiSquareSettings.Default;
        var a = algorithm switch
        {
            Algorithm.Ruben => Distributions.ChiSquareAlgorithm.UseRuben,
            Algorithm.Imhof => Distributions.ChiSquareAlgorithm.UseImhof,
            Algorithm.Auto => Distributions.ChiSquareAlgorithm.Auto,
            _ => throw new InvalidArgumentException(nameof(algorithm), $"must be Auto, Ruben or Imhof, got {(int)algorithm}", null),
        };
        return new Distributions.ChiSquareSettings(a, absoluteTolerance, d.RelativeTolerance, d.MaxRubenTerms);
    }

    internal static ProbabilityEvaluation Evaluation(Distributions.ChiSquareEvaluation e) =>
        new(e.Value, e.Method.ToString(), e.ErrorBound);
}
