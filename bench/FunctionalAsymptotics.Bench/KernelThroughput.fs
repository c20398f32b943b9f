/// Achieved GFLOP/s and GB/s of the Gram, E-step and sampling kernels against this CPU's peak, as columns of the
/// BenchmarkDotNet table (`dotnet run -c Release --project bench/FunctionalAsymptotics.Bench -- --filter '*KernelThroughput*'`).
module FunctionalAsymptotics.Bench.KernelThroughput

open System
open System.IO
open System.Runtime.Intrinsics
open BenchmarkDotNet.Attributes
open BenchmarkDotNet.Columns
open BenchmarkDotNet.Configs
open BenchmarkDotNet.Reports
open BenchmarkDotNet.Running
open FunctionalAsymptotics.Kernels
open FunctionalAsymptotics.Simulation

/// The clock in GHz from the first `cpu MHz` line of /proc/cpuinfo (NaN where there is none).
let clockGHz =
    try
        File.ReadLines "/proc/cpuinfo"
        |> Seq.tryFind (fun l -> l.StartsWith "cpu MHz")
        |> Option.map (fun l -> Double.Parse(l.Split(':').[1].Trim(), Globalization.CultureInfo.InvariantCulture) / 1000.0)
        |> Option.defaultValue nan
    with _ -> nan

/// Nominal double-precision FMA peak of one core: clock x 2 FMA units x 8 doubles (AVX-512) x 2 flops; the
/// machine's (2 cores) is twice this. AVX-512 code may run below the nominal clock: the `FmaPeak` cases measure the
/// reachable peak (independent FMA chains, one and two threads) in the same run.
let peakPerCoreGflops = clockGHz * 2.0 * 8.0 * 2.0

/// Work per operation: floating-point operations (an FMA counts 2) and bytes streamed.
type private Work = { Flops: float; Bytes: float }

let private gramRows, gramN = 256, 80
let private largeRows, largeN = 2048, 240
let private eRows, eD, eK = 8192, 20, 4
let private normals = 4096
/// Iterations of the FMA-peak loop (16 independent Vector512 chains: 256 flops per iteration).
let private fmaIterations = 1_000_000
let private fmaChainsFlops = float fmaIterations * 16.0 * 8.0 * 2.0

let private gramWork rows n = { Flops = float rows * float (n * (n + 1) / 2) * 2.0; Bytes = float (rows * n * 8) }

let private work =
    dict [
        "GramBlock", gramWork gramRows gramN
        "GramBlockReference", gramWork gramRows gramN
        "GramLarge", gramWork largeRows largeN
        "GramLargeTwoThreads", gramWork largeRows largeN
        // scores K d + |z|^2 d + M-step sums K d FMAs per sample (the K exponentials and the log not counted)
        "EStepK4", { Flops = float eRows * float (2 * eK * eD + eD) * 2.0; Bytes = float (eRows * eD * 8) }
        "EStepReference", { Flops = float eRows * float (2 * eK * eD + eD) * 2.0; Bytes = float (eRows * eD * 8) }
        "FillNormal", { Flops = nan; Bytes = float (normals * 8) }
        "FmaPeakOneThread", { Flops = fmaChainsFlops; Bytes = nan }
        "FmaPeakTwoThreads", { Flops = 2.0 * fmaChainsFlops; Bytes = nan } ]

/// 16 independent chains `a <- fma(a, m, c)` of Vector512 (enough to hide the FMA latency on two units):
/// the reachable FMA throughput of one thread. Returns a sum so the chains are not dead code.
let fmaChains (iterations: int) =
    let m = Vector512.Create 0.999999
    let c = Vector512.Create 1e-7
    let mutable a0 = Vector512.Create 1.0
    let mutable a1 = Vector512.Create 1.01
    let mutable a2 = Vector512.Create 1.02
    let mutable a3 = Vector512.Create 1.03
    let mutable a4 = Vector512.Create 1.04
    let mutable a5 = Vector512.Create 1.05
    let mutable a6 = Vector512.Create 1.06
    let mutable a7 = Vector512.Create 1.07
    let mutable a8 = Vector512.Create 1.08
    let mutable a9 = Vector512.Create 1.09
    let mutable a10 = Vector512.Create 1.10
    let mutable a11 = Vector512.Create 1.11
    let mutable a12 = Vector512.Create 1.12
    let mutable a13 = Vector512.Create 1.13
    let mutable a14 = Vector512.Create 1.14
    let mutable a15 = Vector512.Create 1.15
    for _ in 1 .. iterations do
        a0 <- Vector512.FusedMultiplyAdd(a0, m, c)
        a1 <- Vector512.FusedMultiplyAdd(a1, m, c)
        a2 <- Vector512.FusedMultiplyAdd(a2, m, c)
        a3 <- Vector512.FusedMultiplyAdd(a3, m, c)
        a4 <- Vector512.FusedMultiplyAdd(a4, m, c)
        a5 <- Vector512.FusedMultiplyAdd(a5, m, c)
        a6 <- Vector512.FusedMultiplyAdd(a6, m, c)
        a7 <- Vector512.FusedMultiplyAdd(a7, m, c)
        a8 <- Vector512.FusedMultiplyAdd(a8, m, c)
        a9 <- Vector512.FusedMultiplyAdd(a9, m, c)
        a10 <- Vector512.FusedMultiplyAdd(a10, m, c)
        a11 <- Vector512.FusedMultiplyAdd(a11, m, c)
        a12 <- Vector512.FusedMultiplyAdd(a12, m, c)
        a13 <- Vector512.FusedMultiplyAdd(a13, m, c)
        a14 <- Vector512.FusedMultiplyAdd(a14, m, c)
        a15 <- Vector512.FusedMultiplyAdd(a15, m, c)
    Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)))

type private Throughput = Gflops | CorePeak | MachinePeak | MeasuredOne | MeasuredTwo | GBps

/// GFLOP/s of the case named `name` in `summary` (NaN when absent).
let private gflopsOf (summary: Summary) (name: string) =
    summary.BenchmarksCases
    |> Seq.tryFind (fun c -> c.Descriptor.WorkloadMethod.Name = name)
    |> Option.bind (fun c ->
        match summary.[c] with
        | NonNull report when not (isNull report.ResultStatistics) -> Some(work.[name].Flops / ((nonNull report.ResultStatistics).Median * 1e-9) / 1e9)
        | _ -> None)
    |> Option.defaultValue nan

/// A column computed from the median time per operation.
type private ThroughputColumn(kind: Throughput) =
    let name, legend =
        match kind with
        | Gflops -> "GFLOP/s", "floating-point operations per second at the median time (an FMA counts 2)"
        | CorePeak -> "% core peak", sprintf "GFLOP/s over one core's nominal FMA peak, %.1f GFLOP/s = %.3f GHz (/proc/cpuinfo) x 2 FMA units x 8 doubles x 2" peakPerCoreGflops clockGHz
        | MachinePeak -> "% 2-core peak", sprintf "GFLOP/s over the machine's nominal FMA peak (2 cores), %.1f GFLOP/s" (2.0 * peakPerCoreGflops)
        | MeasuredOne -> "% FMA 1 thr", "GFLOP/s over the measured FMA peak of one thread (FmaPeakOneThread, same run)"
        | MeasuredTwo -> "% FMA 2 thr", "GFLOP/s over the measured FMA peak of two threads (FmaPeakTwoThreads, same run): the machine's reachable peak"
        | GBps -> "GB/s", "bytes read (Gram, E-step: the samples) or written (normals) per second at the median time"
    let value (summary: Summary) (case: BenchmarkCase) =
        match work.TryGetValue case.Descriptor.WorkloadMethod.Name, summary.[case] with
        | (true, w), NonNull report when not (isNull report.ResultStatistics) ->
            let seconds = (nonNull report.ResultStatistics).Median * 1e-9
            let gflops = w.Flops / seconds / 1e9
            let v =
                match kind with
                | Gflops -> gflops
                | CorePeak -> 100.0 * gflops / peakPerCoreGflops
                | MachinePeak -> 50.0 * gflops / peakPerCoreGflops
                | MeasuredOne -> 100.0 * gflops / gflopsOf summary "FmaPeakOneThread"
                | MeasuredTwo -> 100.0 * gflops / gflopsOf summary "FmaPeakTwoThreads"
                | GBps -> w.Bytes / seconds / 1e9
            if Double.IsNaN v then "-" else v.ToString("F1", Globalization.CultureInfo.InvariantCulture)
        | _ -> "-"
    interface IColumn with
        member _.Id = "Throughput." + name
        member _.ColumnName = name
        member _.AlwaysShow = true
        member _.Category = ColumnCategory.Custom
        member _.PriorityInCategory = 0
        member _.IsNumeric = true
        member _.UnitType = UnitType.Dimensionless
        member _.Legend = legend
        member _.GetValue(summary: Summary, case: BenchmarkCase) = value summary case
        member _.GetValue(summary: Summary, case: BenchmarkCase, _: SummaryStyle) = value summary case
        member _.IsDefault(_: Summary, _: BenchmarkCase) = false
        member _.IsAvailable(_: Summary) = true

/// The throughput columns.
type ThroughputConfig() as this =
    inherit ManualConfig()
    do this.AddColumn(ThroughputColumn Gflops, ThroughputColumn CorePeak, ThroughputColumn MachinePeak, ThroughputColumn MeasuredOne,
                      ThroughputColumn MeasuredTwo, ThroughputColumn GBps) |> ignore

/// The Gram kernel on 256 rows of 80 (the mixture's `a(x)` at K = 4, d = 20) and on 2048 rows of 240 (one and two
/// threads), the K = 4 E-step on 8192 samples of d = 20 (1.3 MB: in L2), 4096 normals from the replicate stream,
/// and the FMA peak probes.
[<Config(typeof<ThroughputConfig>)>]
type KernelThroughputBench() =
    let rng = Random 1
    let x = Array.init (gramRows * gramN) (fun _ -> rng.NextDouble())
    let gram = Array.zeroCreate (gramN * gramN)
    let xLarge = Array.init (largeRows * largeN) (fun _ -> rng.NextDouble())
    let gramLarge = Array.zeroCreate (largeN * largeN)
    let blocked = Array.init (EmKernels.BlockedLength(eRows, eD)) (fun _ -> 2.0 * rng.NextDouble() - 1.0)
    let centres = Array.init (eK * eD) (fun _ -> rng.NextDouble())
    let sums = Array.zeroCreate (eK * eD)
    let mass = Array.zeroCreate eK
    let stream = ReplicateStreams.derive 1UL 100 0
    let out = Array.zeroCreate normals

    [<Benchmark>] member _.GramBlock() = MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, gramRows, gramN, Span gram)
    [<Benchmark>] member _.GramBlockReference() = MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, gramRows, gramN, Span gram)
    [<Benchmark>] member _.GramLarge() = MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan xLarge, largeRows, largeN, Span gramLarge)
    [<Benchmark>] member _.GramLargeTwoThreads() = MixtureKernels.AccumulateGramUpperBlockParallel(xLarge, largeRows, largeN, gramLarge, 2)
    [<Benchmark>] member _.EStepK4() = EmKernels.EStep(ReadOnlySpan blocked, eRows, eD, ReadOnlySpan centres, Span sums, Span mass)
    [<Benchmark>] member _.EStepReference() = EmKernels.EStepReference(ReadOnlySpan blocked, eRows, eD, ReadOnlySpan centres, Span sums, Span mass)
    [<Benchmark>] member _.FillNormal() = stream.FillNormal(Span out)
    [<Benchmark>] member _.FmaPeakOneThread() = fmaChains fmaIterations
    [<Benchmark>]
    member _.FmaPeakTwoThreads() =
        let t = Threading.Tasks.Task.Run(fun () -> fmaChains fmaIterations)
        fmaChains fmaIterations + t.Result
