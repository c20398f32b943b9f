module FunctionalAsymptotics.Bench.Program

open System
open BenchmarkDotNet.Attributes
open BenchmarkDotNet.Columns
open BenchmarkDotNet.Configs
open BenchmarkDotNet.Jobs
open BenchmarkDotNet.Running
open BenchmarkDotNet.Toolchains.InProcess.Emit
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Kernels
open FunctionalAsymptotics.Models

/// Short in-process runs: no generated project, no restore, a few seconds per case; medians reported.
let inProcessShort : IConfig =
    DefaultConfig.Instance
        .AddColumn(StatisticColumn.Median)
        .AddJob(
        Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(2)
            .WithIterationCount(8)
            .WithId("InProcessShort")
            .AsDefault())

/// Evenly spread weights in [0.5, 2], or a wide spread `10^(-3 .. 1)`: the two regimes of the series.
let weightsFor (terms: int) (spread: string) =
    let t j = if terms = 1 then 0.0 else float j / float (terms - 1)
    match spread with
    | "even" -> Array.init terms (fun j -> 0.5 + 1.5 * t j)
    | _ -> Array.init terms (fun j -> 10.0 ** (-3.0 + 4.0 * t j))

/// `GeneralizedChiSquare.cdfWith` at absolute tolerance 1e-10 (target: 50 weights, median <= 50 us),
/// at `mean + 1.5 sd`, for each algorithm.
type CdfBenchmarks() =
    let mutable law = GeneralizedChiSquare.ofWeights [| 1.0 |]
    let mutable settings = ChiSquareSettings.Default
    let mutable x = 0.0
    /// Number of chi^2_1 terms.
    [<Params(5, 50, 1000)>]
    member val Terms = 5 with get, set
    /// Weight spread: "even" in [0.5, 2] or "wide" over four decades.
    [<Params("even", "wide")>]
    member val Spread = "even" with get, set
    /// Auto, Ruben or Imhof.
    [<Params("Auto", "Ruben", "Imhof")>]
    member val Algorithm = "Auto" with get, set

    /// Builds the law and the settings of the case.
    [<GlobalSetup>]
    member this.Setup() =
        law <- GeneralizedChiSquare.ofWeights (weightsFor this.Terms this.Spread)
        let algorithm =
            match this.Algorithm with
            | "Ruben" -> UseRuben
            | "Imhof" -> UseImhof
            | _ -> Auto
        settings <- { ChiSquareSettings.Default with Algorithm = algorithm; AbsoluteTolerance = 1e-10 }
        x <- law.Mean + 1.5 * sqrt law.Variance

    /// One cdf evaluation.
    [<Benchmark>]
    member _.Cdf() = GeneralizedChiSquare.cdfWith settings law x

/// Sampling 10^6 draws of a 100-weight `sum_j w_j chi^2_1` law, i.e. 10^8 chi-square terms per operation
/// (target: >= 10^8 terms per second, so <= 1 s per operation).
type SamplingBenchmarks() =
    let draws = 1_000_000
    let terms = 100
    let weights = weightsFor terms "even"
    let dofs = Array.create terms 1
    let noncentralities = Array.zeroCreate terms
    let destination : float[] = Array.zeroCreate draws

    /// SIMD kernels, blocks on all cores.
    [<Benchmark(Baseline = true)>]
    member _.SimdAllCores() = ChiSquareSampler.fill 42UL weights dofs noncentralities destination

    /// SIMD kernels, one thread.
    [<Benchmark>]
    member _.SimdOneThread() = ChiSquareSampler.fillWith 1 42UL weights dofs noncentralities destination

    /// Plain-loop reference kernels, one thread.
    [<Benchmark>]
    member _.ReferenceOneThread() = ChiSquareSampler.fillReference 42UL weights dofs noncentralities destination

/// Mixture kernels at (K, d) = (4, 20): Kd = 80 gradient entries, d_eff = 16 span coordinates, 32-row batches.
[<MemoryDiagnoser>]
type MixtureKernelBench() =
    let rows, n, p = 32, 80, 16
    let rng = Random 1
    let x = Array.init (rows * n) (fun _ -> rng.NextDouble())
    let y = Array.init (rows * p) (fun _ -> rng.NextDouble())
    let gram = Array.zeroCreate (n * n)
    let cross = Array.zeroCreate (n * p)
    let u = GaussianMixture.uStar 4 20 2.0
    let pr = GaussianMixture.projector 3 u
    let adj = GaussianMixture.adjoint pr u (GaussianMixture.thetaStar 4 20 1.0)
    let z = Array.init 20 (fun _ -> rng.NextDouble())
    let grad = Array.zeroCreate 80
    let phi = Array.zeroCreate 16
    let scratch = Array.zeroCreate (GaussianMixture.adjointScratchLength adj)
    let scores = Array.init 8 float

    [<Benchmark>] member _.GramBlockSimd() = MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, rows, n, Span gram)
    [<Benchmark>] member _.GramBlockReference() = MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, rows, n, Span gram)
    [<Benchmark>] member _.GramRankOneSimd() = for s in 0 .. rows - 1 do MixtureKernels.AccumulateGramUpper(ReadOnlySpan(x, s * n, n), Span gram)
    [<Benchmark>] member _.CrossBlockSimd() = MixtureKernels.AccumulateCrossBlock(ReadOnlySpan x, ReadOnlySpan y, rows, n, p, Span cross)
    [<Benchmark>] member _.CrossBlockReference() = MixtureKernels.AccumulateCrossBlockReference(ReadOnlySpan x, ReadOnlySpan y, rows, n, p, Span cross)
    [<Benchmark>] member _.SoftmaxSimd() = MixtureKernels.SoftmaxInPlace(Span scores)
    [<Benchmark>] member _.SoftmaxReference() = MixtureKernels.SoftmaxInPlaceReference(Span scores)
    [<Benchmark>] member _.AdjointFeatureGradient() = GaussianMixture.adjointGradientIn false adj (ReadOnlySpan z) (Span grad) (Span phi) scratch

[<EntryPoint>]
let main argv =
    BenchmarkSwitcher.FromTypes([| typeof<CdfBenchmarks>; typeof<SamplingBenchmarks>; typeof<MixtureKernelBench>; typeof<KernelThroughput.KernelThroughputBench> |]).Run(argv, inProcessShort) |> ignore
    0
