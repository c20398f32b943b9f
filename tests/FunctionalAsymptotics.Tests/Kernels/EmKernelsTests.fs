/// The fused EM E-step kernel against its plain-loop reference.
module FunctionalAsymptotics.Tests.Kernels.EmKernelsTests

open System
open Expecto
open FunctionalAsymptotics.Kernels

let private relDiff (a: float) (b: float) = abs (a - b) / max 1.0 (max (abs a) (abs b))

/// `rows` samples of dimension `d` around `k` random centres, packed; padding lanes filled with `padding`.
let private case (rng: Random) rows d k (padding: float) =
    let centres = Array.init (k * d) (fun _ -> 3.0 * (rng.NextDouble() - 0.5))
    let blocked = Array.create (EmKernels.BlockedLength(rows, d)) padding
    for s in 0 .. rows - 1 do
        let c = rng.Next k
        let x = Array.init d (fun r -> centres.[c * d + r] + 2.0 * (rng.NextDouble() - 0.5))
        EmKernels.PackRow(ReadOnlySpan x, s, Span blocked)
    centres, blocked

let tests =
    testList "Kernels.EmKernels" [
        testCase "the SIMD E-step equals its plain-loop reference (log-likelihood, masses, M-step sums)" (fun () ->
            let rng = Random 11
            for (rows, d, k) in [ (1, 1, 2); (7, 3, 2); (8, 20, 4); (37, 5, 3); (1001, 20, 4); (64, 30, 8) ] do
                let centres, blocked = case rng rows d k 0.0
                let s1, m1 = Array.zeroCreate (k * d), Array.zeroCreate k
                let s2, m2 = Array.zeroCreate (k * d), Array.zeroCreate k
                let l1 = EmKernels.EStep(ReadOnlySpan blocked, rows, d, ReadOnlySpan centres, Span s1, Span m1)
                let l2 = EmKernels.EStepReference(ReadOnlySpan blocked, rows, d, ReadOnlySpan centres, Span s2, Span m2)
                let name = sprintf "rows %d, d %d, K %d" rows d k
                Expect.isLessThan (relDiff l1 l2) 1e-12 (name + ": log-likelihood")
                Expect.isLessThan (Array.map2 relDiff s1 s2 |> Array.max) 1e-12 (name + ": sums")
                Expect.isLessThan (Array.map2 relDiff m1 m2 |> Array.max) 1e-12 (name + ": masses")
                Expect.floatClose Accuracy.high (Array.sum m1) (float rows) (name + ": responsibilities sum to one per sample"))

        // Not bit for bit: the vector exp takes its (equally accurate) special-argument path for the whole
        // vector when a padding lane is far out, which moves the real lanes by an ulp.
        testCase "the padding lanes of the last block do not count" (fun () ->
            for k in [ 3; 4 ] do
              for rows in [ 1; 9; 13; 15 ] do
                let centres, zeroPadded = case (Random rows) rows 6 k 0.0
                let _, otherPadded = case (Random rows) rows 6 k 1e3
                let run (b: float[]) =
                    let s, m = Array.zeroCreate (6 * k), Array.zeroCreate k
                    let l = EmKernels.EStep(ReadOnlySpan b, rows, 6, ReadOnlySpan centres, Span s, Span m)
                    l, s, m
                let l1, s1, m1 = run otherPadded
                let l2, s2, m2 = run zeroPadded
                Expect.isLessThan (relDiff l1 l2) 1e-14 (sprintf "K %d, rows %d: log-likelihood" k rows)
                Expect.isLessThan (Array.map2 relDiff s1 s2 |> Array.max) 1e-14 (sprintf "K %d, rows %d: sums" k rows)
                Expect.isLessThan (Array.map2 relDiff m1 m2 |> Array.max) 1e-14 (sprintf "K %d, rows %d: masses" k rows))

        testCase "bad shapes raise an ArgumentException naming the argument" (fun () ->
            let centres, blocked = case (Random 2) 10 4 2 0.0
            let call (sumsLength: int) (massLength: int) (rows: int) () =
                let s, m = Array.zeroCreate sumsLength, Array.zeroCreate massLength
                EmKernels.EStep(ReadOnlySpan blocked, rows, 4, ReadOnlySpan centres, Span s, Span m) |> ignore
            let paramName f = try f (); "" with :? ArgumentException as e -> string e.ParamName
            Expect.equal (paramName (call 7 2 10)) "sums" "sums of the wrong length"
            Expect.equal (paramName (call 8 3 10)) "mass" "mass of the wrong length"
            Expect.equal (paramName (call 8 2 17)) "blocked" "more rows than the buffer holds")
    ]
