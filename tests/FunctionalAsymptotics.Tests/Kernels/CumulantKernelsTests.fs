module FunctionalAsymptotics.Tests.Kernels.CumulantKernelsTests

open System
open Expecto
open FunctionalAsymptotics.Kernels

/// The SIMD kernel against its plain-loop reference, on random terms and points of the strip.
let tests =
    testList "Kernels.CumulantKernels" [
        testCase "SIMD Evaluate/EvaluateAt equal the plain-loop reference (1e-12 relative), 1 to 1000 terms" <| fun () ->
            let rng = Random(20261128)
            for n in [ 1; 2; 3; 7; 8; 9; 16; 31; 64; 250; 1000 ] do
                for _ in 1 .. 20 do
                    let w = Array.init n (fun _ -> (if rng.NextDouble() < 0.3 then -1.0 else 1.0) * Math.Exp(4.0 * rng.NextDouble() - 2.0))
                    let h = Array.init n (fun _ -> 0.5 * float (rng.Next(1, 6)))
                    let l = Array.init n (fun _ -> if rng.NextDouble() < 0.5 then 0.0 else 3.0 * rng.NextDouble())
                    let hi = w |> Array.filter (fun v -> v > 0.0) |> Array.fold (fun acc v -> min acc (0.5 / v)) 1e3
                    let lo = w |> Array.filter (fun v -> v < 0.0) |> Array.fold (fun acc v -> max acc (0.5 / v)) -1e3
                    let c = lo + (hi - lo) * (0.05 + 0.9 * rng.NextDouble())
                    let t = Math.Exp(6.0 * rng.NextDouble() - 3.0)
                    let a = w |> Array.map (fun v -> 1.0 - 2.0 * v * c)
                    let wc = w |> Array.map (fun v -> v * c)
                    let w2 = w |> Array.map (fun v -> v * v)
                    let scratch = Array.zeroCreate (5 * n)
                    let mutable re = 0.0
                    let mutable im = 0.0
                    CumulantKernels.Evaluate(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, ReadOnlySpan a, ReadOnlySpan wc, ReadOnlySpan w2, c, t, true, Span scratch, &re, &im)
                    let mutable re2 = 0.0
                    let mutable im2 = 0.0
                    CumulantKernels.EvaluateAt(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, ReadOnlySpan w2, c, t, true, Span scratch, &re2, &im2)
                    let mutable rr = 0.0
                    let mutable ri = 0.0
                    CumulantKernels.EvaluateReference(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, c, t, &rr, &ri)
                    let scale = 1.0 + (Array.map2 (fun hj aj -> hj * abs (Math.Log(abs aj + 2.0 * t))) h a |> Array.sum) + Array.sum l
                    for (x, y, what) in [ re, rr, "re"; im, ri, "im"; re2, rr, "re (EvaluateAt)"; im2, ri, "im (EvaluateAt)" ] do
                        Expect.isLessThanOrEqual (abs (x - y)) (1e-12 * scale) (sprintf "%s, n = %d, c = %g, t = %g" what n c t)

        testCase "central terms: the noncentral switch only skips zeros" <| fun () ->
            let w = [| 0.5; 1.5; -0.25 |]
            let h = [| 0.5; 1.0; 1.5 |]
            let l = [| 0.0; 0.0; 0.0 |]
            let c, t = 0.1, 0.7
            let a = w |> Array.map (fun v -> 1.0 - 2.0 * v * c)
            let wc = w |> Array.map (fun v -> v * c)
            let w2 = w |> Array.map (fun v -> v * v)
            let scratch = Array.zeroCreate 15
            let mutable re1 = 0.0
            let mutable im1 = 0.0
            let mutable re2 = 0.0
            let mutable im2 = 0.0
            CumulantKernels.Evaluate(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, ReadOnlySpan a, ReadOnlySpan wc, ReadOnlySpan w2, c, t, false, Span scratch, &re1, &im1)
            CumulantKernels.Evaluate(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, ReadOnlySpan a, ReadOnlySpan wc, ReadOnlySpan w2, c, t, true, Span scratch, &re2, &im2)
            Expect.equal (re1, im1) (re2, im2) "same values"

        testCase "mismatched lengths and short scratch are rejected" <| fun () ->
            let w = [| 1.0; 2.0 |]
            Expect.throwsT<ArgumentException> (fun () ->
                let mutable re = 0.0
                let mutable im = 0.0
                CumulantKernels.EvaluateAt(ReadOnlySpan w, ReadOnlySpan [| 0.5 |], ReadOnlySpan [| 0.0; 0.0 |], ReadOnlySpan [| 1.0; 4.0 |], 0.0, 1.0, false, Span(Array.zeroCreate 10), &re, &im)) "length"
            Expect.throwsT<ArgumentException> (fun () ->
                let mutable re = 0.0
                let mutable im = 0.0
                CumulantKernels.EvaluateAt(ReadOnlySpan w, ReadOnlySpan [| 0.5; 0.5 |], ReadOnlySpan [| 0.0; 0.0 |], ReadOnlySpan [| 1.0; 4.0 |], 0.0, 1.0, false, Span(Array.zeroCreate 3), &re, &im)) "scratch"
    ]
