using FEst = FunctionalAsymptotics.Estimation;
using FAsy = FunctionalAsymptotics.Asymptotics;
using CoreProgress = FunctionalAsymptotics.WorkProgress;

namespace FunctionalAsymptotics.CSharp.Estimation;

/// <summary>A Monte Carlo estimate with its jackknife standard error and confidence interval
/// Value -/+ t_{B-1} StandardError (docs/your-own-model.md, "Error bars").</summary>
public sealed class Estimate
{
    internal Estimate(FAsy.Estimate e)
    {
        Value = e.Value;
        StandardError = e.StandardError;
        Lower = e.Lower;
        Upper = e.Upper;
    }
    /// <summary>The pooled estimate.</summary>
    public double Value { get; }
    /// <summary>The jackknife standard error over batches.</summary>
    public double StandardError { get; }
    /// <summary>Lower end of the confidence interval.</summary>
    public double Lower { get; }
    /// <summary>Upper end of the confidence interval.</summary>
    public double Upper { get; }
    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Value:G6} +- {StandardError:G3} [{Lower:G6}, {Upper:G6}]");
}

/// <summary>What the validation of a specification measured when every check passed.</summary>
public sealed class ValidationReport
{
    internal ValidationReport(FEst.ValidationReport r)
    {
        InvarianceViolation = r.Invariance.WorstViolation;
        EquivarianceViolation = r.Equivariance.WorstViolation;
        DerivativeFields = r.Derivatives.Select(d => d.Field).ToArray();
        DerivativeErrors = r.Derivatives.Select(d => d.RelativeError).ToArray();
        GradientNorm = r.GradientNorm;
        GradientThreshold = r.GradientThreshold;
        GradientStandardError = r.GradientStandardError;
        HessianEigenvalues = (double[])r.HessianEigenvalues.Clone();
        SmallestEigenvalueStandardError = r.SmallestEigenvalueStandardError;
    }
    /// <summary>Worst relative violation of the loss invariance l(g.w; z) = l(w; z).</summary>
    public double InvarianceViolation { get; }
    /// <summary>Worst relative violation of the feature equivariance psi(x, g.w) = rho(g) psi(x, w).</summary>
    public double EquivarianceViolation { get; }
    /// <summary>The supplied derivatives checked against finite differences.</summary>
    public string[] DerivativeFields { get; }
    /// <summary>Their worst relative errors (same order as <see cref="DerivativeFields"/>).</summary>
    public double[] DerivativeErrors { get; }
    /// <summary>||grad L_pre(w*)|| (closed form) or the norm of the Monte Carlo mean score.</summary>
    public double GradientNorm { get; }
    /// <summary>The threshold the gradient norm passed.</summary>
    public double GradientThreshold { get; }
    /// <summary>Monte Carlo standard error of the gradient norm (NaN for closed-form moments).</summary>
    public double GradientStandardError { get; }
    /// <summary>Eigenvalues of the horizontal Hessian at w*, descending.</summary>
    public double[] HessianEigenvalues { get; }
    /// <summary>Jackknife standard error of the smallest eigenvalue (NaN for closed-form moments).</summary>
    public double SmallestEigenvalueStandardError { get; }
}

/// <summary>Settings of the Monte Carlo law (defaults: seed 1, 20 batches, 20000 samples, 95% intervals,
/// validation on).</summary>
public sealed class MonteCarloLawSettings
{
    /// <summary>Seed of the pre-training Monte Carlo.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Batches of the jackknife (at least 2).</summary>
    public int Batches { get; init; } = 20;
    /// <summary>Pre-training samples (the initial sample when a target is set).</summary>
    public int Samples { get; init; } = 20000;
    /// <summary>Grow the sample until the relative standard error of E||L(Z)||^2 is at most this (null: fixed size).</summary>
    public double? TargetRelativeError { get; init; }
    /// <summary>Cap of the sequential sample.</summary>
    public int MaxSamples { get; init; } = 1_000_000;
    /// <summary>Confidence level of the intervals.</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>alpha = m / n for the quantiles of E_alpha (null: no quantiles).</summary>
    public double? Alpha { get; init; }
    /// <summary>Probabilities of the quantiles of E_alpha.</summary>
    public double[] Probabilities { get; init; } = [0.5, 0.9, 0.95, 0.99];
    /// <summary>Validate the specification first (shapes, symmetry, derivatives, critical point, Hessian).</summary>
    public bool Validate { get; init; } = true;
}

/// <summary>The limit law of a model by Monte Carlo, every number with error bars.</summary>
public sealed class MonteCarloLawResult
{
    internal MonteCarloLawResult(FAsy.MonteCarloLaw r)
    {
        Summary = new AsymptoticResult(r.Summary);
        Samples = r.Samples;
        Batches = r.Batches;
        Weights = r.Weights.Select(e => new Estimate(e)).ToArray();
        PretrainMean = new Estimate(r.PretrainMean);
        Alpha0 = r.Alpha0 is null ? null : new Estimate(r.Alpha0.Value);
        QuantileProbabilities = r.Quantiles.Select(q => q.Probability).ToArray();
        Quantiles = r.Quantiles.Select(q => new Estimate(q.Estimate)).ToArray();
        Validation = r.Validation is null ? null : new ValidationReport(r.Validation.Value);
    }
    /// <summary>The pooled point estimates.</summary>
    public AsymptoticResult Summary { get; }
    /// <summary>Pre-training samples used.</summary>
    public int Samples { get; }
    /// <summary>Batches of the jackknife.</summary>
    public int Batches { get; }
    /// <summary>The chi-square weights lambda_j, descending.</summary>
    public Estimate[] Weights { get; }
    /// <summary>E||L(Z)||^2.</summary>
    public Estimate PretrainMean { get; }
    /// <summary>The crossover alpha0, or null when undefined.</summary>
    public Estimate? Alpha0 { get; }
    /// <summary>Probabilities of <see cref="Quantiles"/>.</summary>
    public double[] QuantileProbabilities { get; }
    /// <summary>Quantiles of E_alpha (empty unless Alpha was set).</summary>
    public Estimate[] Quantiles { get; }
    /// <summary>The validation report (null when validation was off).</summary>
    public ValidationReport? Validation { get; }
}

/// <summary>The exact limit law of a model with closed-form population moments.</summary>
public sealed class ExactLawResult
{
    internal ExactLawResult(FAsy.ExactLaw r)
    {
        Summary = new AsymptoticResult(r.Summary);
        Validation = r.Validation is null ? null : new ValidationReport(r.Validation.Value);
    }
    /// <summary>The horizontal route's result.</summary>
    public AsymptoticResult Summary { get; }
    /// <summary>The validation report (null when validation was off).</summary>
    public ValidationReport? Validation { get; }
}

/// <summary>Conversion of the settings to the core's options.</summary>
internal static class SpecLawOptions
{
    internal static FEst.ValidationOptions Validation(bool validate) =>
        new(validate, FEst.Validation.defaultOptions.Seed, FEst.Validation.defaultOptions.SymmetryTrials,
            FEst.Validation.defaultOptions.SymmetryTolerance, FEst.Validation.defaultOptions.DerivativeTrials,
            FEst.Validation.defaultOptions.DerivativeTolerance, FEst.Validation.defaultOptions.CriticalTolerance,
            FEst.Validation.defaultOptions.StandardErrors);

    internal static FAsy.MonteCarloLawOptions MonteCarlo(MonteCarloLawSettings s, IProgress<ComputationProgress>? progress, CancellationToken cancellationToken) =>
        new(s.Seed, s.Batches, s.Samples,
            s.TargetRelativeError is { } t ? Microsoft.FSharp.Core.FSharpOption<double>.Some(t) : Microsoft.FSharp.Core.FSharpOption<double>.None,
            s.MaxSamples, s.Confidence,
            s.Alpha is { } a ? Microsoft.FSharp.Core.FSharpOption<double>.Some(a) : Microsoft.FSharp.Core.FSharpOption<double>.None,
            (double[])(s.Probabilities ?? throw new InvalidArgumentException("Probabilities", "must not be null", null)).Clone(),
            Validation(s.Validate), cancellationToken, ProgressRelay<CoreProgress>.Of(progress));
}
