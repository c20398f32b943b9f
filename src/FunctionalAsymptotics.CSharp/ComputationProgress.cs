using CoreProgress = FunctionalAsymptotics.WorkProgress;

namespace FunctionalAsymptotics.CSharp;

/// <summary>
/// How far a long computation has come: <see cref="Completed"/> of <see cref="Total"/> units of work
/// (replicates of a simulation, Monte Carlo batches of the mixture moments) are done. The reports of one call
/// arrive in order, on the thread doing the work, <see cref="Completed"/> never decreasing.
/// </summary>
/// <param name="Completed">Units of work done.</param>
/// <param name="Total">Units of work in all.</param>
public readonly record struct ComputationProgress(int Completed, int Total);

/// <summary>Passes the core's progress reports on to a caller's reporter, synchronously and in order.</summary>
internal sealed class ProgressRelay<T>(IProgress<ComputationProgress>? target, Func<T, ComputationProgress> convert) : IProgress<T>
{
    public void Report(T value) => target?.Report(convert(value));

    /// <summary>A relay of the core's <see cref="CoreProgress"/>.</summary>
    internal static ProgressRelay<CoreProgress> Of(IProgress<ComputationProgress>? target) =>
        new(target, p => new ComputationProgress(p.Completed, p.Total));
}
