using Microsoft.FSharp.Core;
using MathNet.Numerics.LinearAlgebra;
using FManifold = FunctionalAsymptotics.Geometry.Manifold;
using FManifoldOps = FunctionalAsymptotics.Geometry.ManifoldModule;
using FChecks = FunctionalAsymptotics.Geometry.Checks;

namespace FunctionalAsymptotics.CSharp.Geometry;

/// <summary>
/// A Riemannian manifold embedded in a space of <c>AmbientRows x AmbientCols</c> matrices with the induced
/// Frobenius metric (paper Appendix D). Points and tangent vectors are <c>double[,]</c> of the ambient shape;
/// vectors of R^n are n x 1 arrays. Every method checks shapes and that points lie on the manifold
/// (typed errors: <see cref="OffManifoldException"/>, <see cref="DimensionMismatchException"/>,
/// <see cref="RankDeficientException"/>).
/// </summary>
public sealed class Manifold
{
    internal FManifold Core { get; }

    internal Manifold(FManifold core) => Core = core;

    /// <summary>Euclidean space R^{rows x cols}.</summary>
    public static Manifold Euclidean(int rows, int cols) => new(global::FunctionalAsymptotics.Geometry.Euclidean.create(rows, cols));

    /// <summary>The unit sphere S^{n-1} in R^n (points are n x 1).</summary>
    public static Manifold Sphere(int n) => new(global::FunctionalAsymptotics.Geometry.Sphere.create(n));

    /// <summary>The Stiefel manifold St(n, k) of n x k matrices with orthonormal columns.</summary>
    public static Manifold Stiefel(int n, int k) => new(global::FunctionalAsymptotics.Geometry.Stiefel.create(n, k));

    /// <summary>The Grassmannian Gr(n, k) as rank-k orthogonal projectors (n x n).</summary>
    public static Manifold Grassmann(int n, int k) => new(global::FunctionalAsymptotics.Geometry.Grassmann.create(n, k));

    /// <summary>Rank-k positive semi-definite d x d matrices (the descriptor manifold M_{d,k} of Section 6).</summary>
    public static Manifold FixedRankPsd(int d, int k) => new(global::FunctionalAsymptotics.Geometry.FixedRankPsd.create(d, k));

    /// <summary>The product of manifolds; points are stacked column-major vectorisations (a single column).</summary>
    public static Manifold Product(params Manifold[] factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        var cores = new FManifold[factors.Length];
        for (int i = 0; i < factors.Length; i++) cores[i] = Convert.NotNull(factors[i], nameof(factors)).Core;
        return new(global::FunctionalAsymptotics.Geometry.Product.create(cores));
    }

    /// <summary>A readable name, e.g. "FixedRankPsd(5,2)".</summary>
    public string Name => Core.Name;
    /// <summary>The manifold dimension.</summary>
    public int Dimension => Core.Dimension;
    /// <summary>Rows of the ambient shape.</summary>
    public int AmbientRows => Core.AmbientRows;
    /// <summary>Columns of the ambient shape.</summary>
    public int AmbientCols => Core.AmbientCols;
    /// <summary>Whether a closed-form exponential map exists.</summary>
    public bool HasExp => FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<Matrix<double>, Matrix<double>>>>.get_IsSome(Core.Exp);
    /// <summary>Whether a closed-form logarithm exists.</summary>
    public bool HasLog => FSharpOption<FSharpFunc<Matrix<double>, FSharpFunc<Matrix<double>, Matrix<double>>>>.get_IsSome(Core.Log);

    private static Matrix<double> M(double[,] a, string name) => Convert.ToMatrix(a, name);

    /// <summary>Throws <see cref="OffManifoldException"/> if <paramref name="x"/> is farther than
    /// <paramref name="tolerance"/> (relative to max(1, ||x||)) from the manifold.</summary>
    public void CheckPoint(double[,] x, double tolerance = 1e-8) => FManifoldOps.checkPointWith(tolerance, Core, "x", M(x, nameof(x)));

    /// <summary>Orthogonal projection of an ambient <paramref name="z"/> onto the tangent space at <paramref name="x"/>.</summary>
    public double[,] Project(double[,] x, double[,] z) => FManifoldOps.project(Core, M(x, nameof(x)), M(z, nameof(z))).ToArray();

    /// <summary>The metric &lt;u, v&gt; at x.</summary>
    public double Inner(double[,] x, double[,] u, double[,] v) => FManifoldOps.inner(Core, M(x, nameof(x)), M(u, nameof(u)), M(v, nameof(v)));

    /// <summary>The norm of v at x.</summary>
    public double Norm(double[,] x, double[,] v) => FManifoldOps.norm(Core, M(x, nameof(x)), M(v, nameof(v)));

    /// <summary>The exponential map (throws <see cref="InvalidArgumentException"/> when <see cref="HasExp"/> is false).</summary>
    public double[,] Exp(double[,] x, double[,] v) => FManifoldOps.exp(Core, M(x, nameof(x)), M(v, nameof(v))).ToArray();

    /// <summary>The logarithm map (throws <see cref="InvalidArgumentException"/> when <see cref="HasLog"/> is false).</summary>
    public double[,] Log(double[,] x, double[,] y) => FManifoldOps.log(Core, M(x, nameof(x)), M(y, nameof(y))).ToArray();

    /// <summary>The (second-order) retraction R_x(v).</summary>
    public double[,] Retract(double[,] x, double[,] v) => FManifoldOps.retract(Core, M(x, nameof(x)), M(v, nameof(v))).ToArray();

    /// <summary>The inverse retraction R_x^{-1}(y).</summary>
    public double[,] InverseRetract(double[,] x, double[,] y) => FManifoldOps.inverseRetract(Core, M(x, nameof(x)), M(y, nameof(y))).ToArray();

    /// <summary>Vector transport of v from T_x M to T_y M (by projection).</summary>
    public double[,] Transport(double[,] x, double[,] y, double[,] v) =>
        FManifoldOps.transport(Core, M(x, nameof(x)), M(y, nameof(y)), M(v, nameof(v))).ToArray();

    /// <summary>Riemannian gradient from the Euclidean gradient (projection onto the tangent space).</summary>
    public double[,] EgradToRgrad(double[,] x, double[,] egrad) => FManifoldOps.egradToRgrad(Core, M(x, nameof(x)), M(egrad, nameof(egrad))).ToArray();

    /// <summary>The Weingarten map W_x(v, n).</summary>
    public double[,] Weingarten(double[,] x, double[,] v, double[,] n) =>
        FManifoldOps.weingarten(Core, M(x, nameof(x)), M(v, nameof(v)), M(n, nameof(n))).ToArray();

    /// <summary>Riemannian Hessian-vector product: P_x(ehessV) + W_x(v, egrad).</summary>
    public double[,] EhessToRhess(double[,] x, double[,] egrad, double[,] ehessV, double[,] v) =>
        FManifoldOps.ehessToRhess(Core, M(x, nameof(x)), M(egrad, nameof(egrad)), M(ehessV, nameof(ehessV)), M(v, nameof(v))).ToArray();

    /// <summary>An orthonormal basis of T_x M (<see cref="Dimension"/> elements).</summary>
    public double[][,] TangentBasis(double[,] x) => Convert.ToArrays(FManifoldOps.tangentBasis(Core, M(x, nameof(x))));

    /// <summary>The Riemannian Hessian as a Dimension x Dimension matrix in <see cref="TangentBasis"/>, from the
    /// Euclidean gradient at x and the Euclidean Hessian-vector product at x.</summary>
    public double[,] HessianMatrix(double[,] x, double[,] egrad, Func<double[,], double[,]> ehess)
    {
        ArgumentNullException.ThrowIfNull(ehess);
        var f = FuncConvert.FromFunc<Matrix<double>, Matrix<double>>(v => M(ehess(v.ToArray()), "ehess(v)"));
        return FManifoldOps.hessianMatrix(Core, M(x, nameof(x)), M(egrad, nameof(egrad)), f).ToArray();
    }

    /// <summary>A random point, reproducible from <paramref name="seed"/>.</summary>
    public double[,] RandomPoint(int seed) => Core.RandomPoint.Invoke(new Random(seed)).ToArray();

    /// <summary>A random unit tangent vector at x, reproducible from <paramref name="seed"/>.</summary>
    public double[,] RandomTangent(double[,] x, int seed) => FManifoldOps.randomTangent(Core, new Random(seed), M(x, nameof(x))).ToArray();

    /// <summary>Manopt-style gradient check along tangent v at x: the remainder of the first-order Taylor model
    /// along the retraction must have slope 2 on a log-log plot. <paramref name="egrad"/> is the Euclidean gradient.</summary>
    public TaylorCheckResult CheckGradient(Func<double[,], double> cost, Func<double[,], double[,]> egrad, double[,] x, double[,] v)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(egrad);
        var c = FuncConvert.FromFunc<Matrix<double>, double>(p => cost(p.ToArray()));
        var rgrad = FuncConvert.FromFunc<Matrix<double>, Matrix<double>>(p => FManifoldOps.egradToRgrad(Core, p, M(egrad(p.ToArray()), "egrad(x)")));
        var r = FChecks.checkGradient(Core, c, rgrad, M(x, nameof(x)), M(v, nameof(v)));
        return new TaylorCheckResult(r);
    }

    /// <summary>Manopt-style Hessian check: the remainder of the second-order Taylor model must have slope 3.
    /// <paramref name="ehess"/> maps (x, v) to the Euclidean Hessian-vector product; the Weingarten term is added by the library.</summary>
    public TaylorCheckResult CheckHessian(Func<double[,], double> cost, Func<double[,], double[,]> egrad,
                                          Func<double[,], double[,], double[,]> ehess, double[,] x, double[,] v)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(egrad);
        ArgumentNullException.ThrowIfNull(ehess);
        var c = FuncConvert.FromFunc<Matrix<double>, double>(p => cost(p.ToArray()));
        var rgrad = FuncConvert.FromFunc<Matrix<double>, Matrix<double>>(p => FManifoldOps.egradToRgrad(Core, p, M(egrad(p.ToArray()), "egrad(x)")));
        var rhess = FuncConvert.FromFunc<Matrix<double>, Matrix<double>, Matrix<double>>((p, u) =>
            FManifoldOps.ehessToRhess(Core, p, M(egrad(p.ToArray()), "egrad(x)"), M(ehess(p.ToArray(), u.ToArray()), "ehess(x, v)"), u));
        var r = FChecks.checkHessian(Core, c, rgrad, rhess, M(x, nameof(x)), M(v, nameof(v)));
        return new TaylorCheckResult(r);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The outcome of a Taylor-slope derivative check.</summary>
public sealed class TaylorCheckResult
{
    internal TaylorCheckResult(global::FunctionalAsymptotics.Geometry.TaylorCheck r)
    {
        Kind = r.Kind;
        ExpectedSlope = r.ExpectedSlope;
        FittedSlope = r.FittedSlope;
        Exact = r.Exact;
        Passed = r.Passed;
        Steps = (double[])r.Steps.Clone();
        Errors = (double[])r.Errors.Clone();
        TangencyResidual = r.TangencyResidual;
    }

    /// <summary>"gradient" or "hessian".</summary>
    public string Kind { get; }
    /// <summary>2 for the gradient, 3 for the Hessian.</summary>
    public double ExpectedSlope { get; }
    /// <summary>The fitted log-log slope (NaN when <see cref="Exact"/>).</summary>
    public double FittedSlope { get; }
    /// <summary>True when all remainders are at rounding level.</summary>
    public bool Exact { get; }
    /// <summary>The verdict.</summary>
    public bool Passed { get; }
    /// <summary>The step sizes.</summary>
    public double[] Steps { get; }
    /// <summary>The Taylor remainders.</summary>
    public double[] Errors { get; }
    /// <summary>How far the checked derivative is from the tangent space (relative).</summary>
    public double TangencyResidual { get; }
}
