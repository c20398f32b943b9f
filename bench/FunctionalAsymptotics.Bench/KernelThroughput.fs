/// Achieved GFLOP/s and GB/s of the Gram, E-step and sampling kernels against this CPU's peak, as columns of the
/// BenchmarkDotNet table (`dotnet run -c Release --project bench/FunctionalAsymptotics.Bench -- --filter '*KernelThroughput*'`).
module FunctionalAsymptotics.Bench.KernelThroughput

open System
open System.IO
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

/// Double-precision FMA peak of one core: clock x 2 FMA units x 8 doubles (AVX-512) x 2 flops. The kernels are
/// single-threaded (the callers parallelise over batches and replicates), so one core's peak is their ceiling;
/// the machine's (2 cores) is twice this.
let peakPerCoreGflops = clockGHz * 2.0 * 8.0 * 2.0

/// Work per operation: floating-point operations (an FMA counts 2) and bytes streamed.
type private Work = { Flops: float; Bytes: float }

let private gramRows, gramN = 256, 80
let private eRows, eD, eK = 8192, 20, 4
let private normals = 4096

let private work =
    dict [
        "GramBlock", { Flops = float gramRows * float (gramN * (gramN + 1) / 2) * 2.0; Bytes = float (gramRows * gramN * 8) }
        "GramBlockReference", { Flops = float gramRows * float (gramN * (gramN + 1) / 2) * 2.0; Bytes = float (gramRows * gramN * 8) }
        // scores K d + |z|^2 d + M-step sums K d FMAs per sample (the K exponentials and the log not counted)
        "EStepK4", { Flops = float eRows * float (2 * eK * eD + eD) * 2.0; Bytes = float (eRows * eD * 8) }
        "EStepReference", { Flops = float eRows * float (2 * eK * eD + eD) * 2.0; Bytes = float (eRows * eD * 8) }
        "FillNormal", { Flops = nan; Bytes = float (normals * 8) } ]

type private Throughput = Gflops | PeakShare | GBps

/// A column computed from the median time per operation.
type private ThroughputColumn(kind: Throughput) =
    let name, legend =
        match kind with
        | Gflops -> "GFLOP/s", "floating-point operations per second at the median time (an FMA counts 2)"
        | PeakShare -> "% core peak", sprintf "GFLOP/s over one core's FMA peak, %.1f GFLOP/s = %.3f GHz (/proc/cpuinfo) x 2 FMA units x 8 doubles x 2" peakPerCoreGflops clockGHz
        | GBps -> "GB/s", "bytes read (Gram, E-step: the samples) or written (normals) per second at the median time"
    let value (summary: Summary) (case: BenchmarkCase) =
        match work.TryGetValue case.Descriptor.WorkloadMethod.Name, summary.[case] with
        | (true, w), NonNull report when not (isNull report.ResultStatistics) ->
            let seconds = (nonNull report.ResultStatistics).Median * 1e-9
            let v =
                match kind with
                | Gflops -> w.Flops / seconds / 1e9
                | PeakShare -> 100.0 * w.Flops / seconds / 1e9 / peakPerCoreGflops
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
    do this.AddColumn(ThroughputColumn Gflops, ThroughputColumn PeakShare, ThroughputColumn GBps) |> ignore

/// The Gram kernel on 256 rows of 80 (the mixture's `a(x)` at K = 4, d = 20), the K = 4 E-step on 8192 samples of
/// d = 20 (1.3 MB: in L2), and 4096 normals from the replicate stream.
[<Config(typeof<ThroughputConfig>)>]
type KernelThroughputBench() =
    let rng = Random 1
    let x = Array.init (gramRows * gramN) (fun _ -> rng.NextDouble())
    let gram = Array.zeroCreate (gramN * gramN)
    let blocked = Array.init (EmKernels.BlockedLength(eRows, eD)) (fun _ -> 2.0 * rng.NextDouble() - 1.0)
    let centres = Array.init (eK * eD) (fun _ -> rng.NextDouble())
    let sums = Array.zeroCreate (eK * eD)
    let mass = Array.zeroCreate eK
    let stream = ReplicateStreams.derive 1UL 100 0
    let out = Array.zeroCreate normals

    [<Benchmark>] member _.GramBlock() = MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, gramRows, gramN, Span gram)
    [<Benchmark>] member _.GramBlockReference() = MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, gramRows, gramN, Span gram)
    [<Benchmark>] member _.EStepK4() = EmKernels.EStep(ReadOnlySpan blocked, eRows, eD, ReadOnlySpan centres, Span sums, Span mass)
    [<Benchmark>] member _.EStepReference() = EmKernels.EStepReference(ReadOnlySpan blocked, eRows, eD, ReadOnlySpan centres, Span sums, Span mass)
    [<Benchmark>] member _.FillNormal() = stream.FillNormal(Span out)
