/// Long computations through the C# facade (issue 14): simulations, the mixture moments and the sweeps take a
/// CancellationToken (stopping with OperationCanceledException) and report IProgress<ComputationProgress>
/// monotonically, without changing the numbers.
module FunctionalAsymptotics.Tests.CSharp.LongRunFacadeTests

open System
open System.Collections.Generic
open System.IO
open System.Threading
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.CSharp

/// A reporter that records every report synchronously (reports arrive in order from the core's lock).
type private Recorder(onReport: ComputationProgress -> unit) =
    let reports = List<ComputationProgress>()
    member _.Reports = List.ofSeq reports
    interface IProgress<ComputationProgress> with
        member _.Report p =
            lock reports (fun () -> reports.Add p)
            onReport p

let private monotone (what: string) (reports: ComputationProgress list) =
    Expect.isNonEmpty reports (sprintf "%s: reported" what)
    for a, b in List.pairwise reports do
        Expect.isLessThanOrEqual a.Completed b.Completed (sprintf "%s: completed never decreases" what)
        Expect.equal a.Total b.Total (sprintf "%s: the total is fixed" what)
    for p in reports do
        Expect.isTrue (p.Completed >= 0 && p.Completed <= p.Total) (sprintf "%s: 0 <= completed <= total" what)

let private tempDir () = Path.Combine(Path.GetTempPath(), sprintf "fa-longrun-%s" (Guid.NewGuid().ToString("N")))

let private small = MixtureSettings(FisherSamples = 4000, GramSamples = 4000, Batches = 6)

let private toyParameters = readOnlyDict [ "d", 5.0; "k", 1.0 ]

let tests =
    testList "CSharp.LongRun" [
        test "a simulation reports its stored replicates monotonically, stops on cancellation with OperationCanceledException, and resumes to the uncancelled result" {
            let run dir resume (progress: IProgress<ComputationProgress>) (token: CancellationToken) =
                Simulation.Run("toy", toyParameters, 1.5, [| 10; 40 |], 500, 3UL, dir, resume = resume, threads = 2,
                               progress = progress, cancellationToken = token)
            let clean = tempDir ()
            let all = Recorder ignore
            run clean false all CancellationToken.None
            monotone "uncancelled" all.Reports
            Expect.equal (List.last all.Reports) (ComputationProgress(1000, 1000)) "ends at the total"
            let dir = tempDir ()
            use cts = new CancellationTokenSource()
            let cancelling = Recorder(fun p -> if p.Completed > 0 then cts.Cancel())
            Expect.throwsT<OperationCanceledException> (fun () -> run dir false cancelling cts.Token) "cancelled"
            let stored = (Simulation.Store.readRecords dir).Length
            Expect.isLessThanOrEqual stored 128 (sprintf "stopped after the batch under way (%d stored)" stored)
            Expect.isGreaterThan stored 0 "the finished replicates are kept"
            let resumed = Recorder ignore
            run dir true resumed CancellationToken.None
            monotone "resumed" resumed.Reports
            Expect.equal (List.head resumed.Reports).Completed stored "resumes from what was stored"
            Expect.equal (File.ReadAllText(Path.Combine(dir, "replicates.jsonl"))) (File.ReadAllText(Path.Combine(clean, "replicates.jsonl"))) "same records"
            Expect.equal (Simulation.Summarize dir) (Simulation.Summarize clean) "same summary"
        }
        test "the mixture moments report their Monte Carlo batches in order and give the core's numbers; cancellation throws" {
            let r = Recorder ignore
            let e = GaussianMixtureMoments.Estimate(2, 4, 2.0, small, r)
            monotone "estimate" r.Reports
            Expect.equal (r.Reports |> List.map (fun p -> p.Completed)) [ 1 .. 12 ] "one report per batch, Fisher then Gram"
            let core = GaussianMixturePretraining.estimate Specialised 2 4 2.0 (small |> fun s -> { GaussianMixturePretraining.defaultOptions with FisherSamples = s.FisherSamples; GramSamples = s.GramSamples; Batches = s.Batches })
            Expect.equal e.PretrainMean core.PretrainMean "same E||L(Z)||^2, bit for bit"
            Expect.equal e.Weights core.Weights "same weights"
            use cts = new CancellationTokenSource()
            let stopping = Recorder(fun _ -> cts.Cancel())
            Expect.throwsT<OperationCanceledException> (fun () -> GaussianMixtureMoments.Estimate(2, 4, 2.0, small, stopping, cts.Token) |> ignore) "cancelled mid-way"
            Expect.isLessThan stopping.Reports.Length 12 "stopped before the end"
            use cancelled = new CancellationTokenSource()
            cancelled.Cancel()
            let none = Recorder ignore
            Expect.throwsT<OperationCanceledException> (fun () -> GaussianMixtureMoments.Estimate(2, 4, 2.0, small, none, cancelled.Token) |> ignore) "cancelled before"
            Expect.isEmpty none.Reports "no work done"
        }
        test "a sweep counts the batches of all its points and stops on cancellation" {
            let values = [| 2.0; 3.0 |]
            let r = Recorder ignore
            let results = GaussianMixtureMoments.Sweep("beta", values, 2, 4, 0.0, small, r)
            Expect.equal results.Length 2 "a result per value"
            monotone "sweep" r.Reports
            Expect.equal (List.last r.Reports) (ComputationProgress(24, 24)) "every batch of every point"
            Expect.equal results.[1].PretrainMean (GaussianMixtureMoments.Estimate(2, 4, 3.0, small).PretrainMean) "a point is its own estimate"
            use cts = new CancellationTokenSource()
            let stopping = Recorder(fun p -> if p.Completed >= 12 then cts.Cancel())
            Expect.throwsT<OperationCanceledException> (fun () -> GaussianMixtureMoments.Sweep("beta", values, 2, 4, 0.0, small, stopping, cts.Token) |> ignore) "cancelled after the first point"
            Expect.isLessThan (List.last stopping.Reports).Completed 24 "the second point did not finish"
        }
        test "LongRun.parallelInit raises an item's own exception, not an AggregateException" {
            let counter = ProgressCounter(LongRun.none, 4)
            Expect.throwsT<ConvergenceException>
                (fun () -> LongRun.parallelInit CancellationToken.None counter 4 (fun i -> if i = 2 then raise (ConvergenceException("x", 1, 1.0, 0.1)) else i) |> ignore)
                "unwrapped"
        }
    ]
