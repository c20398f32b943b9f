using Microsoft.FSharp.Core;
using MathNet.Numerics.LinearAlgebra;
using FLaws = FunctionalAsymptotics.Groups.Laws;
using FLawOptions = FunctionalAsymptotics.Groups.LawOptions;
using FLawReport = FunctionalAsymptotics.Groups.LawReport;

namespace FunctionalAsymptotics.CSharp.Geometry;

/// <summary>
/// Symmetry laws as checks for users' own models (paper Section 4, Appendix E): each returns the worst violation
/// found over seeded random trials, with the input that caused it.
/// </summary>
public static class Laws
{
    private static FLawOptions Options(int trials, int seed, double tolerance) => new(trials, seed, tolerance);

    private static FSharpFunc<Random, Matrix<double>> Points(Func<Random, double[,]> randomPoint)
    {
        ArgumentNullException.ThrowIfNull(randomPoint);
        return FuncConvert.FromFunc<Random, Matrix<double>>(r => Convert.ToMatrix(randomPoint(r), "randomPoint(rng)"));
    }

    private static FSharpFunc<Random, double[]> Samples(Func<Random, double[]> randomSample)
    {
        ArgumentNullException.ThrowIfNull(randomSample);
        return FuncConvert.FromFunc<Random, double[]>(r => Convert.NotNull(randomSample(r), "randomSample(rng)"));
    }

    private static FSharpFunc<Matrix<double>, FSharpFunc<double[], double[]>> Features(Func<double[,], double[], double[]> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        return FuncConvert.FromFunc<Matrix<double>, double[], double[]>((w, x) => Convert.NotNull(features(w.ToArray(), x), "features(w, x)"));
    }

    /// <summary>Loss invariance l(g.w; z) = l(w; z). Violation |l(g.w;z) - l(w;z)| / max(1, |l(w;z)|).</summary>
    public static LawCheckResult CheckInvariance(GroupAction action, Func<double[,], double[], double> loss,
        Func<Random, double[,]> randomPoint, Func<Random, double[]> randomSample, int trials = 200, int seed = 1, double tolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(loss);
        var l = FuncConvert.FromFunc<Matrix<double>, double[], double>((w, z) => loss(w.ToArray(), z));
        return new(FLaws.checkInvariance(Options(trials, seed, tolerance), action.Core, l, Points(randomPoint), Samples(randomSample)));
    }

    /// <summary>Feature equivariance psi(x, g.w) = rho(g) psi(x, w), with rho(g) orthogonal.</summary>
    public static LawCheckResult CheckEquivariance(GroupAction action, Func<double[,], double[], double[]> features,
        Func<Random, double[,]> randomPoint, Func<Random, double[]> randomSample, int trials = 200, int seed = 1, double tolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(action);
        return new(FLaws.checkEquivariance(Options(trials, seed, tolerance), action.Core, Features(features), Points(randomPoint), Samples(randomSample)));
    }

    /// <summary>rho is a homomorphism into orthogonal matrices and the action is a left action.</summary>
    public static LawCheckResult CheckHomomorphism(GroupAction action, Func<Random, double[,]> randomPoint,
        int trials = 200, int seed = 1, double tolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(action);
        return new(FLaws.checkHomomorphism(Options(trials, seed, tolerance), action.Core, Points(randomPoint)));
    }

    /// <summary>Descriptor orbit-constancy and local separation (dD injective on the horizontal space).</summary>
    public static LawCheckResult CheckDescriptor(GroupAction action, Descriptor descriptor, Func<Random, double[,]> randomPoint,
        double separationTolerance = 1e-6, int trials = 200, int seed = 1, double tolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(descriptor);
        return new(FLaws.checkDescriptor(Options(trials, seed, tolerance), separationTolerance, action.Core, descriptor.Core, Points(randomPoint)));
    }

    /// <summary>The section property D(s(Omega)) = Omega at Omega = D(w) for random w (drawn near the reference).</summary>
    public static LawCheckResult CheckSection(Descriptor descriptor, Func<Random, double[,]> randomPoint,
        int trials = 200, int seed = 1, double tolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return new(FLaws.checkSection(Options(trials, seed, tolerance), descriptor.Core, Points(randomPoint)));
    }

    /// <summary>Lemma 4.1: the min-norm OLS predictor on features psi(., w) is the same for every representative g.w.</summary>
    public static LawCheckResult CheckOrbitInvariantPredictor(GroupAction action, Func<double[,], double[], double[]> features,
        Func<Random, double[,]> randomPoint, Func<Random, double[]> randomSample, int designSize = 20, int testSize = 10,
        int trials = 100, int seed = 1, double tolerance = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(action);
        return new(FLaws.checkOrbitInvariantPredictor(Options(trials, seed, tolerance), designSize, testSize, action.Core,
            Features(features), Points(randomPoint), Samples(randomSample)));
    }
}

/// <summary>The worst violation of a law over seeded random trials, with the input that caused it.</summary>
public sealed class LawCheckResult
{
    internal LawCheckResult(FLawReport r)
    {
        Law = r.Law;
        Trials = r.Trials;
        Tolerance = r.Tolerance;
        WorstViolation = r.WorstViolation;
        Passed = r.Passed;
        WorstPoint = r.WorstPoint.ToArray();
        WorstElement = r.WorstElement.ToArray();
        WorstSample = (double[])r.WorstSample.Clone();
    }

    /// <summary>The law, in words.</summary>
    public string Law { get; }
    /// <summary>Number of trials.</summary>
    public int Trials { get; }
    /// <summary>The tolerance.</summary>
    public double Tolerance { get; }
    /// <summary>The worst (relative) violation found.</summary>
    public double WorstViolation { get; }
    /// <summary>WorstViolation &lt;= Tolerance.</summary>
    public bool Passed { get; }
    /// <summary>The parameter point of the worst trial.</summary>
    public double[,] WorstPoint { get; }
    /// <summary>The group element of the worst trial (0 x 0 when the law has none).</summary>
    public double[,] WorstElement { get; }
    /// <summary>The sample of the worst trial (empty when the law has none).</summary>
    public double[] WorstSample { get; }
}
