namespace FunctionalAsymptotics.Simulation

open System
open FunctionalAsymptotics

/// A `System.Random` whose every draw comes from a replicate's counter-based stream, so that the model
/// generators (written against `System.Random`) draw only from `(seed, n, r)`: `Sample`, `NextDouble`,
/// `Next` and `NextBytes` all read `ReplicateRng`, never the base class's state.
type internal StreamRandom(rng: ReplicateRng) =
    inherit Random(0)
    override _.Sample() = rng.NextDouble()
    override _.NextDouble() = rng.NextDouble()
    override _.Next() = int (rng.NextUInt64() >>> 33)
    override _.Next(maxValue: int) =
        if maxValue < 0 then Check.fail "maxValue" "must be >= 0"
        int (rng.NextDouble() * float maxValue)
    override _.Next(minValue: int, maxValue: int) =
        if maxValue < minValue then Check.fail "maxValue" "must be >= minValue"
        minValue + int (rng.NextDouble() * (float maxValue - float minValue))
    override _.NextBytes(buffer: byte[]) =
        for i in 0 .. buffer.Length - 1 do buffer.[i] <- byte (rng.NextUInt64() >>> 56)
    override this.NextBytes(buffer: Span<byte>) =
        for i in 0 .. buffer.Length - 1 do buffer.[i] <- byte (rng.NextUInt64() >>> 56)
