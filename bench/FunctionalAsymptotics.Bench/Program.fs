module FunctionalAsymptotics.Bench.Program

open System
open BenchmarkDotNet.Attributes
open BenchmarkDotNet.Configs
open BenchmarkDotNet.Jobs
open BenchmarkDotNet.Running
open BenchmarkDotNet.Toolchains.InProcess.Emit
open FunctionalAsymptotics.Kernels
open FunctionalAsymptotics.Models

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
    let config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    BenchmarkSwitcher.FromTypes([| typeof<MixtureKernelBench> |]).Run(argv, config) |> ignore
    0
