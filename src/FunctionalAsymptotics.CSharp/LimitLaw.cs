using System.Diagnostics.CodeAnalysis;
using Core = FunctionalAsymptotics.Asymptotics.LimitLaw;
using CoreModule = FunctionalAsymptotics.Asymptotics.LimitLawModule;

namespace FunctionalAsymptotics.CSharp;

/// <summary>
/// The limit law of Theorem 5.1 (Tinati and Tu, COLT 2026): <c>n (R - sigma^2) =&gt; E_alpha =
/// sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1</c>, with independent chi-squares, <c>alpha = m / n</c>
/// the ratio of pre-training to downstream sample sizes and <c>lambda_j &gt;= 0</c> the eigenvalues of
/// <c>V^1/2 G V^1/2</c>. Immutable and thread-safe.
/// </summary>
public sealed class LimitLaw
{
    internal Core Law { get; }

    private LimitLaw(Core law) => Law = law;

    /// <summary>
    /// The law <c>sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1</c>: <c>sigma2 &gt;= 0</c>,
    /// <c>dEff &gt;= 0</c>, <c>alpha &gt; 0</c>, weights finite and <c>&gt;= 0</c> (zeros are dropped).
    /// Raises <see cref="InvalidArgumentException"/> naming the argument otherwise.
    /// </summary>
    public static LimitLaw Create(double sigma2, int dEff, double alpha, double[] weights) =>
        new(CoreModule.create(sigma2, dEff, alpha, weights));

    /// <summary>As <see cref="Create(double, int, double, double[])"/>, from a span of weights (copied).</summary>
    public static LimitLaw Create(double sigma2, int dEff, double alpha, ReadOnlySpan<double> weights) =>
        Create(sigma2, dEff, alpha, weights.ToArray());

    /// <summary>Like <see cref="Create(double, int, double, double[])"/>, but returns false with the reason instead of throwing.</summary>
    public static bool TryCreate(double sigma2, int dEff, double alpha, double[] weights,
        [NotNullWhen(true)] out LimitLaw? result, [NotNullWhen(false)] out string? error) =>
        Attempt.Create(() => Create(sigma2, dEff, alpha, weights), out result, out error);

    /// <summary>Noise variance <c>sigma^2</c> of the downstream labels.</summary>
    public double Sigma2 => Law.Sigma2;
    /// <summary>Effective dimension <c>d_eff</c>.</summary>
    public int DEff => Law.DEff;
    /// <summary>Sample-size ratio <c>alpha = m / n</c>.</summary>
    public double Alpha => Law.Alpha;
    /// <summary>The chi-square weights <c>lambda_j</c> as given (a copy, zeros included).</summary>
    public double[] Weights => Law.Weights;
    /// <summary>The OLS term <c>sigma^2 d_eff</c>.</summary>
    public double OlsTerm => Law.OlsTerm;
    /// <summary><c>E ||L(Z)||^2 = sum_j lambda_j</c>, the mean of the pre-training term.</summary>
    public double PretrainingMean => Law.PretrainingMean;
    /// <summary><c>E E_alpha = sigma^2 d_eff + alpha^-1 sum_j lambda_j</c>.</summary>
    public double Mean => Law.Mean;
    /// <summary><c>Var E_alpha = 2 alpha^-2 sum_j lambda_j^2</c>.</summary>
    public double Variance => Law.Variance;
    /// <summary><c>sqrt(Var E_alpha)</c>.</summary>
    public double StandardDeviation => Math.Sqrt(Law.Variance);

    /// <summary>The pre-training term <c>sum_j lambda_j chi^2_1</c>, or null when every weight is zero.</summary>
    public GeneralizedChiSquare? PretrainingTerm => Law.PretrainingTerm is { } q ? new GeneralizedChiSquare(q.Value) : null;

    /// <summary>The whole law <c>E_alpha</c> as a generalized chi-square, or null when it is the point mass <c>sigma^2 d_eff</c>.</summary>
    public GeneralizedChiSquare? Distribution => Law.Distribution is { } q ? new GeneralizedChiSquare(q.Value) : null;

    /// <summary><c>P(E_alpha &lt;= t)</c>.</summary>
    public double Cdf(double t) => CoreModule.cdf(Law, t);
    /// <summary><c>P(E_alpha &gt; t)</c>.</summary>
    public double Sf(double t) => CoreModule.sf(Law, t);
    /// <summary>The <c>t</c> with <c>P(E_alpha &lt;= t) = p</c>.</summary>
    public double Quantile(double p) => CoreModule.quantile(Law, p);

    /// <summary>
    /// The high-probability bound <c>t(delta)</c> with <c>P(E_alpha &gt;= t(delta)) = delta</c>: asymptotically,
    /// the scaled excess risk <c>n (R - sigma^2)</c> exceeds it with probability <paramref name="delta"/>.
    /// </summary>
    public double ExceedanceThreshold(double delta) => CoreModule.exceedanceThreshold(Law, delta);

    /// <summary>Fills <paramref name="destination"/> with independent draws of <c>E_alpha</c>, reproducible from <paramref name="seed"/>.</summary>
    public void Sample(ulong seed, Span<double> destination) =>
        CoreModule.sample(seed, destination.Length, Law).CopyTo(destination);

    /// <summary><paramref name="count"/> independent draws of <c>E_alpha</c>, reproducible from <paramref name="seed"/>.</summary>
    public double[] Sample(ulong seed, int count) => CoreModule.sample(seed, count, Law);

    /// <summary>The law in words and numbers.</summary>
    public override string ToString() => Law.ToString();
}
