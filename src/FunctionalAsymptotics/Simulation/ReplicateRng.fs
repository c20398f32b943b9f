namespace FunctionalAsymptotics.Simulation

open System

/// A small sequential random stream for one replicate: xoshiro256** (Blackman and Vigna, 2018) keyed by a
/// SplitMix64 hash of `(seed, n, r)`. Counter-free but stateless across replicates: the stream of replicate
/// `r` at grid point `n` depends only on `(seed, n, r)`, so results do not depend on the thread count or on
/// how the replicates are split into shards. Not thread-safe: one stream per replicate.
[<Sealed>]
type ReplicateRng internal (s0: uint64, s1: uint64, s2: uint64, s3: uint64) =
    let mutable s0 = s0
    let mutable s1 = s1
    let mutable s2 = s2
    let mutable s3 = s3
    let mutable spareNormal = 0.0
    let mutable hasSpareNormal = false
    // FillNormal's uniforms and normals (u1, u2, z1, z2; 256 each), allocated on its first call.
    let mutable fillScratch : float[][] = [||]

    static member inline private Rotl(x: uint64, k: int) = (x <<< k) ||| (x >>> (64 - k))

    /// 64 uniform random bits.
    member _.NextUInt64() : uint64 =
        let result = ReplicateRng.Rotl(s1 * 5UL, 7) * 9UL
        let t = s1 <<< 17
        s2 <- s2 ^^^ s0
        s3 <- s3 ^^^ s1
        s1 <- s1 ^^^ s2
        s0 <- s0 ^^^ s3
        s2 <- s2 ^^^ t
        s3 <- ReplicateRng.Rotl(s3, 45)
        result

    /// A uniform double in the open interval (0, 1): `(top 53 bits + 1/2) * 2^-53`, never 0 or 1.
    member this.NextDouble() : float =
        (float (this.NextUInt64() >>> 11) + 0.5) * (1.0 / 9007199254740992.0)

    /// A standard normal draw (Box–Muller; the second normal of each pair is kept for the next call).
    member this.NextNormal() : float =
        if hasSpareNormal then
            hasSpareNormal <- false
            spareNormal
        else
            let radius = sqrt (-2.0 * log (this.NextDouble()))
            let angle = 2.0 * Math.PI * this.NextDouble()
            spareNormal <- radius * sin angle
            hasSpareNormal <- true
            radius * cos angle

    /// `NextDouble` into `u.[0 .. count - 1]`, with the state in locals (the same numbers, fewer memory round trips).
    /// The xoshiro step is written out again on purpose: a shared helper taking the fields by reference ran 3x slower.
    member private _.FillUniform(u: float[], count: int) =
        let mutable a = s0
        let mutable b = s1
        let mutable c = s2
        let mutable e = s3
        for i in 0 .. count - 1 do
            let result = ReplicateRng.Rotl(b * 5UL, 7) * 9UL
            let t = b <<< 17
            c <- c ^^^ a
            e <- e ^^^ b
            b <- b ^^^ c
            a <- a ^^^ e
            c <- c ^^^ t
            e <- ReplicateRng.Rotl(e, 45)
            u.[i] <- (float (result >>> 11) + 0.5) * (1.0 / 9007199254740992.0)
        s0 <- a
        s1 <- b
        s2 <- c
        s3 <- e

    /// Fills `destination` with standard normal draws, in chunks of at most 512: for a chunk of length `c`,
    /// `h = ceil(c / 2)` uniforms `u1` then `h` uniforms `u2` (`NextDouble`), and the vectorised Box–Muller
    /// transform `Kernels.NormalKernels.BoxMullerSimd` writes `r cos(2 pi u2)` into the first `h` places and
    /// `r sin(2 pi u2)` into the rest (`r = sqrt(-2 log u1)`; for odd `c` the last sine is dropped).
    /// Several times faster than `NextNormal` per draw; does not touch `NextNormal`'s kept spare.
    member this.FillNormal(destination: Span<float>) : unit =
        if fillScratch.Length = 0 then fillScratch <- Array.init 4 (fun _ -> Array.zeroCreate 256)
        let u1, u2, z1, z2 = fillScratch.[0], fillScratch.[1], fillScratch.[2], fillScratch.[3]
        let mutable start = 0
        while start < destination.Length do
            let c = min 512 (destination.Length - start)
            let h = (c + 1) / 2
            this.FillUniform(u1, h)
            this.FillUniform(u2, h)
            FunctionalAsymptotics.Kernels.NormalKernels.BoxMullerSimd(
                ReadOnlySpan(u1, 0, h), ReadOnlySpan(u2, 0, h), Span(z1, 0, h), Span(z2, 0, h))
            Span(z1, 0, h).CopyTo(destination.Slice(start, h))
            Span(z2, 0, c - h).CopyTo(destination.Slice(start + h, c - h))
            start <- start + c

/// Derivation of the per-replicate streams. This is the one function to swap for the Philox
/// `Rng.stream seed [| n; r |]` once the counter-based generator is available.
[<RequireQualifiedAccess>]
module ReplicateStreams =
    /// The SplitMix64 output function (Steele, Lea and Flood, 2014): a bijective 64-bit mixer.
    let mix (z: uint64) : uint64 =
        let z = (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)

    /// The golden-ratio increment of SplitMix64.
    [<Literal>]
    let Gamma = 0x9E3779B97F4A7C15UL

    /// The stream of replicate `r` at downstream sample size `n` for the run seed `seed`: the key
    /// `mix(mix(mix(seed) + n * Gamma) + r * Gamma)`, expanded by SplitMix64 into the xoshiro256** state.
    let derive (seed: uint64) (n: int) (r: int) : ReplicateRng =
        let key = mix (mix (mix seed + uint64 n * Gamma) + uint64 r * Gamma)
        let next i = mix (key + uint64 (i + 1) * Gamma)
        ReplicateRng(next 0, next 1, next 2, next 3)
