namespace FunctionalAsymptotics.Distributions

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Kernels

/// A sequential view of one Philox4x32-10 stream (Salmon et al., SC'11): the key fixes the stream, the
/// sub-stream word and a 64-bit block position fix where in it the next numbers come from. Counter-based,
/// so any position of any stream is computed directly, with no shared state between streams.
/// Not thread-safe: use one stream per thread (streams are cheap: two words and a counter).
[<Sealed>]
type RngStream(key: uint64, substream: uint64, position: uint64) =
    let mutable position = position
    let mutable spare = 0UL
    let mutable hasSpare = false
    let mutable spareNormal = 0.0
    let mutable hasSpareNormal = false

    /// A stream at block position 0 of sub-stream 0 of `key`.
    new(key: uint64) = RngStream(key, 0UL, 0UL)
    /// The 64-bit Philox key (the derived seed) of this stream.
    member _.Key = key
    /// The sub-stream word (counter words 2 and 3).
    member _.Substream = substream
    /// The next Philox block this stream will consume (counter words 0 and 1).
    member _.Position = position

    /// 64 uniform random bits (each Philox block gives two; the second is kept for the next call).
    member _.NextUInt64() : uint64 =
        if hasSpare then
            hasSpare <- false
            spare
        else
            let struct (lo, hi) = Philox.Block(key, position, substream)
            position <- position + 1UL
            spare <- hi
            hasSpare <- true
            lo

    /// A uniform double in the open interval (0, 1) (52 random bits, never 0 or 1).
    member this.NextDouble() : float = Philox.ToOpenUnit(this.NextUInt64())

    /// A standard normal deviate (Box–Muller; the second deviate of each pair is kept for the next call).
    member this.NextNormal() : float =
        if hasSpareNormal then
            hasSpareNormal <- false
            spareNormal
        else
            let r = sqrt (-2.0 * log (this.NextDouble()))
            let struct (s, c) = Math.SinCos(2.0 * Math.PI * this.NextDouble())
            spareNormal <- r * s
            hasSpareNormal <- true
            r * c

    /// Fills `destination` with uniforms in (0, 1) by the vectorized bulk generator (layout documented on
    /// `FunctionalAsymptotics.Kernels.Philox`) and advances past the blocks it used. Drops any kept spare.
    member _.FillUniform(destination: Span<float>) : unit =
        Philox.FillUniformSimd(key, position, substream, destination)
        position <- position + Philox.BlocksFor destination.Length
        hasSpare <- false
        hasSpareNormal <- false

/// Counter-based random streams: independent, reproducible streams named by a seed and a path of ids.
/// Later layers give each unit of work its own stream, e.g. replicate `r` at grid point `n` uses
/// `Rng.stream seed [| uint64 n; uint64 r |]`, so results never depend on scheduling or thread count.
[<RequireQualifiedAccess>]
module Rng =
    /// Sub-stream word reserved for key derivation (depth is added); samplers use words below it.
    [<Literal>]
    let DerivationDomain = 0xFFFFFFFF00000000UL

    /// The key of the stream named `(seed, ids.[0], ids.[1], ...)`: starting from `seed`, each id is
    /// absorbed as `key <- low word of Philox_key(position = id, substream = DerivationDomain + depth)`.
    /// An empty path gives `seed` itself. The result is itself a seed (e.g. for `ChiSquareSampler.fill`).
    let derive (seed: uint64) (ids: uint64[]) : uint64 =
        if isNull (box ids) then Check.fail "ids" "must not be null"
        let mutable key = seed
        for depth in 0 .. ids.Length - 1 do
            let struct (lo, _) = Philox.Block(key, ids.[depth], DerivationDomain + uint64 depth)
            key <- lo
        key

    /// The stream named `(seed, ids...)`, at its start. `stream seed [| a; b |]` and `stream seed [| a; c |]`
    /// are independent for `b <> c`, as are streams of different seeds.
    let stream (seed: uint64) (ids: uint64[]) : RngStream = RngStream(derive seed ids)
