using Core = FunctionalAsymptotics.Models;

namespace FunctionalAsymptotics.CSharp;

/// <summary>
/// Monte Carlo sizes of the Gaussian mixture's population moments (defaults as the core's: 2e5 Fisher draws,
/// 6e5 Gram draws, 20 batches, seed 1, unit-norm <c>theta*</c>).
/// </summary>
/// <param name="FisherSamples">Draws for the Fisher information I(U*).</param>
/// <param name="GramSamples">Draws for the Gram matrices under mu_down.</param>
/// <param name="Batches">Independent batches (jackknife standard error; the unit of progress).</param>
/// <param name="Seed">Seed of the generators.</param>
/// <param name="ThetaNorm">Euclidean norm of theta* (1: paper text; 10: the authors' code).</param>
public sealed record MixtureSettings(
    int FisherSamples = 200_000, int GramSamples = 600_000, int Batches = 20, int Seed = 1, double ThetaNorm = 1.0)
{
    internal Core.MixtureOptions ToCore()
    {
        var d = Core.GaussianMixturePretraining.defaultOptions;
        return new Core.MixtureOptions(FisherSamples, GramSamples, Batches, Seed, ThetaNorm, d.RankTolerance, d.ConditionTolerance, d.QuadratureTolerance, d.QuadratureMaxNodes);
    }
}

/// <summary>The estimated limit law of the Gaussian mixture at (K, d, beta) (Section 6.3, Theorem 5.1).</summary>
/// <param name="K">Number of centres.</param>
/// <param name="D">Ambient dimension.</param>
/// <param name="Beta">Separation of U* = beta I_{K,d}.</param>
/// <param name="DEff">d_eff = K (r* + 1).</param>
/// <param name="DBase">d_base, the numerical rank of the joint Gram of (psi, a).</param>
/// <param name="Weights">Eigenvalues lambda_j of V^1/2 G V^1/2 (descending).</param>
/// <param name="PretrainMean">E ||L(Z)||^2 = tr(V G), eq. (5.2).</param>
/// <param name="PretrainMeanStdErr">Its delete-one-batch jackknife standard error.</param>
public sealed record MixtureEstimate(
    int K, int D, double Beta, int DEff, int DBase, double[] Weights, double PretrainMean, double PretrainMeanStdErr)
{
    internal static MixtureEstimate Of(Core.MixtureLimit m) =>
        new(m.K, m.D, m.Beta, m.DEff, m.DBase, m.Weights, m.PretrainMean, m.PretrainMeanStdErr);
}

/// <summary>
/// The Gaussian mixture's population quantities by seeded Monte Carlo (the specialised route of
/// <c>GaussianMixturePretraining</c>), cancellable and reporting progress in Monte Carlo batches.
/// </summary>
public static class GaussianMixtureMoments
{
    /// <summary>
    /// <c>E ||L(Z)||^2</c>, the weights and d_eff, d_base of the mixture at <c>U* = beta I_{K,d}</c>.
    /// <paramref name="progress"/> counts the <c>2 Batches</c> Monte Carlo batches as they finish; once
    /// <paramref name="cancellationToken"/> is cancelled no further batch starts and
    /// <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    public static MixtureEstimate Estimate(
        int k, int d, double beta, MixtureSettings? settings = null,
        IProgress<ComputationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        MixtureEstimate.Of(Core.GaussianMixturePretraining.estimateWith(
            cancellationToken, ProgressRelay<WorkProgress>.Of(progress), Core.MixtureRoute.Specialised, k, d, beta,
            (settings ?? new MixtureSettings()).ToCore()));

    /// <summary>
    /// A Figure 2 sweep: the estimate at each value of <paramref name="vary"/> ("K", "d" or "beta"), the other
    /// two held at (k, d, beta), common random numbers. <paramref name="progress"/> counts the Monte Carlo
    /// batches of all points; cancellation as in <see cref="Estimate"/>.
    /// </summary>
    public static MixtureEstimate[] Sweep(
        string vary, double[] values, int k, int d, double beta, MixtureSettings? settings = null,
        IProgress<ComputationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Core.GaussianMixturePretraining.sweepWith(
                cancellationToken, ProgressRelay<WorkProgress>.Of(progress), vary, values, k, d, beta,
                (settings ?? new MixtureSettings()).ToCore())
            .Select(MixtureEstimate.Of).ToArray();
}
