using Microsoft.FSharp.Core;
using MathNet.Numerics.LinearAlgebra;
using FunctionalAsymptotics.CSharp.Estimation;
using FPred = FunctionalAsymptotics.Prediction;

namespace FunctionalAsymptotics.CSharp.Prediction;

/// <summary>An estimate with its bootstrap standard error and percentile interval (NaN without a bootstrap).</summary>
public sealed record PredictionInterval(double Estimate, double StdErr, double Lower, double Upper)
{
    internal static PredictionInterval Of(FPred.BootstrapInterval i) => new(i.Estimate, i.StdErr, i.Lower, i.Upper);
}

/// <summary>One point of the predicted curve of <c>n(R - sigma^2)</c> against <c>alpha = m/n</c> at the requested
/// <c>n</c>: the predictive law's mean, 5% and 95% quantiles (finite-<c>n</c> variance factor and estimation error,
/// docs/predict.md), the limit law's mean, 5% and 95% quantiles at the estimate (<c>LawMean</c>, <c>LawQ05</c>,
/// <c>LawQ95</c>), and the bootstrap interval of <c>LawMean</c> (<c>MeanLower</c>, <c>MeanUpper</c>).</summary>
public sealed record RiskCurvePoint(double Alpha, double Mean, double Q05, double Q95, double LawMean, double LawQ05, double LawQ95, double MeanLower, double MeanUpper);

/// <summary>The predictive law of <c>n(R - sigma^2)</c> at the requested <c>n</c> and <c>m</c> (docs/predict.md):
/// Monte Carlo mean, median and 5%/95% quantiles over <c>Draws</c> seeded draws.</summary>
public sealed record PredictiveBand(double Mean, double Q05, double Q50, double Q95, int Draws)
{
    internal static PredictiveBand Of(FPred.PredictiveSummary s) => new(s.Mean, s.Q05, s.Q50, s.Q95, s.Draws);
}

/// <summary>
/// The prediction from data (docs/predict.md): the estimated limit law of <c>n(R - sigma^2)</c> (Theorem 5.1) at
/// the requested <c>n</c> and <c>m</c>, with bootstrap intervals, the predictive law (finite-<c>n</c> variance
/// factor and estimation error), the crossover <c>alpha0</c> and the unlabelled
/// sample size <c>M0 = alpha0 n</c> at which pre-training pays off on average.
/// </summary>
public sealed class RiskPredictionResult
{
    internal RiskPredictionResult(FPred.RiskPrediction p)
    {
        Model = p.Model; N = p.N; M = p.M; Alpha = p.Alpha; DEff = p.DEff; DBase = p.DBase;
        UnlabelledRows = p.UnlabelledRows; LabelledRows = p.LabelledRows;
        Weights = (double[])p.Weights.Clone(); Theta = (double[])p.Theta.Clone();
        Sigma2 = PredictionInterval.Of(p.Sigma2); PretrainMean = PredictionInterval.Of(p.PretrainMean);
        Alpha0 = PredictionInterval.Of(p.Alpha0); UnlabelledToPayOff = PredictionInterval.Of(p.UnlabelledToPayOff);
        Baseline = PredictionInterval.Of(p.Baseline); Mean = PredictionInterval.Of(p.Mean);
        Q05 = PredictionInterval.Of(p.Q05); Q50 = PredictionInterval.Of(p.Q50); Q95 = PredictionInterval.Of(p.Q95);
        Predictive = PredictiveBand.Of(p.Predictive);
        RiskCurve = Array.ConvertAll(p.RiskCurve, c => new RiskCurvePoint(c.Alpha, c.Mean, c.Q05, c.Q95, c.LawMean, c.LawQ05, c.LawQ95, c.MeanLower, c.MeanUpper));
        Bootstrap = p.Bootstrap; BootstrapFailures = (string[])p.BootstrapFailures.Clone(); Seed = p.Seed; Level = p.Level;
    }

    /// <summary>The model's name.</summary>
    public string Model { get; }
    /// <summary>The downstream sample size predicted for.</summary>
    public int N { get; }
    /// <summary>The pre-training sample size predicted for.</summary>
    public int M { get; }
    /// <summary><c>alpha = m / n</c>.</summary>
    public double Alpha { get; }
    /// <summary><c>d_eff</c> at the estimate.</summary>
    public int DEff { get; }
    /// <summary><c>d_base</c> at the estimate.</summary>
    public int DBase { get; }
    /// <summary>Rows of the unlabelled data.</summary>
    public int UnlabelledRows { get; }
    /// <summary>Rows of the labelled data.</summary>
    public int LabelledRows { get; }
    /// <summary>The estimated chi-square weights of <c>||L(Z)||^2</c>, descending.</summary>
    public double[] Weights { get; }
    /// <summary>The fitted downstream coefficients.</summary>
    public double[] Theta { get; }
    /// <summary><c>sigma^2</c>.</summary>
    public PredictionInterval Sigma2 { get; }
    /// <summary><c>E||L(Z)||^2</c>.</summary>
    public PredictionInterval PretrainMean { get; }
    /// <summary><c>alpha0</c> (+infinity when <c>d_base &lt;= d_eff</c>).</summary>
    public PredictionInterval Alpha0 { get; }
    /// <summary><c>m0 = alpha0 n</c>.</summary>
    public PredictionInterval UnlabelledToPayOff { get; }
    /// <summary>The downstream-only baseline <c>sigma^2 d_base</c>.</summary>
    public PredictionInterval Baseline { get; }
    /// <summary>The mean of the limit law of <c>n(R - sigma^2)</c> at the estimate, at <see cref="Alpha"/>.</summary>
    public PredictionInterval Mean { get; }
    /// <summary>Its 5% quantile.</summary>
    public PredictionInterval Q05 { get; }
    /// <summary>Its median.</summary>
    public PredictionInterval Q50 { get; }
    /// <summary>Its 95% quantile.</summary>
    public PredictionInterval Q95 { get; }
    /// <summary>The predictive law of <c>n(R - sigma^2)</c> at <see cref="N"/> and <see cref="M"/>: the band to
    /// expect one run's realised risk in.</summary>
    public PredictiveBand Predictive { get; }
    /// <summary>The predicted risk curve.</summary>
    public RiskCurvePoint[] RiskCurve { get; }
    /// <summary>Bootstrap replicates asked for.</summary>
    public int Bootstrap { get; }
    /// <summary>Replicates on which the estimator failed, with the reason.</summary>
    public string[] BootstrapFailures { get; }
    /// <summary>The bootstrap seed.</summary>
    public ulong Seed { get; }
    /// <summary>The confidence level.</summary>
    public double Level { get; }
}

/// <summary>Settings of a prediction: the sizes to predict for (default: the data's row counts), bootstrap
/// replicates, seed, confidence level, threads (results do not depend on them) and curve points.</summary>
public sealed record PredictionOptions
{
    /// <summary>The downstream sample size <c>n</c> (null: the labelled rows).</summary>
    public int? N { get; init; }
    /// <summary>The pre-training sample size <c>m</c> (null: the unlabelled rows).</summary>
    public int? M { get; init; }
    /// <summary>Bootstrap replicates (0 for none, else at least 2).</summary>
    public int Bootstrap { get; init; } = 200;
    /// <summary>The bootstrap seed.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>The confidence level of the intervals.</summary>
    public double Level { get; init; } = 0.95;
    /// <summary>Bootstrap worker threads (0: all cores).</summary>
    public int Threads { get; init; }
    /// <summary>Points of the risk curve.</summary>
    public int CurvePoints { get; init; } = 41;
    /// <summary>Monte Carlo draws of the predictive law (seeded by <see cref="Seed"/>).</summary>
    public int PredictiveDraws { get; init; } = FPred.PredictiveLaw.DefaultDraws;

    internal FPred.PredictionSettings ToCore() =>
        new(N is int n ? FSharpOption<int>.Some(n) : FSharpOption<int>.None,
            M is int m ? FSharpOption<int>.Some(m) : FSharpOption<int>.None,
            Bootstrap, Seed, Level, Threads, CurvePoints, PredictiveDraws);
}

/// <summary>
/// Predicts the downstream risk of pre-training then fine-tuning from a user's data sets (docs/predict.md): the
/// plug-in estimate of the limit law of Theorem 5.1 with bootstrap uncertainty over both data sets. Invalid
/// input raises <see cref="InvalidArgumentException"/> (data-file problems: <c>DataFileException</c> and its
/// subtypes naming the file, row and column).
/// </summary>
public static class RiskPredictor
{
    /// <summary>The factor model with <paramref name="k"/> factors from two files (.csv or .parquet): every
    /// column of the unlabelled file is a feature; the labelled file has the same features and a <c>y</c> column.</summary>
    public static RiskPredictionResult PredictFactorFromFiles(string unlabelledPath, string labelledPath, int k, PredictionOptions? options = null) =>
        new(FPred.RiskPredictionModule.factorFromFiles(k, (options ?? new PredictionOptions()).ToCore(), unlabelledPath, labelledPath));

    /// <summary>The factor model from in-memory data: <paramref name="unlabelled"/> is m x d, <paramref name="labelled"/>
    /// n x d (same feature order), <paramref name="labels"/> length n.</summary>
    public static RiskPredictionResult PredictFactor(double[,] unlabelled, double[,] labelled, double[] labels, int k, PredictionOptions? options = null) =>
        new(FPred.RiskPredictionModule.factor(k, (options ?? new PredictionOptions()).ToCore(), Data(unlabelled, labelled, labels, k + 2)));

    /// <summary>The Gaussian mixture with subspace-gated features (paper Section 6.3) with <paramref name="components"/>
    /// components from two files (.csv or .parquet): EM on the unlabelled rows, the empirical sandwich at the fitted
    /// centres, least squares on the gated features of the labelled rows; bootstrap replicates refit EM from the
    /// fitted centres. Fits the data do not identify raise <c>MixtureAssumptionException</c>; EM failures
    /// <see cref="ConvergenceException"/> or <c>DegenerateMixtureException</c>.</summary>
    public static RiskPredictionResult PredictGmmFromFiles(string unlabelledPath, string labelledPath, int components, PredictionOptions? options = null) =>
        new(FPred.RiskPredictionModule.gmmFromFiles(components, (options ?? new PredictionOptions()).ToCore(), unlabelledPath, labelledPath));

    /// <summary>The Gaussian mixture from in-memory data: <paramref name="unlabelled"/> is m x d, <paramref name="labelled"/>
    /// n x d (same feature order), <paramref name="labels"/> length n.</summary>
    /// <remarks><paramref name="components"/> below 2 raises <see cref="InvalidArgumentException"/> (argument <c>K</c>).</remarks>
    public static RiskPredictionResult PredictGmm(double[,] unlabelled, double[,] labelled, double[] labels, int components, PredictionOptions? options = null) =>
        new(FPred.RiskPredictionModule.gmm(components, (options ?? new PredictionOptions()).ToCore(), Data(unlabelled, labelled, labels, Math.Max(2, components * components + 1))));

    /// <summary>
    /// A user's model (<see cref="ModelSpecification"/>, whose samples are data rows): <paramref name="fit"/>
    /// returns an empirical minimiser <c>w_hat</c> of the pre-training loss over the given rows; the sandwich is
    /// the empirical one at <c>w_hat</c> (<c>Sandwich.plugIn</c>), <c>theta</c> and <c>sigma^2</c> come from least
    /// squares on the labelled rows at the fitted features, and the downstream moments from the labelled rows.
    /// </summary>
    public static RiskPredictionResult PredictUserModel(ModelSpecification model, Func<double[][], double[,]> fit,
        double[,] unlabelled, double[,] labelled, double[] labels, PredictionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(fit);
        var coreFit = FSharpFunc<double[][], Matrix<double>>.FromConverter(rows => Matrix<double>.Build.DenseOfArray(fit(rows)));
        var data = Data(unlabelled, labelled, labels, 1);
        return new(FPred.RiskPredictionModule.userModel(model.Core, coreFit, (options ?? new PredictionOptions()).ToCore(), data));
    }

    private static FPred.PredictionData Data(double[,] unlabelled, double[,] labelled, double[] labels, int minRows)
    {
        ArgumentNullException.ThrowIfNull(unlabelled);
        ArgumentNullException.ThrowIfNull(labelled);
        ArgumentNullException.ThrowIfNull(labels);
        int d = unlabelled.GetLength(1);
        if (labelled.GetLength(1) != d)
            throw new DimensionMismatchException("labelled", $"{d} columns (as unlabelled)", $"{labelled.GetLength(1)} columns");
        if (labels.Length != labelled.GetLength(0))
            throw new DimensionMismatchException("labels", $"length {labelled.GetLength(0)} (rows of labelled)", $"length {labels.Length}");
        var columns = Enumerable.Range(1, d).Select(j => $"x{j}").ToArray();
        var u = FPred.DataFile.ofArray("unlabelled", columns, RowMajor(unlabelled, null));
        var l = FPred.DataFile.ofArray("labelled", columns.Append(FPred.DataFile.LabelColumn).ToArray(), RowMajor(labelled, labels));
        return FPred.DataFile.pair(minRows, u, l);
    }

    private static double[] RowMajor(double[,] a, double[]? extra)
    {
        int rows = a.GetLength(0), cols = a.GetLength(1), w = cols + (extra is null ? 0 : 1);
        var v = new double[rows * w];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) v[i * w + j] = a[i, j];
            if (extra is not null) v[i * w + cols] = extra[i];
        }
        return v;
    }
}
