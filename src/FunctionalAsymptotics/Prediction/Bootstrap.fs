namespace FunctionalAsymptotics.Prediction

open System
open System.Threading.Tasks
open FunctionalAsymptotics
open FunctionalAsymptotics.Simulation

/// A bootstrap interval: the estimate on the data as given, the bootstrap standard error and the percentile
/// interval at the requested level. With no (successful) replicates `StdErr`, `Lower` and `Upper` are NaN.
type BootstrapInterval =
    { /// The estimate on the original data.
      Estimate: float
      /// The standard deviation of the bootstrap replicates.
      StdErr: float
      /// The lower percentile bound (`(1 - level) / 2` quantile of the replicates).
      Lower: float
      /// The upper percentile bound (`(1 + level) / 2` quantile).
      Upper: float }

/// The nonparametric bootstrap over the two data sets (Efron 1979): each replicate resamples the unlabelled
/// rows and the labelled rows independently, uniformly with replacement, as multinomial row counts. Seeded
/// and thread-count independent: replicate `b` draws its unlabelled counts from the stream
/// `ReplicateStreams.derive seed 1 b` and its labelled counts from `ReplicateStreams.derive seed 2 b`.
[<RequireQualifiedAccess>]
module Bootstrap =

    /// Multinomial counts of `rows` draws, uniformly with replacement, from `rows` rows.
    let counts (rng: ReplicateRng) (rows: int) : float[] =
        let c = Array.zeroCreate rows
        for _ in 1 .. rows do
            let i = min (rows - 1) (int (rng.NextDouble() * float rows))
            c.[i] <- c.[i] + 1.0
        c

    /// The row counts of replicate `b`: (unlabelled, labelled).
    let resample (seed: uint64) (unlabelledRows: int) (labelledRows: int) (b: int) : float[] * float[] =
        counts (ReplicateStreams.derive seed 1 b) unlabelledRows, counts (ReplicateStreams.derive seed 2 b) labelledRows

    /// Runs `statistic` on `replicates` resamples in parallel (`threads` workers, <= 0 for all cores); the
    /// result of replicate `b` is at index `b` (an `Error` with the failure's message when the statistic
    /// raised, e.g. a resample on which the model is not identifiable).
    let run (seed: uint64) (replicates: int) (threads: int) (unlabelledRows: int) (labelledRows: int)
            (statistic: float[] -> float[] -> 'T) : Result<'T, string>[] =
        if replicates < 0 then Check.fail "replicates" (sprintf "must be >= 0, got %d" replicates)
        let results = Array.create replicates (Error "not run")
        let options = ParallelOptions(MaxDegreeOfParallelism = (if threads <= 0 then Environment.ProcessorCount else threads))
        Parallel.For(0, replicates, options, fun b ->
            let wu, wl = resample seed unlabelledRows labelledRows b
            results.[b] <-
                try Ok(statistic wu wl)
                with
                | :? InvalidArgumentException as e -> Error e.Message
                | :? FunctionalAsymptoticsException as e -> Error e.Message) |> ignore
        results

    /// The `p`-quantile of sorted values (linear interpolation between order statistics, type 7).
    let quantileSorted (sorted: float[]) (p: float) : float =
        let h = p * float (sorted.Length - 1)
        let lo = int (floor h)
        let hi = min (sorted.Length - 1) (lo + 1)
        sorted.[lo] + (h - float lo) * (sorted.[hi] - sorted.[lo])

    /// The interval of `estimate` from its replicates `draws` at `level` (e.g. 0.95): standard deviation and
    /// percentile bounds. Non-finite draws (e.g. an infinite crossover) sort to the ends and are kept.
    let interval (level: float) (estimate: float) (draws: float[]) : BootstrapInterval =
        if not (level > 0.0 && level < 1.0) then Check.fail "level" (sprintf "must be in (0, 1), got %g" level)
        if draws.Length < 2 then { Estimate = estimate; StdErr = nan; Lower = nan; Upper = nan }
        else
            let sorted = Array.sort draws
            let finite = draws |> Array.filter Double.IsFinite
            let sd =
                if finite.Length < draws.Length || finite.Length < 2 then nan
                else let m = Array.average finite in sqrt ((finite |> Array.sumBy (fun x -> (x - m) * (x - m))) / float (finite.Length - 1))
            { Estimate = estimate; StdErr = sd
              Lower = quantileSorted sorted ((1.0 - level) / 2.0)
              Upper = quantileSorted sorted ((1.0 + level) / 2.0) }
