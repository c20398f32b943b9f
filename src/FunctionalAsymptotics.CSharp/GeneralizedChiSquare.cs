using System.Diagnostics.CodeAnalysis;
using Core = FunctionalAsymptotics.Distributions.GeneralizedChiSquare;
using CoreModule = FunctionalAsymptotics.Distributions.GeneralizedChiSquareModule;

namespace FunctionalAsymptotics.CSharp;

/// <summary>
/// The generalized chi-square law <c>Q = c + s * sum_j w_j chi^2_{k_j}(lambda_j)</c> (independent terms;
/// offset <c>c</c>, scale <c>s &gt; 0</c>, non-zero weights of either sign, integer degrees of freedom
/// <c>k_j &gt;= 1</c>, noncentralities <c>lambda_j &gt;= 0</c>). Immutable and thread-safe.
/// Invalid arguments raise <see cref="InvalidArgumentException"/> (an <see cref="ArgumentException"/>) naming
/// the argument; use <see cref="TryCreate(double[], int[], double[], double, double, out GeneralizedChiSquare?, out string?)"/>
/// to get the message instead.
/// </summary>
public sealed class GeneralizedChiSquare
{
    /// <summary>Default absolute tolerance of the <c>Evaluate*</c> methods.</summary>
    public const double DefaultAbsoluteTolerance = 1e-12;

    internal Core Law { get; }

    internal GeneralizedChiSquare(Core law) => Law = law;

    /// <summary><c>sum_j w_j chi^2_1</c>: central terms with one degree of freedom, no offset, unit scale.</summary>
    public static GeneralizedChiSquare Create(double[] weights) => new(CoreModule.ofWeights(weights));

    /// <summary><c>sum_j w_j chi^2_1</c> from a span of weights (copied).</summary>
    public static GeneralizedChiSquare Create(ReadOnlySpan<double> weights) => Create(weights.ToArray());

    /// <summary><c>offset + scale * sum_j w_j chi^2_{k_j}(lambda_j)</c>; the arrays must have equal lengths.</summary>
    public static GeneralizedChiSquare Create(double[] weights, int[] dofs, double[] noncentralities, double offset = 0.0, double scale = 1.0) =>
        new(CoreModule.create(weights, dofs, noncentralities, offset, scale));

    /// <summary><c>offset + scale * sum_j w_j chi^2_{k_j}(lambda_j)</c> from spans (copied).</summary>
    public static GeneralizedChiSquare Create(ReadOnlySpan<double> weights, ReadOnlySpan<int> dofs, ReadOnlySpan<double> noncentralities,
        double offset = 0.0, double scale = 1.0) =>
        Create(weights.ToArray(), dofs.ToArray(), noncentralities.ToArray(), offset, scale);

    /// <summary>
    /// Like <see cref="Create(double[], int[], double[], double, double)"/>, but returns false with the
    /// reason in <paramref name="error"/> instead of throwing.
    /// </summary>
    public static bool TryCreate(double[] weights, int[] dofs, double[] noncentralities, double offset, double scale,
        [NotNullWhen(true)] out GeneralizedChiSquare? result, [NotNullWhen(false)] out string? error) =>
        Attempt.Create(() => Create(weights, dofs, noncentralities, offset, scale), out result, out error);

    /// <summary>Like <see cref="Create(double[])"/>, but returns false with the reason instead of throwing.</summary>
    public static bool TryCreate(double[] weights, [NotNullWhen(true)] out GeneralizedChiSquare? result, [NotNullWhen(false)] out string? error) =>
        Attempt.Create(() => Create(weights), out result, out error);

    /// <summary>The weights <c>w_j</c> (a copy).</summary>
    public double[] Weights => Law.Weights;
    /// <summary>The degrees of freedom <c>k_j</c> (a copy).</summary>
    public int[] Dofs => Law.Dofs;
    /// <summary>The noncentralities <c>lambda_j</c> (a copy).</summary>
    public double[] Noncentralities => Law.Noncentralities;
    /// <summary>The offset <c>c</c>.</summary>
    public double Offset => Law.Offset;
    /// <summary>The scale <c>s</c>.</summary>
    public double Scale => Law.Scale;
    /// <summary>Number of terms.</summary>
    public int Count => Law.Count;
    /// <summary><c>E Q = c + s sum_j w_j (k_j + lambda_j)</c>.</summary>
    public double Mean => Law.Mean;
    /// <summary><c>Var Q = 2 s^2 sum_j w_j^2 (k_j + 2 lambda_j)</c>.</summary>
    public double Variance => Law.Variance;
    /// <summary><c>sqrt(Var Q)</c>.</summary>
    public double StandardDeviation => Math.Sqrt(Law.Variance);
    /// <summary>Skewness of <c>Q</c> (free of offset and scale).</summary>
    public double Skewness => Law.Skewness;

    /// <summary>The same law moved by <paramref name="delta"/>: <c>Q + delta</c>.</summary>
    public GeneralizedChiSquare Shift(double delta) => new(CoreModule.shift(delta, Law));
    /// <summary>The same law scaled by <paramref name="factor"/> &gt; 0: <c>factor * Q</c>.</summary>
    public GeneralizedChiSquare Rescale(double factor) => new(CoreModule.rescale(factor, Law));

    /// <summary><c>P(Q &lt;= x)</c>.</summary>
    public double Cdf(double x) => CoreModule.cdf(Law, x);
    /// <summary><c>P(Q &gt; x)</c>, computed natively (accurate in the upper tail).</summary>
    public double Sf(double x) => CoreModule.sf(Law, x);
    /// <summary><c>log P(Q &gt; x)</c>, finite even when the probability underflows.</summary>
    public double LogSf(double x) => CoreModule.logSf(Law, x);
    /// <summary>The density of <c>Q</c> at <paramref name="x"/>.</summary>
    public double Pdf(double x) => CoreModule.pdf(Law, x);
    /// <summary>The <c>x</c> with <c>P(Q &lt;= x) = p</c>.</summary>
    public double Quantile(double p) => CoreModule.quantile(Law, p);
    /// <summary>The <c>x</c> with <c>P(Q &gt; x) = p</c> (inverse survival function).</summary>
    public double Isf(double p) => CoreModule.isf(Law, p);

    /// <summary><c>P(Q &lt;= x)</c> with the method used and an absolute error bound.</summary>
    public ProbabilityEvaluation EvaluateCdf(double x, Algorithm algorithm = Algorithm.Auto, double absoluteTolerance = DefaultAbsoluteTolerance) =>
        Interop.Evaluation(CoreModule.cdfWith(Interop.Settings(algorithm, absoluteTolerance), Law, x));
    /// <summary><c>P(Q &gt; x)</c> with the method used and an absolute error bound.</summary>
    public ProbabilityEvaluation EvaluateSf(double x, Algorithm algorithm = Algorithm.Auto, double absoluteTolerance = DefaultAbsoluteTolerance) =>
        Interop.Evaluation(CoreModule.sfWith(Interop.Settings(algorithm, absoluteTolerance), Law, x));
    /// <summary>The density at <paramref name="x"/> with the method used and an absolute error bound.</summary>
    public ProbabilityEvaluation EvaluatePdf(double x, Algorithm algorithm = Algorithm.Auto, double absoluteTolerance = DefaultAbsoluteTolerance) =>
        Interop.Evaluation(CoreModule.pdfWith(Interop.Settings(algorithm, absoluteTolerance), Law, x));

    /// <summary>
    /// Fills <paramref name="destination"/> with independent draws of <c>Q</c>, reproducible from
    /// <paramref name="seed"/> whatever the thread count; the same values as <see cref="Sample(ulong, int)"/>.
    /// </summary>
    public void Sample(ulong seed, Span<double> destination) =>
        CoreModule.sample(seed, destination.Length, Law).CopyTo(destination);

    /// <summary><paramref name="count"/> independent draws of <c>Q</c>, reproducible from <paramref name="seed"/>.</summary>
    public double[] Sample(ulong seed, int count) => CoreModule.sample(seed, count, Law);

    /// <summary>The law in the form <c>c + s * (w_1 chi2_k1 + ...)</c>.</summary>
    public override string ToString() => Law.ToString();
}
