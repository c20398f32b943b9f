module FunctionalAsymptotics.Tests.Kernels.SamplingKernelsTests

open System
open Expecto
open FsCheck
open FunctionalAsymptotics.Kernels

let private block (c: uint32[]) (k: uint32[]) =
    let mutable c0, c1, c2, c3 = c.[0], c.[1], c.[2], c.[3]
    Philox.Block(&c0, &c1, &c2, &c3, k.[0], k.[1])
    [| c0; c1; c2; c3 |]

let private bits (xs: float[]) = xs |> Array.map BitConverter.DoubleToInt64Bits

/// Pseudo-random test inputs (not the system under test).
let private uniforms (seed: int) (n: int) =
    let r = Random(seed)
    Array.init n (fun _ -> 1e-300 + r.NextDouble() * (1.0 - 2e-16))

let tests =
    testList "Kernels" [
        testList "Philox" [
            // Random123 known-answer vectors (kat_vectors): counter[4] key[2] -> output[4].
            testCase "known answers: zeros" <| fun () ->
                Expect.equal (block [| 0u; 0u; 0u; 0u |] [| 0u; 0u |]) [| 0x6627e8d5u; 0xe169c58du; 0xbc57ac4cu; 0x9b00dbd8u |] ""
            testCase "known answers: all ones" <| fun () ->
                let m = UInt32.MaxValue
                Expect.equal (block [| m; m; m; m |] [| m; m |]) [| 0x408f276du; 0x41c83b0eu; 0xa20bc7c6u; 0x6d5451fdu |] ""
            testCase "known answers: pi digits" <| fun () ->
                Expect.equal (block [| 0x243f6a88u; 0x85a308d3u; 0x13198a2eu; 0x03707344u |] [| 0xa4093822u; 0x299f31d0u |])
                    [| 0xd16cfe09u; 0x94fdccebu; 0x5001e420u; 0x24126ea1u |] ""
            testCase "64-bit block packs the words little-endian" <| fun () ->
                let struct (lo, hi) = Philox.Block(0xa4093822UL ||| (0x299f31d0UL <<< 32), 0x243f6a88UL ||| (0x85a308d3UL <<< 32), 0x13198a2eUL ||| (0x03707344UL <<< 32))
                Expect.equal lo (0xd16cfe09UL ||| (0x94fdccebUL <<< 32)) "low"
                Expect.equal hi (0x5001e420UL ||| (0x24126ea1UL <<< 32)) "high"
            testCase "ToOpenUnit stays inside (0, 1)" <| fun () ->
                Expect.isTrue (Philox.ToOpenUnit 0UL > 0.0) "0 bits"
                Expect.isTrue (Philox.ToOpenUnit UInt64.MaxValue < 1.0) "all bits"
                Expect.equal (Philox.ToOpenUnit UInt64.MaxValue) (1.0 - Philox.HalfUlp) "top"
            testProperty "FillUniformSimd equals the reference bit for bit" <| fun (key: uint64) (position: uint32) (sub: uint64) (len: byte) ->
                let n = int len
                let a = Array.zeroCreate n
                let b = Array.zeroCreate n
                Philox.FillUniformSimd(key, uint64 position, sub, Span a)
                Philox.FillUniformReference(key, uint64 position, sub, Span b)
                bits a = bits b
            testCase "an element does not depend on the fill length" <| fun () ->
                let long = Array.zeroCreate 100
                let short = Array.zeroCreate 37
                Philox.FillUniformSimd(42UL, 7UL, 3UL, Span long)
                Philox.FillUniformSimd(42UL, 7UL, 3UL, Span short)
                Expect.equal (bits short) (bits long.[.. 36]) ""
        ]
        testList "NormalKernels" [
            testCase "BoxMullerSimd agrees with the reference" <| fun () ->
                for n in [ 0; 1; 7; 8; 9; 64; 1000 ] do
                    let u1 = uniforms n n
                    let u2 = uniforms (n + 1000) n
                    let a1, a2 = Array.zeroCreate n, Array.zeroCreate n
                    let b1, b2 = Array.zeroCreate n, Array.zeroCreate n
                    NormalKernels.BoxMullerSimd(ReadOnlySpan u1, ReadOnlySpan u2, Span a1, Span a2)
                    NormalKernels.BoxMullerReference(ReadOnlySpan u1, ReadOnlySpan u2, Span b1, Span b2)
                    for i in 0 .. n - 1 do
                        Expect.floatClose { absolute = 1e-13; relative = 1e-13 } a1.[i] b1.[i] (sprintf "z1[%d], n=%d" i n)
                        Expect.floatClose { absolute = 1e-13; relative = 1e-13 } a2.[i] b2.[i] (sprintf "z2[%d], n=%d" i n)
            testCase "mismatched lengths are rejected" <| fun () ->
                Expect.throwsT<ArgumentException> (fun () ->
                    NormalKernels.BoxMullerReference(ReadOnlySpan(Array.zeroCreate 3), ReadOnlySpan(Array.zeroCreate 2), Span(Array.zeroCreate 3), Span(Array.zeroCreate 3))) ""
        ]
        testList "ChiSquareKernels" [
            testProperty "WeightedSquaresSimd equals the reference bit for bit" <| fun (len: byte) (shift: NormalFloat) (weight: NormalFloat) ->
                let n = int len
                let z = uniforms (n + 7) n |> Array.map (fun u -> 4.0 * u - 2.0)
                let a = uniforms (n + 9) n
                let b = Array.copy a
                ChiSquareKernels.WeightedSquaresSimd(ReadOnlySpan z, shift.Get, weight.Get, Span a)
                ChiSquareKernels.WeightedSquaresReference(ReadOnlySpan z, shift.Get, weight.Get, Span b)
                bits a = bits b
        ]
    ]
