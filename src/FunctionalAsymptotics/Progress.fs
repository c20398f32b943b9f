namespace FunctionalAsymptotics

open System
open System.Threading
open System.Threading.Tasks

/// How far a long computation has come: `Completed` of `Total` units of work (Monte Carlo batches,
/// sweep points) are done. Reports of one computation come in order, `Completed` increasing.
[<Struct>]
type WorkProgress =
    {
        /// Units of work done.
        Completed: int
        /// Units of work in all.
        Total: int
    }

/// Counts finished units of work and reports each count to `progress`, in increasing order, from any thread.
type ProgressCounter(progress: IProgress<WorkProgress>, total: int) =
    let gate = obj ()
    let mutable completed = 0
    /// Marks one more unit done and reports the count.
    member _.Advance() =
        lock gate (fun () ->
            completed <- completed + 1
            progress.Report { Completed = completed; Total = total })

/// Helpers for cancellable, progress-reporting long computations.
[<RequireQualifiedAccess>]
module LongRun =
    /// A reporter that discards every report.
    let none<'T> : IProgress<'T> = { new IProgress<'T> with member _.Report _ = () }

    /// `Array.Parallel.init count f`, advancing `counter` after each item. Once `cancel` is set no further
    /// item starts and `OperationCanceledException` is raised (items under way finish first). An item's own
    /// exception is raised as itself, not wrapped.
    let parallelInit (cancel: CancellationToken) (counter: ProgressCounter) (count: int) (f: int -> 'T) : 'T[] =
        let results = Array.zeroCreate count
        try
            Parallel.For(0, count, ParallelOptions(CancellationToken = cancel), fun i ->
                results.[i] <- f i
                counter.Advance())
            |> ignore
        with :? AggregateException as e when e.InnerExceptions.Count >= 1 ->
            Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions.[0]).Throw()
        results
