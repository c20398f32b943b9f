/// Mixture SIMD kernels against their plain-loop references.
module FunctionalAsymptotics.Tests.Kernels.MixtureKernelsTests

open System
open Expecto
open FunctionalAsymptotics.Kernels

let tests =
    testList "Kernels.MixtureKernels" [
        testCase "Gram, outer product and softmax equal their plain-loop references" (fun () ->
            let rng = Random 3
            for n in [ 1; 3; 8; 17; 80 ] do
                let v = Array.init n (fun _ -> rng.NextDouble() - 0.5)
                let w = Array.init (n + 5) (fun _ -> rng.NextDouble() - 0.5)
                let g1 = Array.init (n * n) (fun _ -> rng.NextDouble())
                let g2 = Array.copy g1
                MixtureKernels.AccumulateGramUpper(ReadOnlySpan v, Span g1)
                MixtureKernels.AccumulateGramUpperReference(ReadOnlySpan v, Span g2)
                Expect.sequenceEqual (g1 |> Array.map (fun x -> Math.Round(x, 12))) (g2 |> Array.map (fun x -> Math.Round(x, 12))) "gram"
                let c1 = Array.zeroCreate (n * (n + 5))
                let c2 = Array.zeroCreate (n * (n + 5))
                MixtureKernels.AccumulateOuter(ReadOnlySpan v, ReadOnlySpan w, Span c1)
                MixtureKernels.AccumulateOuterReference(ReadOnlySpan v, ReadOnlySpan w, Span c2)
                Expect.isLessThan (Array.map2 (fun a b -> abs (a - b)) c1 c2 |> Array.max) 1e-14 "outer"
                let s1 = v |> Array.map (fun x -> 30.0 * x)
                let s2 = Array.copy s1
                MixtureKernels.SoftmaxInPlace(Span s1)
                MixtureKernels.SoftmaxInPlaceReference(Span s2)
                Expect.isLessThan (Array.map2 (fun a b -> abs (a - b)) s1 s2 |> Array.max) 1e-14 "softmax")
    ]

let blockTests =
    testList "Kernels.MixtureKernels.Block" [
        testCase "blocked Gram and cross kernels equal their plain-loop references" (fun () ->
            let rng = Random 4
            for (rows, n, m) in [ (1, 1, 1); (5, 7, 3); (32, 80, 16); (13, 17, 9) ] do
                let x = Array.init (rows * n) (fun _ -> rng.NextDouble() - 0.5)
                let y = Array.init (rows * m) (fun _ -> rng.NextDouble() - 0.5)
                let g1 = Array.init (n * n) (fun _ -> rng.NextDouble())
                let g2 = Array.copy g1
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, rows, n, Span g1)
                MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, rows, n, Span g2)
                Expect.isLessThan (Array.map2 (fun a b -> abs (a - b)) g1 g2 |> Array.max) 1e-12 "gram block"
                let c1 = Array.init (n * m) (fun _ -> rng.NextDouble())
                let c2 = Array.copy c1
                MixtureKernels.AccumulateCrossBlock(ReadOnlySpan x, ReadOnlySpan y, rows, n, m, Span c1)
                MixtureKernels.AccumulateCrossBlockReference(ReadOnlySpan x, ReadOnlySpan y, rows, n, m, Span c2)
                Expect.isLessThan (Array.map2 (fun a b -> abs (a - b)) c1 c2 |> Array.max) 1e-12 "cross block")
        testCase "blocked Gram: the same bits as the plain loop, upper triangle only, every tile shape" (fun () ->
            let rng = Random 5
            for (rows, n) in [ (0, 5); (1, 1); (3, 3); (7, 4); (9, 5); (256, 16); (256, 17); (31, 17); (40, 80); (5, 12); (300, 36); (130, 57); (3, 104) ] do
                let x = Array.init (rows * n) (fun _ -> rng.NextDouble() - 0.5)
                let g1 = Array.init (n * n) (fun _ -> rng.NextDouble())
                let g2 = Array.copy g1
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, rows, n, Span g1)
                MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, rows, n, Span g2)
                Expect.sequenceEqual g1 g2 (sprintf "rows %d, n %d: same bits, lower triangle untouched" rows n))
        testCase "parallel blocked Gram: the same bits as the single-threaded kernel for any thread count" (fun () ->
            let rng = Random 6
            for (rows, n) in [ (0, 3); (5, 1); (17, 9); (200, 37); (129, 64); (40, 131) ] do
                let x = Array.init (rows * n) (fun _ -> rng.NextDouble() - 0.5)
                let g0 = Array.init (n * n) (fun _ -> rng.NextDouble())
                let single = Array.copy g0
                MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, rows, n, Span single)
                for threads in [ 1; 2; 3 ] do
                    let g = Array.copy g0
                    MixtureKernels.AccumulateGramUpperBlockParallel(x, rows, n, g, threads)
                    Expect.sequenceEqual g single (sprintf "rows %d, n %d, %d threads" rows n threads))
        testCase "blocked Gram: same bits at the panel, group and sample-block edges, lower triangle kept bit for bit" (fun () ->
            // n around multiples of the 8-column panel and of the 3-panel group (q = ceil(n / 8) with q % 3 = 1 takes
            // groups of two), rows around the 128-sample block; the lower triangle holds NaNs of distinct payloads.
            let rng = Random 9
            let bits (a: float[]) = a |> Array.map BitConverter.DoubleToInt64Bits
            for n in [ 2; 7; 8; 9; 15; 24; 25; 31; 32; 33; 40; 48; 49; 56; 57; 63; 97; 240 ] do
                for rows in [ 1; 2; 127; 128; 129; 257 ] do
                    let x = Array.init (rows * n) (fun _ -> rng.NextDouble() - 0.5)
                    let g0 =
                        Array.init (n * n) (fun e ->
                            if e % n >= e / n then rng.NextDouble() else BitConverter.Int64BitsToDouble(0x7FF8000000000000L ||| int64 e))
                    let g1 = Array.copy g0
                    let g2 = Array.copy g0
                    MixtureKernels.AccumulateGramUpperBlock(ReadOnlySpan x, rows, n, Span g1)
                    MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, rows, n, Span g2)
                    Expect.sequenceEqual (bits g1) (bits g2) (sprintf "rows %d, n %d" rows n)
                    for threads in [ 2; 3 ] do
                        let g = Array.copy g0
                        MixtureKernels.AccumulateGramUpperBlockParallel(x, rows, n, g, threads)
                        Expect.sequenceEqual (bits g) (bits g2) (sprintf "rows %d, n %d, %d threads" rows n threads))
        testProperty "blocked Gram on 1, 2 and 3 threads: the plain loop's bits for any shape" <| fun (rowsSeed: byte) (nSeed: byte) (seed: int) ->
            let rows, n = int rowsSeed % 150, 1 + int nSeed % 70
            let rng = Random seed
            let x = Array.init (rows * n) (fun _ -> rng.NextDouble() - 0.5)
            let g0 = Array.init (n * n) (fun _ -> rng.NextDouble())
            let expected = Array.copy g0
            MixtureKernels.AccumulateGramUpperBlockReference(ReadOnlySpan x, rows, n, Span expected)
            [ 1; 2; 3 ]
            |> List.forall (fun threads ->
                let g = Array.copy g0
                MixtureKernels.AccumulateGramUpperBlockParallel(x, rows, n, g, threads)
                Array.map BitConverter.DoubleToInt64Bits g = Array.map BitConverter.DoubleToInt64Bits expected)
        testCase "batched projections equal their plain-loop reference" (fun () ->
            let rng = Random 8
            for (rows, d, c) in [ (1, 1, 1); (7, 20, 6); (8, 3, 2); (256, 20, 6); (37, 9, 13) ] do
                let xT = Array.init (d * rows) (fun _ -> rng.NextDouble() - 0.5)
                let v = Array.init (d * c) (fun _ -> rng.NextDouble() - 0.5)
                let p1 = Array.zeroCreate (c * rows)
                let p2 = Array.zeroCreate (c * rows)
                MixtureKernels.ProjectColumns(ReadOnlySpan xT, rows, d, ReadOnlySpan v, c, Span p1)
                MixtureKernels.ProjectColumnsReference(ReadOnlySpan xT, rows, d, ReadOnlySpan v, c, Span p2)
                Expect.isLessThan (Array.map2 (fun a b -> abs (a - b)) p1 p2 |> Array.max) 1e-14 (sprintf "rows %d, d %d, c %d" rows d c))
    ]
