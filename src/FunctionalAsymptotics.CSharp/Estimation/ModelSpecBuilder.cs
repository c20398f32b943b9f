using Microsoft.FSharp.Core;
using MathNet.Numerics.LinearAlgebra;
using FunctionalAsymptotics.CSharp.Geometry;
using FEst = FunctionalAsymptotics.Estimation;
using FAsy = FunctionalAsymptotics.Asymptotics;
using FModels = FunctionalAsymptotics.Models;
using Conv = FunctionalAsymptotics.CSharp.Geometry.Convert;

namespace FunctionalAsymptotics.CSharp.Estimation;

/// <summary>
/// Builds a model specification: the pre-training per-sample loss (with optional analytic
/// gradient and Hessian-vector product; finite differences with Richardson extrapolation otherwise), the
/// symmetry, a linear representation psi(x, w) = W(w) x under a Gaussian downstream design, theta* and sigma^2.
/// Samples z and features x are <c>double[]</c>; parameters w are <c>double[,]</c>.
/// </summary>
public sealed class ModelSpecBuilder
{
    private readonly string _name;
    private readonly GroupAction _action;
    private readonly double[,] _wStar;
    private Func<double[,], double[], double>? _loss;
    private Func<double[,], double[], double[,]>? _gradient;
    private Func<double[,], double[], double[,], double[,]>? _hessianVector;
    private Func<Random, double[]>? _sampler;
    private FEst.PopulationMoments? _population;
    private FEst.Representation? _representation;
    private double[]? _thetaStar;
    private double _sigma2 = double.NaN;

    /// <summary>Starts a specification with a name, the group action and a representative minimiser w*.</summary>
    public ModelSpecBuilder(string name, GroupAction action, double[,] wStar)
    {
        _name = Conv.NotNull(name, nameof(name));
        _action = Conv.NotNull(action, nameof(action));
        _wStar = Conv.NotNull(wStar, nameof(wStar));
    }

    /// <summary>The per-sample pre-training loss l(w; z) and a seeded sampler of z.</summary>
    public ModelSpecBuilder WithLoss(Func<double[,], double[], double> loss, Func<Random, double[]> sampler)
    {
        _loss = Conv.NotNull(loss, nameof(loss));
        _sampler = Conv.NotNull(sampler, nameof(sampler));
        return this;
    }

    /// <summary>The analytic per-sample gradient (optional).</summary>
    public ModelSpecBuilder WithGradient(Func<double[,], double[], double[,]> gradient)
    {
        _gradient = Conv.NotNull(gradient, nameof(gradient));
        return this;
    }

    /// <summary>The analytic per-sample Hessian-vector product (w, z, v) -> Hess l(w; z)[v] (optional).</summary>
    public ModelSpecBuilder WithHessianVector(Func<double[,], double[], double[,], double[,]> hessianVector)
    {
        _hessianVector = Conv.NotNull(hessianVector, nameof(hessianVector));
        return this;
    }

    /// <summary>Closed-form population moments: gradient, Hessian-vector product, and the score covariance
    /// B^T E[grad l grad l^T] B for given orthonormal directions B (optional; needed for the closed-form sandwich).</summary>
    public ModelSpecBuilder WithPopulationMoments(
        Func<double[,], double[,]> gradient,
        Func<double[,], double[,], double[,]> hessianVector,
        Func<double[,], double[][,], double[,]> scoreCovariance)
    {
        Conv.NotNull(gradient, nameof(gradient));
        Conv.NotNull(hessianVector, nameof(hessianVector));
        Conv.NotNull(scoreCovariance, nameof(scoreCovariance));
        _population = new FEst.PopulationMoments(
            FuncConvert.FromFunc<Matrix<double>, Matrix<double>>(w => Matrix<double>.Build.DenseOfArray(gradient(w.ToArray()))),
            FuncConvert.FromFunc<Matrix<double>, Matrix<double>, Matrix<double>>((w, v) => Matrix<double>.Build.DenseOfArray(hessianVector(w.ToArray(), v.ToArray()))),
            FuncConvert.FromFunc<Matrix<double>, Matrix<double>[], Matrix<double>>((w, b) => Matrix<double>.Build.DenseOfArray(scoreCovariance(w.ToArray(), Conv.ToArrays(b)))));
        return this;
    }

    /// <summary>The representation psi(x, w) = W(w) x, its differential dW(w)[dw], and the downstream
    /// covariance Sigma_down (x ~ N(0, Sigma_down)).</summary>
    public ModelSpecBuilder WithLinearRepresentation(Func<double[,], double[,]> featureMatrix, Func<double[,], double[,], double[,]> differential, double[,] downstreamCovariance)
    {
        Conv.NotNull(featureMatrix, nameof(featureMatrix));
        Conv.NotNull(differential, nameof(differential));
        _representation = FEst.Representation.NewLinearGaussian(new FEst.LinearGaussianRepresentation(
            FuncConvert.FromFunc<Matrix<double>, Matrix<double>>(w => Matrix<double>.Build.DenseOfArray(featureMatrix(w.ToArray()))),
            FuncConvert.FromFunc<Matrix<double>, Matrix<double>, Matrix<double>>((w, dw) => Matrix<double>.Build.DenseOfArray(differential(w.ToArray(), dw.ToArray()))),
            Conv.ToMatrix(downstreamCovariance, nameof(downstreamCovariance))));
        return this;
    }

    /// <summary>A general representation psi(x, w) with its differential dpsi(x, w)[dw]; the L2 moments are
    /// estimated by a seeded Monte Carlo of <paramref name="count"/> draws x ~ mu_down.</summary>
    public ModelSpecBuilder WithSampledRepresentation(Func<double[,], double[], double[]> features, Func<double[,], double[], double[,], double[]> differential, Func<Random, double[]> sampler, int count, int seed)
    {
        Conv.NotNull(features, nameof(features));
        Conv.NotNull(differential, nameof(differential));
        Conv.NotNull(sampler, nameof(sampler));
        _representation = FEst.Representation.NewSampled(new FEst.SampledRepresentation(
            FuncConvert.FromFunc<Matrix<double>, double[], double[]>((w, x) => features(w.ToArray(), x)),
            FuncConvert.FromFunc<Matrix<double>, double[], Matrix<double>, double[]>((w, x, dw) => differential(w.ToArray(), x, dw.ToArray())),
            FuncConvert.FromFunc<Random, double[]>(rng => sampler(rng)),
            count, seed));
        return this;
    }

    /// <summary>General features psi(x, w) without their differential: dpsi(x, w)[dw] is computed by the library
    /// (Richardson differences of <paramref name="features"/>); the L2 moments are estimated by a seeded Monte Carlo
    /// of <paramref name="count"/> draws x ~ mu_down.</summary>
    public ModelSpecBuilder WithFeatures(Func<double[,], double[], double[]> features, Func<Random, double[]> sampler, int count, int seed)
    {
        Conv.NotNull(features, nameof(features));
        Conv.NotNull(sampler, nameof(sampler));
        var psi = FuncConvert.FromFunc<Matrix<double>, double[], double[]>((w, x) => features(w.ToArray(), x));
        _representation = FEst.Representation.NewSampled(new FEst.SampledRepresentation(
            psi, FuncConvert.FromFunc<Matrix<double>, double[], Matrix<double>, double[]>((w, x, dw) => FEst.Derivatives.featureDifferential(psi, w, x, dw)), FuncConvert.FromFunc<Random, double[]>(rng => sampler(rng)), count, seed));
        return this;
    }

    /// <summary>The target f* = &lt;theta*, psi(., w*)&gt; and the noise variance sigma^2.</summary>
    public ModelSpecBuilder WithTarget(double[] thetaStar, double sigma2)
    {
        _thetaStar = (double[])Conv.NotNull(thetaStar, nameof(thetaStar)).Clone();
        _sigma2 = sigma2;
        return this;
    }

    /// <summary>Builds the specification; throws <see cref="InvalidArgumentException"/> when a required part is missing.</summary>
    public ModelSpecification Build()
    {
        var loss = _loss ?? throw new InvalidArgumentException("loss", "call WithLoss first", null);
        var sampler = _sampler ?? throw new InvalidArgumentException("sampler", "call WithLoss first", null);
        var repr = _representation ?? throw new InvalidArgumentException("representation", "call WithLinearRepresentation or WithSampledRepresentation first", null);
        var theta = _thetaStar ?? throw new InvalidArgumentException("thetaStar", "call WithTarget first", null);
        var grad = _gradient;
        var hv = _hessianVector;
        var pre = new FEst.PretrainingLoss<double[]>(
            FuncConvert.FromFunc<Matrix<double>, double[], double>((w, z) => loss(w.ToArray(), z)),
            grad is null
                ? FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<double[], Matrix<double>>>>.None
                : FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<double[], Matrix<double>>>>.Some(
                    FuncConvert.FromFunc<Matrix<double>, double[], Matrix<double>>((w, z) => Matrix<double>.Build.DenseOfArray(grad(w.ToArray(), z)))),
            hv is null
                ? FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<double[], FSharpFunc<Matrix<double>, Matrix<double>>>>>.None
                : FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<double[], FSharpFunc<Matrix<double>, Matrix<double>>>>>.Some(
                    FuncConvert.FromFunc<Matrix<double>, double[], Matrix<double>, Matrix<double>>((w, z, v) => Matrix<double>.Build.DenseOfArray(hv(w.ToArray(), z, v.ToArray())))),
            FuncConvert.FromFunc<Random, double[]>(rng => sampler(rng)));
        var population = _population is null ? FSharpOption<FEst.PopulationMoments>.None : FSharpOption<FEst.PopulationMoments>.Some(_population);
        var spec = new FEst.ModelSpec<double[]>(_name, _action.Core, Conv.ToMatrix(_wStar, "wStar"), pre, population, repr, theta, _sigma2);
        return new ModelSpecification(spec);
    }
}

/// <summary>The quantities of Theorem 5.1 computed by one route.</summary>
public sealed class AsymptoticResult
{
    internal AsymptoticResult(FAsy.AsymptoticSummary s)
    {
        Route = s.Route;
        DEff = s.DEff;
        DBase = s.DBase;
        Sigma2 = s.Sigma2;
        Weights = (double[])s.Weights.Clone();
        PretrainMean = FAsy.AsymptoticSummaryModule.pretrainMean(s);
        var a0 = FAsy.AsymptoticSummaryModule.alpha0(s);
        Alpha0 = a0 is null ? null : a0.Value;
    }
    /// <summary>The route ("horizontal", "descriptor", "closed", "paper").</summary>
    public string Route { get; }
    /// <summary>d_eff = rank Sigma(Omega*).</summary>
    public int DEff { get; }
    /// <summary>d_base (downstream-only baseline dimension).</summary>
    public int DBase { get; }
    /// <summary>sigma^2.</summary>
    public double Sigma2 { get; }
    /// <summary>The chi-square weights of ||L(Z)||^2 (non-zero, descending).</summary>
    public double[] Weights { get; }
    /// <summary>E||L(Z)||^2 = tr(V G).</summary>
    public double PretrainMean { get; }
    /// <summary>The crossover alpha0, or null when d_base &lt;= d_eff.</summary>
    public double? Alpha0 { get; }
}

/// <summary>A built model specification and the engine's entry points.</summary>
public sealed class ModelSpecification
{
    internal FEst.ModelSpec<double[]> Core { get; }
    internal ModelSpecification(FEst.ModelSpec<double[]> core) => Core = core;

    /// <summary>The spectral contrastive model of Section 6.1 (C = diag(1/i), beta* = 1).</summary>
    public static ModelSpecification Spectral(int d, int k, double sigma2) =>
        new(FModels.Spectral.spec(FModels.Spectral.defaultConfig(d, k, sigma2)));

    /// <summary>The factor model of Section 6.2 (loadings d x k, beta*, sigma_nu^2).</summary>
    public static ModelSpecification Factor(double[,] loadings, double[] betaStar, double sigmaNu2) =>
        new(FModels.Factor.spec(new FModels.FactorConfig(Conv.ToMatrix(loadings, nameof(loadings)), (double[])Conv.NotNull(betaStar, nameof(betaStar)).Clone(), sigmaNu2)));

    /// <summary>The horizontal-lift route with the closed-form population moments (matrix-free for linear features);
    /// stops with OperationCanceledException once <paramref name="cancellationToken"/> is cancelled.</summary>
    public AsymptoticResult Horizontal(CancellationToken cancellationToken = default) =>
        new(FAsy.TwoStage.horizontalCancellable(cancellationToken, FuncConvert.FromAction<string>(_ => { }), Core));

    /// <summary>The horizontal-lift route with a seeded Monte Carlo sandwich of <paramref name="count"/> samples.</summary>
    public AsymptoticResult HorizontalMonteCarlo(int seed, int count, int batches) =>
        new(FAsy.TwoStage.horizontalWith(FEst.SandwichModule.monteCarlo(seed, count, batches, Core), Core));

    /// <summary>The exact law with closed-form population moments, validated first unless <paramref name="validate"/>
    /// is false (shapes, symmetry laws, supplied derivatives, critical point, horizontal Hessian; each failure a
    /// typed exception naming the field).</summary>
    public ExactLawResult ExactLaw(bool validate = true) =>
        new(FAsy.SpecLaw.exact(SpecLawOptions.Validation(validate), Core));

    /// <summary>The law by seeded Monte Carlo with jackknife standard errors and confidence intervals for every weight,
    /// E||L(Z)||^2, alpha0 and the quantiles of E_alpha; validated first unless the settings switch it off. Reports the
    /// pre-training draws done to <paramref name="progress"/> and stops with OperationCanceledException when
    /// <paramref name="cancellationToken"/> is cancelled.</summary>
    public MonteCarloLawResult MonteCarloLaw(MonteCarloLawSettings? settings = null,
        IProgress<ComputationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new(FAsy.SpecLaw.monteCarlo(SpecLawOptions.MonteCarlo(settings ?? new MonteCarloLawSettings(), progress, cancellationToken), Core));

    /// <summary>The sandwich V_h = H_h^-1 Sigma_h H_h^-1 at w* (closed form); throws NotIdentifiableException for a singular H_h.</summary>
    public double[,] SandwichCovariance() => FEst.SandwichModule.population(Core).Covariance.ToArray();
}
