namespace FunctionalAsymptotics.Simulation

open System
open System.Globalization
open System.Text
open System.Threading
open System.Threading.Tasks
open FunctionalAsymptotics

/// How a run ended.
type RunStatus =
    /// Every replicate of this shard is stored.
    | Completed
    /// Cancellation was requested; every replicate finished before it is stored, the rest are not.
    | Cancelled

/// Progress of a run: per grid point, the replicates of this shard stored (`Stored`) out of those it owns
/// (`Owned`). Reported after every stored batch, `Completed` never decreasing.
type RunProgress =
    {
        /// Per grid point, replicates of this shard stored so far.
        Stored: int[]
        /// Per grid point, replicates this shard owns.
        Owned: int[]
    }
    /// Replicates of this shard stored so far.
    member this.Completed = Array.sum this.Stored
    /// Replicates this shard owns.
    member this.Total = Array.sum this.Owned

/// Execution options of a run (none of them changes the numbers).
type RunOptions =
    {
        /// Continue the records already in the directory instead of refusing a non-empty directory.
        Resume: bool
        /// Worker threads (`>= 1`).
        Threads: int
        /// Replicates computed between two writes to disk (`>= 1`).
        BatchSize: int
        /// Receives the progress once before the first batch and after each stored batch (on the calling thread).
        Progress: IProgress<RunProgress>
    }

/// Functions on run options.
[<RequireQualifiedAccess>]
module RunOptions =
    /// Fresh run, all processors, batches of 64, no progress reporting.
    let defaults : RunOptions =
        { Resume = false; Threads = Environment.ProcessorCount; BatchSize = 64; Progress = LongRun.none }

/// The simulation engine: Monte Carlo validation of Theorem 5.1 (docs/theory.md section 6, Appendix K).
[<RequireQualifiedAccess>]
module Engine =
    /// One replicate: the model applied to the context of `(seed, n, r)`. A non-finite outcome raises.
    let replicate (model: PipelineModel) (seed: uint64) (alpha: float) (n: int) (r: int) : ReplicateOutcome =
        let ctx = { N = n; M = RunSpec.preTrainingSize alpha n; Replicate = r; Rng = ReplicateStreams.derive seed n r }
        let o = model.Replicate ctx
        if not (Double.IsFinite o.Total && Double.IsFinite o.Pretrain && Double.IsFinite o.Leak && Double.IsFinite o.Variance) then
            raise (FunctionalAsymptoticsException(sprintf "model '%s' returned a non-finite outcome at n = %d, r = %d" model.Name n r))
        if not (Store.partsAddUp o) then
            raise (FunctionalAsymptoticsException(sprintf "model '%s' returned total <> pretrain + leak + variance at n = %d, r = %d" model.Name n r))
        o

    /// `run` with MathNet's parallelism as it is.
    let private runBatches (model: PipelineModel) (spec: RunSpec) (dir: string) (options: RunOptions) (cancel: CancellationToken) : RunStatus =
        RunSpec.validate spec
        if options.Threads < 1 then Check.fail "threads" (sprintf "must be >= 1, got %d" options.Threads)
        if options.BatchSize < 1 then Check.fail "batchSize" (sprintf "must be >= 1, got %d" options.BatchSize)
        use _writer = Store.lock dir
        let existing, length =
            match Store.inspect spec dir with
            | Store.Empty ->
                Store.writeManifest dir spec
                [||], 0L
            | Store.ThisRun(hasManifest, records, length) ->
                if not options.Resume then
                    Check.fail "out" (sprintf "'%s' already holds this run (%d replicates stored); use resume to continue it or choose another directory" dir records.Length)
                // Records without a manifest are resumed only because every checksum proves them this run's.
                if not hasManifest then Store.writeManifest dir spec
                records, length
        let index = spec.Grid |> Array.mapi (fun g n -> n, g) |> dict
        let isDone = Array.init spec.Grid.Length (fun _ -> Array.zeroCreate<bool> spec.Reps)
        for r in existing do
            isDone.[index.[r.N]].[r.Replicate] <- true
        let owned = Array.init spec.Grid.Length (fun g -> Seq.init spec.Reps id |> Seq.filter (RunSpec.owns spec g) |> Seq.length)
        let stored = Array.init spec.Grid.Length (fun g -> isDone.[g] |> Array.sumBy (fun b -> if b then 1 else 0))
        let work =
            [| for g in 0 .. spec.Grid.Length - 1 do
                 for r in 0 .. spec.Reps - 1 do
                     if RunSpec.owns spec g r && not isDone.[g].[r] then yield struct (g, r) |]
        use fs = Store.openForAppend dir length
        options.Progress.Report { Stored = Array.copy stored; Owned = owned }
        let parallelOptions = ParallelOptions(MaxDegreeOfParallelism = options.Threads)
        let mutable position = 0
        while position < work.Length && not cancel.IsCancellationRequested do
            let count = min options.BatchSize (work.Length - position)
            let results : ReplicateOutcome voption[] = Array.zeroCreate count
            try
                Parallel.For(0, count, parallelOptions, fun i ->
                    if not cancel.IsCancellationRequested then
                        let struct (g, r) = work.[position + i]
                        results.[i] <- ValueSome (replicate model spec.Seed spec.Alpha spec.Grid.[g] r))
                |> ignore
            with :? AggregateException as e when e.InnerExceptions.Count >= 1 ->
                // Report the model's own failure, not the parallel wrapper.
                Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions.[0]).Throw()
            let batch =
                [| for i in 0 .. count - 1 do
                     match results.[i] with
                     | ValueSome o ->
                         let struct (g, r) = work.[position + i]
                         stored.[g] <- stored.[g] + 1
                         yield { N = spec.Grid.[g]; Replicate = r; Outcome = o }
                     | ValueNone -> () |]
            Store.appendBatch spec fs batch
            position <- position + count
            options.Progress.Report { Stored = Array.copy stored; Owned = owned }
        if stored = owned then Completed else Cancelled

    /// Runs this shard of `spec` into `dir`, storing replicates as they finish (see `Store`). Once `cancel`
    /// is set no further replicate starts; those under way finish and are stored, and the run returns
    /// `Cancelled` (resume it later). With
    /// `options.Resume`, replicates already stored are kept and skipped (the directory must hold the same
    /// run); without it, a directory with records is refused. Results are bit-identical for any thread
    /// count, batch size, shard split and interruption pattern: replicate `(n, r)` depends only on
    /// `(seed, n, r)`. Replicates run in parallel over the cores, so MathNet's own `Parallel.For` is off
    /// meanwhile (`Linalg.withSingleThreadedMathNet`: inside a replicate's small products it only contends with them).
    let run (model: PipelineModel) (spec: RunSpec) (dir: string) (options: RunOptions) (cancel: CancellationToken) : RunStatus =
        Linalg.withSingleThreadedMathNet (fun () -> runBatches model spec dir options cancel)

    /// The per-grid-point comparison with the limit law of a complete (single-shard or merged) run.
    let summarize (model: PipelineModel) (spec: RunSpec) (records: ReplicateRecord seq) : GridSummary[] =
        let table = Store.collect spec records
        spec.Grid |> Array.mapi (fun g n -> Metrics.summarize model n (RunSpec.preTrainingSize spec.Alpha n) table.[g])

/// The `fa simulate` / `fa merge` JSON report.
[<RequireQualifiedAccess>]
module Report =
    let private fmt (x: float) =
        if Double.IsFinite x then x.ToString("R", CultureInfo.InvariantCulture) else "null"

    /// `{"model":..,"alpha":..,"seed":..,"grid":[{"n":..,"m":..,"reps":..,"ksTotal":..,"ksPretrain":..,
    /// "pVar":..,"meanTotal":..,"meanTotalStdErr":..,"meanPretrain":..,"meanPretrainStdErr":..}]}`,
    /// numbers in shortest round-trip form (so equal bits print equal text).
    let toJson (spec: RunSpec) (grid: GridSummary[]) : string =
        let sb = StringBuilder()
        sb.Append("{\"model\":").Append(Text.Json.JsonSerializer.Serialize spec.Model)
          .Append(",\"alpha\":").Append(fmt spec.Alpha)
          .Append(",\"seed\":").Append(spec.Seed)
          .Append(",\"grid\":[") |> ignore
        grid |> Array.iteri (fun i s ->
            if i > 0 then sb.Append(',') |> ignore
            sb.Append("{\"n\":").Append(s.N).Append(",\"m\":").Append(s.M).Append(",\"reps\":").Append(s.Reps)
              .Append(",\"ksTotal\":").Append(fmt s.KsTotal).Append(",\"ksPretrain\":").Append(fmt s.KsPretrain)
              .Append(",\"pVar\":").Append(fmt s.PVar)
              .Append(",\"meanTotal\":").Append(fmt s.MeanTotal).Append(",\"meanTotalStdErr\":").Append(fmt s.MeanTotalStdErr)
              .Append(",\"meanPretrain\":").Append(fmt s.MeanPretrain).Append(",\"meanPretrainStdErr\":").Append(fmt s.MeanPretrainStdErr)
              .Append('}') |> ignore)
        sb.Append("]}").ToString()
