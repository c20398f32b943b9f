using Microsoft.FSharp.Collections;
using Core = FunctionalAsymptotics.Simulation;

namespace FunctionalAsymptotics.CSharp;

/// <summary>
/// The comparison of one grid point of a complete simulation run with the limit law of Theorem 5.1
/// (Tinati and Tu, COLT 2026): Kolmogorov distances of the total <c>E_mn = n (R - sigma^2)</c> and of its
/// pre-training part, the variance part's exceedance and the means with standard errors.
/// </summary>
/// <param name="N">Downstream sample size n.</param>
/// <param name="M">Pre-training sample size m = floor(alpha n).</param>
/// <param name="Reps">Replicates.</param>
/// <param name="KsTotal">sup_t |F_n,tot(t) - F_inf,tot(t)| against the exact limit cdf of E_alpha.</param>
/// <param name="KsPretrain">The same for the pre-training part against alpha^-1 ||L(Z)||^2.</param>
/// <param name="PVar">P(|V_mn - sigma^2 d_eff| &gt; 0.05 sigma^2 d_eff), the empirical fraction.</param>
/// <param name="MeanTotal">Mean of E_mn.</param>
/// <param name="MeanTotalStdErr">Its standard error.</param>
/// <param name="MeanPretrain">Mean of the pre-training part n Rep.</param>
/// <param name="MeanPretrainStdErr">Its standard error.</param>
public sealed record SimulationGridPoint(
    int N, int M, int Reps, double KsTotal, double KsPretrain, double PVar,
    double MeanTotal, double MeanTotalStdErr, double MeanPretrain, double MeanPretrainStdErr);

/// <summary>
/// Monte Carlo validation of Theorem 5.1 by simulation of the whole two-stage pipeline (the engine of
/// <c>fa simulate</c>; docs/simulation.md): replicate r at sample size n draws only from the stream of
/// (seed, n, r), so results are bit-identical for any thread count, shard split or interruption. Records are
/// stored in a run directory as they finish, with a checksum each, and verified on every read.
/// </summary>
public static class Simulation
{
    private static readonly Core.ModelFactory[] Factories = [.. FunctionalAsymptotics.Models.ModelRegistry.simulations];

    /// <summary>The models that can be simulated: toy, spectral, factor, gmm.</summary>
    public static IReadOnlyList<string> Models => Factories.Select(f => f.Name).ToArray();

    private static Core.ModelFactory Find(string model) =>
        Factories.FirstOrDefault(f => f.Name == model)
        ?? throw new InvalidArgumentException(nameof(model), $"unknown model '{model}' (known: {string.Join(", ", Models)})", null);

    /// <summary>The parameters of <paramref name="model"/> with their defaults.</summary>
    public static IReadOnlyDictionary<string, double> DefaultParameters(string model) =>
        Find(model).Parameters.ToDictionary(p => p.Name, p => p.Default);

    /// <summary>
    /// Runs shard <paramref name="shard"/> of <paramref name="shards"/> of the simulation of
    /// <paramref name="model"/> (parameters not given take their defaults) at <c>alpha = m / n</c> on the
    /// sample sizes <paramref name="grid"/>, <paramref name="reps"/> replicates each, into
    /// <paramref name="directory"/>. With <paramref name="resume"/> the replicates already stored there are
    /// kept and skipped. <paramref name="progress"/> receives the replicates of this shard stored so far,
    /// after every stored batch. When <paramref name="cancellationToken"/> is cancelled no further replicate
    /// starts; those under way finish and are stored, then <see cref="OperationCanceledException"/> is thrown
    /// (call again with <c>resume: true</c> to continue). Bad arguments or a directory holding another run
    /// raise <see cref="InvalidArgumentException"/> naming the argument or the file.
    /// </summary>
    public static void Run(
        string model, IReadOnlyDictionary<string, double>? parameters, double alpha, int[] grid, int reps, ulong seed,
        string directory, bool resume = false, int shard = 1, int shards = 1, int threads = 0,
        IProgress<ComputationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var factory = Find(model);
        var given = ListModule.OfSeq((parameters ?? new Dictionary<string, double>()).Select(kv => Tuple.Create(kv.Key, kv.Value)));
        var resolved = Core.ModelFactoryModule.resolve(factory, given);
        var spec = new Core.RunSpec(factory.Name, resolved, alpha, seed, (int[])grid.Clone(), reps, shard, shards);
        Core.RunSpecModule.validate(spec);
        var pipeline = factory.Create.Invoke(alpha).Invoke(resolved);
        var options = new Core.RunOptions(
            resume, threads <= 0 ? Environment.ProcessorCount : threads, Core.RunOptionsModule.defaults.BatchSize,
            new ProgressRelay<Core.RunProgress>(progress, p => new ComputationProgress(p.Completed, p.Total)));
        var status = Core.Engine.run(pipeline, spec, directory, options, cancellationToken);
        if (status.IsCancelled)
            throw new OperationCanceledException(
                $"simulation cancelled; the finished replicates are stored in '{directory}': run again with resume to continue",
                cancellationToken);
    }

    /// <summary>
    /// Merges the shard directories of one run into <paramref name="outDirectory"/> (a single-shard run whose
    /// records are byte-identical to an unsharded run's). Every record is verified; a missing or bad record
    /// raises <see cref="InvalidArgumentException"/> naming the file and line.
    /// </summary>
    public static void Merge(string[] shardDirectories, string outDirectory) =>
        Core.Store.merge(ListModule.OfSeq(shardDirectories), outDirectory);

    /// <summary>
    /// The comparison with the limit law, per grid point, of the complete run (single shard or merged) in
    /// <paramref name="directory"/>; every record is verified on reading.
    /// </summary>
    public static SimulationGridPoint[] Summarize(string directory)
    {
        var spec = Core.Store.readManifest(directory);
        if (spec.Shards != 1)
            throw new InvalidArgumentException(nameof(directory), $"'{directory}' holds shard {spec.Shard} of {spec.Shards}: merge the shards first", null);
        var factory = Find(spec.Model);
        var pipeline = factory.Create.Invoke(spec.Alpha).Invoke(spec.Parameters);
        return Core.Engine.summarize(pipeline, spec, Core.Store.readRecords(directory))
            .Select(s => new SimulationGridPoint(s.N, s.M, s.Reps, s.KsTotal, s.KsPretrain, s.PVar,
                s.MeanTotal, s.MeanTotalStdErr, s.MeanPretrain, s.MeanPretrainStdErr))
            .ToArray();
    }
}
