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

        testCase "fused EvaluateOnContour equals the plain-loop reference (1e-12 relative), 1 to 1000 terms, both signs of 1 - 2 w sRe" <| fun () ->
            let rng = Random(20261204)
            for n in [ 1; 2; 7; 8; 9; 16; 31; 64; 250; 1000 ] do
                for _ in 1 .. 20 do
                    let w = Array.init n (fun _ -> (if rng.NextDouble() < 0.4 then -1.0 else 1.0) * Math.Exp(6.0 * rng.NextDouble() - 3.0))
                    let h = Array.init n (fun _ -> 0.5 * float (rng.Next(1, 6)))
                    let l = Array.init n (fun _ -> if rng.NextDouble() < 0.5 then 0.0 else 3.0 * rng.NextDouble())
                    // Off the real axis any sRe is allowed (bent contours pass beyond the branch points).
                    let sRe = 4.0 * rng.NextDouble() - 2.0
                    let t = Math.Exp(6.0 * rng.NextDouble() - 3.0)
                    for nc in [ true; false ] do
                        let l = if nc then l else Array.zeroCreate n
                        let mutable re = 0.0
                        let mutable im = 0.0
                        CumulantKernels.EvaluateOnContour(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, sRe, t, nc, &re, &im)
                        let mutable rr = 0.0
                        let mutable ri = 0.0
                        CumulantKernels.EvaluateReference(ReadOnlySpan w, ReadOnlySpan h, ReadOnlySpan l, sRe, t, &rr, &ri)
                        let scale = 1.0 + (Array.map2 (fun hj wj -> hj * (abs (Math.Log(abs (1.0 - 2.0 * wj * sRe) + 2.0 * abs wj * t)) + Math.PI)) h w |> Array.sum) + Array.sum l
                        Expect.isLessThanOrEqual (abs (re - rr)) (1e-12 * scale) (sprintf "re, n = %d, sRe = %g, t = %g" n sRe t)
                        Expect.isLessThanOrEqual (abs (im - ri)) (1e-12 * scale) (sprintf "im, n = %d, sRe = %g, t = %g" n sRe t)

        testCase "LogProductOnContour equals the sums of logarithms and principal arguments, windings included (1 to 1000 terms, both half-planes)" <| fun () ->
            let rng = Random(20261205)
            for n in [ 1; 2; 7; 8; 9; 15; 16; 17; 31; 64; 250; 1000 ] do
                for _ in 1 .. 20 do
                    let w = Array.init n (fun _ -> (if rng.NextDouble() < 0.4 then -1.0 else 1.0) * Math.Exp(6.0 * rng.NextDouble() - 3.0))
                    // Any sRe off the real axis (the factors' real parts of both signs); t up to 1e4 (the
                    // arguments' sum far beyond 2 pi in size), and t = 0 (real factors, inside the strip).
                    let sRe, t =
                        if rng.NextDouble() < 0.1 then 0.0, 0.0
                        else 4.0 * rng.NextDouble() - 2.0, Math.Exp(13.0 * rng.NextDouble() - 4.0)
                    let mutable lm = 0.0
                    let mutable arg = 0.0
                    CumulantKernels.LogProductOnContour(ReadOnlySpan w, sRe, t, &lm, &arg)
                    let zs = w |> Array.map (fun v -> 1.0 - 2.0 * v * sRe, -2.0 * v * t)
                    let refLog = zs |> Array.sumBy (fun (a, b) -> 0.5 * Math.Log(a * a + b * b))
                    let refArg = zs |> Array.sumBy (fun (a, b) -> Math.Atan2(b + 0.0, a))
                    let scale = 1.0 + (zs |> Array.sumBy (fun (a, b) -> abs (0.5 * Math.Log(a * a + b * b)) + Math.PI))
                    Expect.isLessThanOrEqual (abs (lm - refLog)) (1e-13 * scale) (sprintf "log, n = %d, sRe = %g, t = %g" n sRe t)
                    Expect.isLessThanOrEqual (abs (arg - refArg)) (1e-13 * scale) (sprintf "arg, n = %d, sRe = %g, t = %g: %.17g vs %.17g" n sRe t arg refArg)

        testCase "LogProductOnContourBatch at eight points equals LogProductOnContour at each (1 to 1000 terms)" <| fun () ->
            let rng = Random(20261206)
            for n in [ 1; 2; 3; 8; 17; 50; 1000 ] do
                for _ in 1 .. 10 do
                    let w = Array.init n (fun _ -> (if rng.NextDouble() < 0.4 then -1.0 else 1.0) * Math.Exp(6.0 * rng.NextDouble() - 3.0))
                    let sRe = Array.init 8 (fun p -> if p = 7 then 0.0 else 4.0 * rng.NextDouble() - 2.0)
                    let t = Array.init 8 (fun p -> if p = 7 then 0.0 else Math.Exp(13.0 * rng.NextDouble() - 4.0))
                    let lm = Array.zeroCreate 8
                    let arg = Array.zeroCreate 8
                    CumulantKernels.LogProductOnContourBatch(ReadOnlySpan w, ReadOnlySpan sRe, ReadOnlySpan t, Span lm, Span arg)
                    for p in 0 .. 7 do
                        let mutable l1 = 0.0
                        let mutable a1 = 0.0
                        CumulantKernels.LogProductOnContour(ReadOnlySpan w, sRe.[p], t.[p], &l1, &a1)
                        let scale = 1.0 + float n * (Math.PI + abs (Math.Log(1.0 + 2.0 * (abs sRe.[p] + t.[p]) * 20.1)))
                        Expect.isLessThanOrEqual (abs (lm.[p] - l1)) (1e-13 * scale) (sprintf "log, n = %d, point %d" n p)
                        Expect.isLessThanOrEqual (abs (arg.[p] - a1)) (1e-13 * scale) (sprintf "arg, n = %d, point %d" n p)
            Expect.throwsT<ArgumentException> (fun () ->
                CumulantKernels.LogProductOnContourBatch(ReadOnlySpan [| 1.0 |], ReadOnlySpan(Array.zeroCreate 7), ReadOnlySpan(Array.zeroCreate 8), Span(Array.zeroCreate 8), Span(Array.zeroCreate 8))) "seven points"

        testCase "vectorised atan2 is within 2 ulps of Math.Atan2 in all four quadrants and on the axes" <| fun () ->
            let rng = Random(7)
            let pick () =
                match rng.Next 6 with
                | 0 -> 0.0
                | 1 -> -0.0 + (if rng.Next 2 = 0 then 1.0 else -1.0) * Math.Exp(40.0 * rng.NextDouble() - 20.0)
                | _ -> (if rng.Next 2 = 0 then 1.0 else -1.0) * Math.Exp(10.0 * rng.NextDouble() - 5.0)
            let n = 20_003
            let y = Array.init n (fun _ -> pick ())
            let x = Array.init n (fun i -> let v = pick () in if v = 0.0 && y.[i] = 0.0 then 1.0 else v)
            // Ratios at the reduction's switch point (0.66) and at 1.
            for i in 0 .. 99 do
                x.[i] <- 1.0
                y.[i] <- (if i % 2 = 0 then 0.66 else 1.0) * (1.0 + float (i - 50) * 1e-15)
            let d = Array.zeroCreate n
            CumulantKernels.Atan2(ReadOnlySpan y, ReadOnlySpan x, Span d)
            for i in 0 .. n - 1 do
                let e = Math.Atan2(y.[i], x.[i])
                Expect.isLessThanOrEqual (abs (d.[i] - e)) (2.0 * Math.BitIncrement(abs e) - 2.0 * abs e + 1e-300) (sprintf "atan2(%g, %g): %.17g vs %.17g" y.[i] x.[i] d.[i] e)

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
