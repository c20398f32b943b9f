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

/// Evenly spread weights in [0.5, 2] ("even"), a wide spread `10^(-3 .. 1)` ("wide"): the two regimes of
/// Ruben's series; and the same magnitudes with alternating signs ("mixed", "widemixed"): Imhof only.
let weightsFor (terms: int) (spread: string) =
    let t j = if terms = 1 then 0.0 else float j / float (terms - 1)
    let sign j = if spread.EndsWith "mixed" && j % 2 = 1 then -1.0 else 1.0
    match spread with
    | "even" | "mixed" -> Array.init terms (fun j -> sign j * (0.5 + 1.5 * t j))
    | _ -> Array.init terms (fun j -> sign j * 10.0 ** (-3.0 + 4.0 * t j))

/// The benchmark's settings: the named algorithm at absolute tolerance 1e-10.
let cdfSettings (algorithm: string) =
    let algorithm =
        match algorithm with
        | "Ruben" -> UseRuben
        | "Imhof" -> UseImhof
        | _ -> Auto
    { ChiSquareSettings.Default with Algorithm = algorithm; AbsoluteTolerance = 1e-10 }

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
        settings <- cdfSettings this.Algorithm
        x <- law.Mean + 1.5 * sqrt law.Variance

    /// One cdf evaluation.
    [<Benchmark>]
    member _.Cdf() = GeneralizedChiSquare.cdfWith settings law x

/// As `CdfBenchmarks` for weights of both signs (Ruben's series does not apply): same target.
type MixedSignCdfBenchmarks() =
    let mutable law = GeneralizedChiSquare.ofWeights [| 1.0 |]
    let mutable settings = ChiSquareSettings.Default
    let mutable x = 0.0
    /// Number of chi^2_1 terms.
    [<Params(50, 1000)>]
    member val Terms = 50 with get, set
    /// Magnitudes "mixed" (even in [0.5, 2]) or "widemixed" (over four decades), alternating signs.
    [<Params("mixed", "widemixed")>]
    member val Spread = "mixed" with get, set
    /// Auto or Imhof.
    [<Params("Auto", "Imhof")>]
    member val Algorithm = "Auto" with get, set

    /// Builds the law and the settings of the case.
    [<GlobalSetup>]
    member this.Setup() =
        law <- GeneralizedChiSquare.ofWeights (weightsFor this.Terms this.Spread)
        settings <- cdfSettings this.Algorithm
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

/// The matrix-free horizontal route (`TwoStage.horizontal`) at real dimensions: the scaling table
/// of docs/two-stage-engine.md. `Case` is `model-d-k`; factor loadings are `Factor.drawLoadings 1 d k`.
/// Slow cases (seconds each): run with `--warmupCount 1 --iterationCount 3 --strategy Monitoring`; d = 500
/// exceeds the in-process toolchain's time limit and is timed with the CLI (docs/two-stage-engine.md).
type HorizontalRouteBenchmarks() =
    let mutable run : unit -> float = fun () -> 0.0
    /// `model-d-k`.
    [<Params("spectral-50-4", "spectral-50-10", "spectral-100-10", "spectral-200-10", "factor-50-10", "factor-100-10", "factor-200-10")>]
    member val Case = "spectral-50-4" with get, set

    /// Builds the model specification of the case.
    [<GlobalSetup>]
    member this.Setup() =
        let parts = this.Case.Split('-')
        let d, k = int parts.[1], int parts.[2]
        run <-
            match parts.[0] with
            | "spectral" ->
                let sp = Spectral.spec (Spectral.defaultConfig d k 1.0)
                fun () -> FunctionalAsymptotics.Asymptotics.AsymptoticSummary.pretrainMean (FunctionalAsymptotics.Asymptotics.TwoStage.horizontal sp)
            | _ ->
                let sp = Factor.spec { Loadings = Factor.drawLoadings 1 d k; Beta = Array.create k 1.0; SigmaNu2 = 1.0 }
                fun () -> FunctionalAsymptotics.Asymptotics.AsymptoticSummary.pretrainMean (FunctionalAsymptotics.Asymptotics.TwoStage.horizontal sp)

    /// The whole horizontal route (weights, `d_eff`, `d_base`).
    [<Benchmark>]
    member _.Horizontal() = run ()

/// The Monte Carlo route at real dimensions (`Model.monteCarloLaw` on the spectral model): the
/// solves, then 20000 pre-training samples projected on the `r` solutions (seed 1, validation off).
type MonteCarloRouteBenchmarks() =
    let mutable run : unit -> float = fun () -> 0.0
    /// `spectral-d-k`.
    [<Params("spectral-50-4", "spectral-100-10", "spectral-200-10")>]
    member val Case = "spectral-50-4" with get, set

    /// Builds the model of the case.
    [<GlobalSetup>]
    member this.Setup() =
        let parts = this.Case.Split('-')
        let model = SpectralModel.create (Spectral.defaultConfig (int parts.[1]) (int parts.[2]) 1.0)
        let options =
            { FunctionalAsymptotics.Asymptotics.SpecLaw.defaultOptions with
                Samples = 20000
                Validation = { FunctionalAsymptotics.Estimation.Validation.defaultOptions with Enabled = false } }
        run <- fun () -> (Model.monteCarloLaw options ignore model).PretrainMean.Value

    /// The whole Monte Carlo route (`E||L(Z)||^2` with its standard error and the weights).
    [<Benchmark>]
    member _.MonteCarlo() = run ()

[<EntryPoint>]
let main argv =
    BenchmarkSwitcher.FromTypes([| typeof<CdfBenchmarks>; typeof<MixedSignCdfBenchmarks>; typeof<SamplingBenchmarks>; typeof<MixtureKernelBench>; typeof<HorizontalRouteBenchmarks>; typeof<MonteCarloRouteBenchmarks>; typeof<KernelThroughput.KernelThroughputBench> |]).Run(argv, inProcessShort) |> ignore
    0
