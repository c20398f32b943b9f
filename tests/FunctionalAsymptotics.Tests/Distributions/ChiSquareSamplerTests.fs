module FunctionalAsymptotics.Tests.Distributions.ChiSquareSamplerTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Asymptotics

let private bits (xs: float[]) = xs |> Array.map BitConverter.DoubleToInt64Bits

/// Fourth cumulant of `c + s sum w_j chi^2_{k_j}(lambda_j)`: `48 s^4 sum w^4 (k + 4 lambda)`.
let private kappa4 (q: GeneralizedChiSquare) =
    let w, k, l = q.Weights, q.Dofs, q.Noncentralities
    48.0 * q.Scale ** 4.0 * Array.sum (Array.init w.Length (fun j -> w.[j] ** 4.0 * (float k.[j] + 4.0 * l.[j])))

/// Sample mean and variance within `z` standard errors of the law's.
let private checkMoments (name: string) (q: GeneralizedChiSquare) (n: int) (seed: uint64) =
    let xs = GeneralizedChiSquare.sample seed n q
    let mean = Array.average xs
    let var = (xs |> Array.sumBy (fun x -> (x - mean) ** 2.0)) / float (n - 1)
    let seMean = sqrt (q.Variance / float n)
    let seVar = sqrt ((kappa4 q + 2.0 * q.Variance ** 2.0) / float n)
    let z = 5.0
    Expect.isLessThan (abs (mean - q.Mean)) (z * seMean) (sprintf "%s: mean %g vs %g (se %g)" name mean q.Mean seMean)
    Expect.isLessThan (abs (var - q.Variance)) (z * seVar) (sprintf "%s: variance %g vs %g (se %g)" name var q.Variance seVar)

let tests =
    testList "ChiSquareSampler" [
        testList "Rng" [
            testCase "derive: an empty path is the seed, ids and order matter" <| fun () ->
                Expect.equal (Rng.derive 17UL [||]) 17UL "empty"
                let keys =
                    [ Rng.derive 17UL [| 1UL |]; Rng.derive 17UL [| 2UL |]; Rng.derive 18UL [| 1UL |]
                      Rng.derive 17UL [| 1UL; 2UL |]; Rng.derive 17UL [| 2UL; 1UL |]; Rng.derive 17UL [| 1UL; 0UL |] ]
                Expect.equal (List.distinct keys).Length keys.Length "distinct keys"
            testCase "streams are reproducible" <| fun () ->
                let a = Rng.stream 5UL [| 3UL; 4UL |]
                let b = Rng.stream 5UL [| 3UL; 4UL |]
                for _ in 1 .. 100 do Expect.equal (a.NextUInt64()) (b.NextUInt64()) ""
            testCase "uniforms and normals have the right first two moments" <| fun () ->
                let s = Rng.stream 99UL [| 1UL |]
                let n = 200_000
                let u = Array.init n (fun _ -> s.NextDouble())
                Expect.isTrue (u |> Array.forall (fun x -> x > 0.0 && x < 1.0)) "open interval"
                Expect.floatClose { absolute = 5.0 * sqrt (1.0 / 12.0 / float n); relative = 0.0 } (Array.average u) 0.5 "uniform mean"
                let z = Array.init n (fun _ -> s.NextNormal())
                Expect.floatClose { absolute = 5.0 / sqrt (float n); relative = 0.0 } (Array.average z) 0.0 "normal mean"
                Expect.floatClose { absolute = 5.0 * sqrt (2.0 / float n); relative = 0.0 } (z |> Array.averageBy (fun x -> x * x)) 1.0 "normal variance"
            testCase "bulk uniforms match their moments too" <| fun () ->
                let s = Rng.stream 3UL [||]
                let u = Array.zeroCreate 100_000
                s.FillUniform(Span u)
                Expect.floatClose { absolute = 5.0 * sqrt (1.0 / 12.0 / 1e5); relative = 0.0 } (Array.average u) 0.5 ""
            testCase "Marsaglia–Tsang gamma has mean and variance = shape" <| fun () ->
                let s = Rng.stream 11UL [||]
                let shape = 20.5
                let n = 100_000
                let g = Array.init n (fun _ -> ChiSquareSampler.gamma s shape)
                let m = Array.average g
                Expect.floatClose { absolute = 5.0 * sqrt (shape / float n); relative = 0.0 } m shape "mean"
                let v = g |> Array.averageBy (fun x -> (x - m) ** 2.0)
                Expect.floatClose { absolute = 5.0 * sqrt ((6.0 * shape + 2.0 * shape * shape) / float n); relative = 0.0 } v shape "variance"
        ]
        testList "fill" [
            let w = [| 2.0; -0.5; 1.0; 0.25 |]
            let k = [| 1; 3; 40; 1 |]
            let l = [| 0.0; 1.5; 2.0; 0.0 |]
            let draw threads count =
                let d = Array.zeroCreate count
                ChiSquareSampler.fillWith threads 123UL w k l d
                d
            testCase "same seed, same bits" <| fun () ->
                Expect.equal (bits (draw 2 5000)) (bits (draw 2 5000)) ""
            testCase "any thread count gives the same bits" <| fun () ->
                let one = bits (draw 1 10_000)
                for t in [ 2; 3; 8 ] do Expect.equal (bits (draw t 10_000)) one (sprintf "%d threads" t)
            testCase "different seeds differ" <| fun () ->
                let a = draw 2 100
                let b = Array.zeroCreate 100
                ChiSquareSampler.fillWith 2 124UL w k l b
                Expect.notEqual (bits a) (bits b) ""
            testCase "count draws are a prefix of more draws" <| fun () ->
                Expect.equal (bits (draw 2 1500)) (bits (draw 2 3000)).[.. 1499] ""
            testCase "SIMD and reference kernels agree" <| fun () ->
                let a = draw 2 2500
                let b = Array.zeroCreate 2500
                ChiSquareSampler.fillReference 123UL w k l b
                for i in 0 .. a.Length - 1 do
                    Expect.floatClose { absolute = 1e-10; relative = 1e-10 } a.[i] b.[i] (sprintf "draw %d" i)
            testCase "empty destination is fine" <| fun () -> Expect.equal (draw 2 0) [||] ""
            testCase "bad inputs raise InvalidArgumentException" <| fun () ->
                Expect.throwsT<DimensionMismatchException> (fun () -> ChiSquareSampler.fill 1UL [| 1.0 |] [| 1; 1 |] [| 0.0 |] (Array.zeroCreate 3)) "lengths"
                Expect.throwsT<InvalidArgumentException> (fun () -> ChiSquareSampler.fill 1UL [| 1.0 |] [| 0 |] [| 0.0 |] (Array.zeroCreate 3)) "dof"
        ]
        testList "moments" [
            testCase "central chi^2_1 terms, 100 weights" <| fun () ->
                checkMoments "central" (GeneralizedChiSquare.ofWeights (Array.init 100 (fun j -> 1.0 / float (j + 1)))) 200_000 1UL
            testCase "mixed signs, dofs, noncentralities, offset and scale" <| fun () ->
                let q = GeneralizedChiSquare.create [| 2.0; -0.5; 1.0; 0.25 |] [| 1; 3; 40; 2 |] [| 0.0; 1.5; 2.0; 7.0 |] -3.0 0.5
                checkMoments "mixed" q 200_000 2UL
            testCase "large degrees of freedom (gamma path)" <| fun () ->
                checkMoments "gamma" (GeneralizedChiSquare.create [| 1.0; 0.1 |] [| 200; 1000 |] [| 3.0; 0.0 |] 0.0 1.0) 100_000 3UL
            testCase "LimitLaw.sample has the law's mean and variance" <| fun () ->
                let law = LimitLaw.create 0.5 3 2.0 [| 1.0; 0.5; 0.0; 0.25 |]
                let xs = LimitLaw.sample 4UL 200_000 law
                let m = Array.average xs
                Expect.floatClose { absolute = 5.0 * sqrt (law.Variance / 2e5); relative = 0.0 } m law.Mean "mean"
            testCase "a point-mass LimitLaw samples its constant" <| fun () ->
                let law = LimitLaw.create 0.5 3 2.0 [| 0.0 |]
                Expect.equal (LimitLaw.sample 4UL 3 law) [| 1.5; 1.5; 1.5 |] ""
        ]
    ]
