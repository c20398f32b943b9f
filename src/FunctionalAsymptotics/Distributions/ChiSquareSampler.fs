namespace FunctionalAsymptotics.Distributions

open System
open System.Threading.Tasks
open FunctionalAsymptotics
open FunctionalAsymptotics.Kernels

/// Seeded sampling of `sum_j w_j chi^2_{k_j}(lambda_j)` (independent terms; no offset or scale).
///
/// Construction: `chi^2_k(lambda) = (Z_1 + sqrt lambda)^2 + Z_2^2 + ... + Z_k^2`, with the normals from
/// vectorized Box–Muller over Philox4x32-10 uniforms. For `k > GammaThreshold + 1` the central part
/// `chi^2_{k-1}` is drawn exactly as `2 Gamma((k-1)/2)` by Marsaglia and Tsang's (2000) squeeze-rejection
/// method instead of `k - 1` squares.
///
/// Reproducibility: draw `i` lies in block `b = i / BlockSize`, whose numbers come only from the stream
/// `Rng.stream seed [| b |]`, at positions fixed by the term index and `i mod BlockSize`. So a draw depends
/// only on `(seed, i, law)`: never on the thread count, and `count` draws are a prefix of `count + 1`.
/// Blocks run in parallel. Bits are identical for any thread count. The vectorized path uses only correctly
/// rounded IEEE operations (no fused multiply-add), so it should not depend on the instruction set either;
/// the gamma path (large `k`) calls the platform's `log`, `sin` and `cos`, which may differ in the last bit.
[<RequireQualifiedAccess>]
module ChiSquareSampler =
    /// Draws per block (a multiple of 16); each block has its own stream `(seed, blockIndex)`.
    [<Literal>]
    let BlockSize = 1024

    /// Terms with `k - 1 > GammaThreshold` degrees of freedom draw their central part by Marsaglia–Tsang.
    [<Literal>]
    let GammaThreshold = 32

    /// `Gamma(shape, 1)` for `shape >= 1` by Marsaglia and Tsang (2000), "A simple method for generating
    /// gamma variables", ACM TOMS 26(3), from any source of standard normals `normal` and uniforms on (0, 1)
    /// `uniform` (called in that order, about 1.05 pairs per draw); exact (rejection).
    let inline gammaFrom ([<InlineIfLambda>] normal: unit -> float) ([<InlineIfLambda>] uniform: unit -> float) (shape: float) : float =
        if not (shape >= 1.0) || Double.IsInfinity shape then Check.fail "shape" (sprintf "must be finite and >= 1, got %g" shape)
        let d = shape - 1.0 / 3.0
        let c = 1.0 / sqrt (9.0 * d)
        let mutable result = nan
        while Double.IsNaN result do
            let x = normal ()
            let v = 1.0 + c * x
            if v > 0.0 then
                let v3 = v * v * v
                let u = uniform ()
                let x2 = x * x
                if u < 1.0 - 0.0331 * x2 * x2 || log u < 0.5 * x2 + d * (1.0 - v3 + log v3) then
                    result <- d * v3
        result

    /// `Gamma(shape, 1)` for `shape >= 1` by Marsaglia and Tsang (`gammaFrom`) on the stream `rng`.
    let gamma (rng: RngStream) (shape: float) : float = gammaFrom rng.NextNormal rng.NextDouble shape

    /// Per-thread scratch buffers of one block.
    type private Scratch() =
        member val U1: float[] = Array.zeroCreate BlockSize
        member val U2: float[] = Array.zeroCreate BlockSize
        member val Z1: float[] = Array.zeroCreate BlockSize
        member val Z2: float[] = Array.zeroCreate BlockSize
        member val Acc: float[] = Array.zeroCreate BlockSize

    /// Box–Muller pair `pair` of a block's stream `key`, first `mp` draws, into `s.Z1` and `s.Z2`.
    let private generatePair (simd: bool) (key: uint64) (pair: uint64) (mp: int) (s: Scratch) =
        let u1 = Span<float>(s.U1, 0, mp)
        let u2 = Span<float>(s.U2, 0, mp)
        let z1 = Span<float>(s.Z1, 0, mp)
        let z2 = Span<float>(s.Z2, 0, mp)
        let basePosition = pair * uint64 BlockSize
        if simd then
            Philox.FillUniformSimd(key, basePosition, 0UL, u1)
            Philox.FillUniformSimd(key, basePosition + uint64 (BlockSize / 2), 0UL, u2)
            NormalKernels.BoxMullerSimd(u1, u2, z1, z2)
        else
            Philox.FillUniformReference(key, basePosition, 0UL, u1)
            Philox.FillUniformReference(key, basePosition + uint64 (BlockSize / 2), 0UL, u2)
            NormalKernels.BoxMullerReference(u1, u2, z1, z2)

    let private fillBlock (simd: bool) (seed: uint64) (w: float[]) (k: int[]) (l: float[]) (destination: float[])
                          (block: int) (s: Scratch) =
        let start = block * BlockSize
        let m = min BlockSize (destination.Length - start)
        let mp = (m + 15) / 16 * 16
        let key = Rng.derive seed [| uint64 block |]
        let acc = Span<float>(s.Acc, 0, mp)
        acc.Clear()
        // Normal batches come in Box–Muller pairs: pair q uses uniforms at block positions q*B and q*B + B/2,
        // its cosine half is the next batch and its sine half the one after.
        let mutable pair = 0UL
        let mutable haveSecond = false
        for j in 0 .. w.Length - 1 do
            let useGamma = k.[j] - 1 > GammaThreshold
            let squares = if useGamma then 1 else k.[j]
            let mu = sqrt l.[j]
            for t in 0 .. squares - 1 do
                let z =
                    if haveSecond then
                        haveSecond <- false
                        ReadOnlySpan<float>(s.Z2, 0, mp)
                    else
                        generatePair simd key pair mp s
                        pair <- pair + 1UL
                        haveSecond <- true
                        ReadOnlySpan<float>(s.Z1, 0, mp)
                let shift = if t = 0 then mu else 0.0
                if simd then ChiSquareKernels.WeightedSquaresSimd(z, shift, w.[j], acc)
                else ChiSquareKernels.WeightedSquaresReference(z, shift, w.[j], acc)
            if useGamma then
                let shape = 0.5 * float (k.[j] - 1)
                for i in 0 .. m - 1 do
                    // Its own sub-stream per (term, draw): word 1 + j, draw index in the high half.
                    let rng = RngStream(key, (uint64 i <<< 32) ||| uint64 (j + 1), 0UL)
                    s.Acc.[i] <- s.Acc.[i] + w.[j] * (2.0 * gamma rng shape)
        Array.blit s.Acc 0 destination start m

    let private run (simd: bool) (maxDegreeOfParallelism: int) (seed: uint64) (weights: float[]) (dofs: int[])
                    (noncentralities: float[]) (destination: float[]) =
        if isNull (box weights) then Check.fail "weights" "must not be null"
        if isNull (box dofs) then Check.fail "dofs" "must not be null"
        if isNull (box noncentralities) then Check.fail "noncentralities" "must not be null"
        if isNull (box destination) then Check.fail "destination" "must not be null"
        Check.sameLength "dofs" weights.Length dofs.Length
        Check.sameLength "noncentralities" weights.Length noncentralities.Length
        if maxDegreeOfParallelism < 1 then
            Check.fail "maxDegreeOfParallelism" (sprintf "must be >= 1, got %d" maxDegreeOfParallelism)
        for j in 0 .. dofs.Length - 1 do
            if dofs.[j] < 1 then Check.fail "dofs" (sprintf "must be integers >= 1, but dofs[%d] = %d" j dofs.[j])
            if not (noncentralities.[j] >= 0.0) then
                Check.fail "noncentralities" (sprintf "must be >= 0, but noncentralities[%d] = %g" j noncentralities.[j])
        let blocks = (destination.Length + BlockSize - 1) / BlockSize
        if blocks <= 1 || maxDegreeOfParallelism = 1 then
            let s = Scratch()
            for b in 0 .. blocks - 1 do fillBlock simd seed weights dofs noncentralities destination b s
        else
            let options = ParallelOptions(MaxDegreeOfParallelism = maxDegreeOfParallelism)
            Parallel.For(0, blocks, options, (fun () -> Scratch()),
                         (fun b _ s -> fillBlock simd seed weights dofs noncentralities destination b s; s),
                         (fun _ -> ())) |> ignore

    /// Fills `destination` with independent draws of `sum_j w_j chi^2_{k_j}(lambda_j)` using at most
    /// `maxDegreeOfParallelism` threads. The result does not depend on the thread count.
    let fillWith (maxDegreeOfParallelism: int) (seed: uint64) (weights: float[]) (dofs: int[])
                 (noncentralities: float[]) (destination: float[]) : unit =
        run true maxDegreeOfParallelism seed weights dofs noncentralities destination

    /// Fills `destination` with independent draws of `sum_j w_j chi^2_{k_j}(lambda_j)`; the same seed gives
    /// the same bits whatever the thread count (all cores are used).
    let fill (seed: uint64) (weights: float[]) (dofs: int[]) (noncentralities: float[]) (destination: float[]) : unit =
        run true Environment.ProcessorCount seed weights dofs noncentralities destination

    /// `fill` computed with the plain-loop reference kernels, on one thread (for tests and benchmarks).
    /// Same streams and layout; values agree with `fill` to a few ulps.
    let fillReference (seed: uint64) (weights: float[]) (dofs: int[]) (noncentralities: float[]) (destination: float[]) : unit =
        run false 1 seed weights dofs noncentralities destination
