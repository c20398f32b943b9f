// Bring your own model from C# (docs/your-own-model.md): sign-symmetric rank-one PCA defined with delegates and
// .NET arrays. z ~ N(0, diag s), w is 1 x d, l(w; z) = ||w||^4 / 4 - (w z)^2 / 2, symmetric under w -> -w;
// features psi(x, w) = w x with x ~ N(0, I_d); target theta* psi(x, w*), noise variance sigma^2.
using FunctionalAsymptotics.CSharp.Estimation;
using FunctionalAsymptotics.CSharp.Geometry;

internal static class YourOwnModel
{
    private static readonly double[] S = [4.0, 2.0, 1.0];
    private static int D => S.Length;

    private static double Dot(double[,] w, double[] z)
    {
        double t = 0;
        for (int j = 0; j < D; j++) t += w[0, j] * z[j];
        return t;
    }

    private static double Norm2(double[,] w) => Dot(w, Enumerable.Range(0, D).Select(j => w[0, j]).ToArray());

    private static double Gaussian(Random rng) => Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2.0 * Math.PI * rng.NextDouble());

    private static double[,] Row(Func<int, double> f)
    {
        var r = new double[1, D];
        for (int j = 0; j < D; j++) r[0, j] = f(j);
        return r;
    }

    /// <summary>The minimal specification: loss, samplers, group, features and target; derivatives and moments by the library.</summary>
    private static ModelSpecBuilder Minimal() =>
        new ModelSpecBuilder("sign-symmetric rank-one PCA", GroupAction.OrthogonalLeft(1, D), Row(j => j == 0 ? Math.Sqrt(S[0]) : 0.0))
            .WithLoss((w, z) => { var n2 = Norm2(w); var wz = Dot(w, z); return n2 * n2 / 4.0 - wz * wz / 2.0; },
                      rng => S.Select(v => Math.Sqrt(v) * Gaussian(rng)).ToArray())
            .WithFeatures((w, x) => [Dot(w, x)], rng => Enumerable.Range(0, D).Select(_ => Gaussian(rng)).ToArray(), count: 4000, seed: 2)
            .WithTarget([1.0], 1.0);

    public static void Run()
    {
        Console.WriteLine();
        Console.WriteLine("Your own model (sign-symmetric rank-one PCA), Monte Carlo from the loss alone:");
        var mc = Minimal().Build().MonteCarloLaw(new MonteCarloLawSettings { Samples = 4000, Alpha = 2.0, Probabilities = [0.5, 0.95] });
        for (int j = 0; j < mc.Weights.Length; j++) Console.WriteLine($"  {"weight lambda_" + (j + 1),-24}{mc.Weights[j]}");
        Console.WriteLine($"  E||L(Z)||^2             {mc.PretrainMean}");
        Console.WriteLine($"  alpha0                  {mc.Alpha0}");
        for (int i = 0; i < mc.Quantiles.Length; i++) Console.WriteLine($"  {$"quantile {mc.QuantileProbabilities[i]:0.00} (alpha 2)",-24}{mc.Quantiles[i]}");
        var v = mc.Validation!;
        Console.WriteLine($"  validation: ||mean score|| {v.GradientNorm:G3} <= {v.GradientThreshold:G3}; Hessian eigenvalues {string.Join(", ", v.HessianEigenvalues.Select(x => x.ToString("G4")))}");

        // Exact: add closed-form population moments. The per-sample score along a direction b is the polynomial
        // ||w||^2 <b, w> - xi^T Q_b xi in xi ~ N(0, I) (z = S^1/2 xi, Q_b = sym(S^1/2 w^T b S^1/2)), so the
        // score covariance is the Gaussian-moment helper's SecondMoments.
        var exact = Minimal()
            .WithPopulationMoments(
                w => { var n2 = Norm2(w); return Row(j => n2 * w[0, j] - S[j] * w[0, j]); },
                (w, u) => { var n2 = Norm2(w); var wu = Dot(w, Enumerable.Range(0, D).Select(j => u[0, j]).ToArray()); return Row(j => n2 * u[0, j] + 2.0 * wu * w[0, j] - S[j] * u[0, j]); },
                (w, basis) => GaussianMoments.SecondMoments(basis.Select(b => ScorePolynomial(w, b)).ToArray()))
            .WithLinearRepresentation(w => (double[,])w.Clone(), (w, dw) => (double[,])dw.Clone(), Identity())
            .Build()
            .ExactLaw();
        var byHand = Enumerable.Range(1, D - 1).Select(j => S[0] * S[0] * S[j] / ((S[0] - S[j]) * (S[0] - S[j])));
        Console.WriteLine($"  exact weights           {string.Join(", ", exact.Summary.Weights.Select(x => x.ToString("G12")))}");
        Console.WriteLine($"  by hand                 {string.Join(", ", byHand.Select(x => x.ToString("G12")))}");
    }

    private static QuadraticTerm[] ScorePolynomial(double[,] w, double[,] b)
    {
        double n2 = Norm2(w), bw = 0;
        for (int j = 0; j < D; j++) bw += b[0, j] * w[0, j];
        var q = new double[D, D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                q[i, j] = 0.5 * Math.Sqrt(S[i] * S[j]) * (w[0, i] * b[0, j] + b[0, i] * w[0, j]);
        return [new QuadraticTerm(n2 * bw), new QuadraticTerm(-1.0, q)];
    }

    private static double[,] Identity()
    {
        var m = new double[D, D];
        for (int i = 0; i < D; i++) m[i, i] = 1.0;
        return m;
    }
}
