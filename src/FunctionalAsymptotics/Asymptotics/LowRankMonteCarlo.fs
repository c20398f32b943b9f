namespace FunctionalAsymptotics.Asymptotics

open System
open System.Threading.Tasks
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Kernels

/// The Monte Carlo route at real dimensions: the score second moments of Theorem 5.1 by seeded
/// sampling, with per-sample directional derivatives along the `r` solutions only. With `G = R^T R` on
/// `Hor(w*)` (`LowRankRoute`), `E||L(Z)||^2 = tr(R V_h R^T) = E||X^T nabla l(w*; z)||^2`, `X = H_h^-1 R^T`
/// (paper eq. (6.1), `V_h = H_h^-1 Sigma_h H_h^-1`), and the weights are the eigenvalues of the r x r matrix
/// `E[s s^T]`, `s = X^T nabla l(w*; z)` (docs/two-stage-engine.md, "The Monte Carlo route at real dimensions").
/// The `r` solves use the model's population Hessian-vector product (`LowRankRoute.trySolve`): only the score
/// second moments, the fourth-moment expectation, are estimated. The projection `s` of a sample's gradient
/// costs `O(q0 r)`; no `q0 x q0` matrix is formed (memory `O(q0 r + d^2 + B r^2)`, `B` batches).
[<RequireQualifiedAccess>]
module LowRankMonteCarlo =

    /// Samples per chunk: a chunk's gradients are projected together (`MixtureKernels.ProjectColumns`).
    let chunkSize = 32

    /// The kernel `MixtureKernels.ProjectColumns` projects on at most this many directions per call.
    let private directionsPerBlock = 64

    /// The seed of chunk `c`'s `System.Random`: Philox stream `(seed, c)` (the samples depend on the seed and
    /// the chunk, not on the thread that draws them).
    let private chunkSeed (seed: int) (chunk: int) =
        int (RngStream(uint64 (uint32 seed), uint64 chunk, 0UL).NextUInt64() >>> 33)

    /// Per-batch sums: `sum s s^T` (row-major r x r, upper triangle), `sum nabla l` (q0), `sum ||nabla l||^2`.
    type private BatchSums =
        { Outer: float[]; Gradient: float[]; mutable SquaredNorm: float; mutable Count: int }

    /// The law by this route, or `None` when it does not apply (`LowRankRoute.trySolve`: a linear-Gaussian
    /// representation with non-singular `Sigma(w*)` and a closed-form population Hessian-vector product).
    /// Pre-training samples come in chunks of `chunkSize`; chunk `c` draws from `Random` seeded by the Philox
    /// stream `(Seed, c)` and goes to batch `c mod B`, so the result depends on the options only, not on the
    /// number of threads (the batches run in parallel). `Samples` and `MaxSamples` are rounded up to whole
    /// chunks, at least one a batch. The estimate of `E||L(Z)||^2` is the mean of `||s||^2`, its standard error
    /// the jackknife over leave-one-batch-out means (the batch-means standard error: `X` is exact, so the
    /// estimate is linear in the samples); the weights are the eigenvalues of the pooled `E[s s^T]`, with
    /// jackknife error bars. With `TargetRelativeError` the sample grows as in `SpecLaw.monteCarlo`.
    /// Validation (`options.Validation`): the specification checks, then `w*` as a critical point
    /// (`||mean nabla l|| <= k se + rounding`, `NotCriticalPointException`); a singular `H_h` raises
    /// `NotIdentifiableException` in the solves. `HessianEigenvalues` of the report is empty (the route forms
    /// no Hessian matrix). `progress` receives short status lines.
    let tryEstimate (options: MonteCarloLawOptions) (progress: string -> unit) (spec: ModelSpec<'Z>) : MonteCarloLaw option =
        SpecLaw.checkOptions options
        let cancel = options.Cancellation
        let vopts = options.Validation
        let specChecks = if vopts.Enabled then Some(Validation.checkSpecification vopts spec) else None
        match LowRankRoute.trySolve cancel progress spec with
        | None -> None
        | Some sol ->
            let w = spec.WStar
            let q0 = w.RowCount * w.ColumnCount
            let r = sol.Solutions.Length
            let bCount = options.Batches
            // X in blocks of at most 64 columns, row-major q0 x c (the kernel's layout).
            let blocks =
                [| for a0 in 0 .. directionsPerBlock .. r - 1 ->
                     let c = min directionsPerBlock (r - a0)
                     let v = Array.zeroCreate (q0 * c)
                     for a in 0 .. c - 1 do
                         let x = Linalg.values sol.Solutions.[a0 + a]
                         for j in 0 .. q0 - 1 do v.[j * c + a] <- x.[j]
                     a0, c, v |]
            let sums = Array.init bCount (fun _ -> { Outer = Array.zeroCreate (r * r); Gradient = Array.zeroCreate q0; SquaredNorm = 0.0; Count = 0 })
            let chunksFor (n: int) = max bCount ((n + chunkSize - 1) / chunkSize)
            let chunks = ref 0
            let runChunk (b: BatchSums) (gT: float[]) (proj: float[]) (bySample: float[]) (c: int) =
                cancel.ThrowIfCancellationRequested()
                let rng = Random(chunkSeed options.Seed c)
                for s in 0 .. chunkSize - 1 do
                    let g = Linalg.values (ModelSpec.gradient spec.Pretraining w (spec.Pretraining.Sample rng))
                    let mutable sq = 0.0
                    for j in 0 .. q0 - 1 do
                        let x = g.[j]
                        gT.[j * chunkSize + s] <- x
                        b.Gradient.[j] <- b.Gradient.[j] + x
                        sq <- sq + x * x
                    b.SquaredNorm <- b.SquaredNorm + sq
                for a0, c, v in blocks do
                    MixtureKernels.ProjectColumns(ReadOnlySpan gT, chunkSize, q0, ReadOnlySpan v, c, Span proj)
                    for a in 0 .. c - 1 do
                        for s in 0 .. chunkSize - 1 do
                            bySample.[s * r + a0 + a] <- proj.[a * chunkSize + s]
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan bySample, chunkSize, r, Span b.Outer)
                b.Count <- b.Count + chunkSize
            let drawTo (target: int) =
                let next = chunksFor target
                if next > chunks.Value then
                    let first = chunks.Value
                    Linalg.withSingleThreadedMathNet (fun () ->
                        try
                            Parallel.For(0, bCount, fun b ->
                                let gT = Array.zeroCreate (q0 * chunkSize)
                                let proj = Array.zeroCreate (directionsPerBlock * chunkSize)
                                let bySample = Array.zeroCreate (chunkSize * r)
                                let start = first + ((b - first % bCount) % bCount + bCount) % bCount
                                for c in start .. bCount .. next - 1 do runChunk sums.[b] gT proj bySample c)
                            |> ignore
                        with :? AggregateException as e when e.InnerExceptions.Count >= 1 ->
                            Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions.[0]).Throw())
                    chunks.Value <- next
            let drawn () = chunks.Value * chunkSize
            let pooled (leave: int) =
                let m = Linalg.zeros r r
                let mutable n = 0
                for b in 0 .. bCount - 1 do
                    if b <> leave then
                        n <- n + sums.[b].Count
                        let o = sums.[b].Outer
                        for i in 0 .. r - 1 do
                            for j in i .. r - 1 do
                                m.[i, j] <- m.[i, j] + o.[i * r + j]
                for i in 0 .. r - 1 do
                    for j in i .. r - 1 do
                        let x = m.[i, j] / float n
                        m.[i, j] <- x
                        m.[j, i] <- x
                m
            let meanEstimate () =
                let traceOf (leave: int) =
                    let mutable t = 0.0
                    let mutable n = 0
                    for b in 0 .. bCount - 1 do
                        if b <> leave then
                            n <- n + sums.[b].Count
                            for i in 0 .. r - 1 do t <- t + sums.[b].Outer.[i * r + i]
                    t / float n
                let est = SpecLaw.jackknife options.Confidence (traceOf -1) (Array.init bCount traceOf)
                progress (sprintf "Monte Carlo: %d samples, E||L(Z)||^2 = %.6g, relative standard error %.3g" (drawn ()) est.Value (est.StandardError / abs est.Value))
                est
            progress (sprintf "Monte Carlo scores along %d directions (%d parameters, %d batches)" r q0 bCount)
            drawTo options.Samples
            let validation =
                specChecks |> Option.map (fun (inv, eqv, ders) ->
                    let n = float (drawn ())
                    let mean = Array.init q0 (fun j -> (sums |> Array.sumBy (fun b -> b.Gradient.[j])) / n)
                    let meanNorm2 = mean |> Array.sumBy (fun x -> x * x)
                    let second = (sums |> Array.sumBy (fun b -> b.SquaredNorm)) / n
                    let se = sqrt (max 0.0 (second - meanNorm2) / n)
                    let threshold = vopts.StandardErrors * se + Validation.roundingThreshold vopts [| sol.HessianScale |] w
                    let gradNorm = Validation.checkCritical (Linalg.ofColumnMajor w.RowCount w.ColumnCount mean) threshold se
                    { Invariance = inv; Equivariance = eqv; Derivatives = ders; GradientNorm = gradNorm; GradientThreshold = threshold
                      GradientStandardError = se; HessianEigenvalues = [||]; SmallestEigenvalueStandardError = Double.NaN })
            let meanEst = SpecLaw.growToTarget options drawn drawTo meanEstimate
            let identity = Linalg.eye r
            let covariance = pooled -1
            let summary =
                { Route = "horizontal (Monte Carlo)"
                  DEff = sol.DEff
                  DBase = sol.DBase
                  Sigma2 = spec.Sigma2
                  Gram = identity
                  Covariance = covariance
                  Weights = TwoStage.weightsOf covariance identity }
            Some(SpecLaw.assemble options summary (fun i -> TwoStage.weightsOf (pooled i) identity) (drawn ()) meanEst validation)
