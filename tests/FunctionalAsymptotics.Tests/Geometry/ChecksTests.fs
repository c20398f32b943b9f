/// Manopt-style Taylor checks: correct derivatives give slopes 2 and 3, wrong ones are caught.
module FunctionalAsymptotics.Tests.Geometry.ChecksTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Tests.Geometry.ManifoldConformanceTests

/// Runs both checks on a random quadratic cost at a random point; returns the two reports.
let runChecks (m: Manifold) (seed: int) (dropWeingarten: bool) =
    let rng = Random(seed)
    let x = m.RandomPoint rng
    let v = m.RandomTangent rng x
    let q = randomQuadratic rng m
    let rgrad = Checks.riemannianGradient m q.Egrad
    let rhess =
        if dropWeingarten then fun (y: Matrix<float>) (u: Matrix<float>) -> m.Project y (q.Ehess y u)
        else Checks.riemannianHessian m q.Egrad q.Ehess
    Checks.checkGradient m q.Cost rgrad x v, Checks.checkHessian m q.Cost rgrad rhess x v

let curved =
    [ Sphere.create 5; Stiefel.create 5 2; Grassmann.create 5 2; FixedRankPsd.create 5 2; FixedRankPsd.create 6 3 ]

let tests =
    testList "Geometry.Checks" [
        for m in curved do
            testCase (m.Name + ": correct gradient and Hessian pass with slopes 2 and 3") (fun () ->
                for seed in 1 .. 5 do
                    let g, h = runChecks m seed false
                    Expect.isTrue g.Passed (sprintf "gradient check, slope %.3f" g.FittedSlope)
                    Expect.isTrue h.Passed (sprintf "Hessian check, slope %.3f" h.FittedSlope)
                    Expect.floatClose Accuracy.low g.FittedSlope 2.0 "gradient slope ~ 2"
                    Expect.isGreaterThan h.FittedSlope 2.9 "Hessian slope ~ 3")
            testCase (m.Name + ": a Hessian without the Weingarten term fails the check") (fun () ->
                let failures =
                    [ for seed in 1 .. 5 -> let _, h = runChecks m seed true in h ]
                    |> List.filter (fun h -> not h.Passed)
                Expect.isGreaterThanOrEqual failures.Length 4 "slope 2, not 3, for most random cases")
        testCase "a wrong gradient fails the gradient check" (fun () ->
            let m = FixedRankPsd.create 5 2
            let rng = Random 7
            let x = m.RandomPoint rng
            let v = m.RandomTangent rng x
            let q = randomQuadratic rng m
            let wrong y = m.EgradToRgrad y (q.Egrad y) * 1.01
            let r = Checks.checkGradient m q.Cost wrong x v
            Expect.isFalse r.Passed (sprintf "slope %.3f" r.FittedSlope)
            Expect.isLessThan r.FittedSlope 1.2 "first-order error gives slope 1")
        testCase "a non-tangent gradient is reported" (fun () ->
            let m = Sphere.create 4
            let rng = Random 3
            let x = m.RandomPoint rng
            let v = m.RandomTangent rng x
            let q = randomQuadratic rng m
            let r = Checks.checkGradient m q.Cost q.Egrad x v
            Expect.isGreaterThan r.TangencyResidual 1e-3 "the Euclidean gradient is not tangent"
            Expect.isFalse r.Passed "so the check fails")
        testCase "Euclidean quadratic: the Hessian check is exact" (fun () ->
            let m = Euclidean.create 3 2
            let _, h = runChecks m 1 false
            Expect.isTrue h.Passed "passes"
            Expect.isTrue (h.Exact || h.FittedSlope > 2.9) "exact or slope 3")
        testCase "report: fitted slopes for FixedRankPsd and Grassmann" (fun () ->
            for m in [ FixedRankPsd.create 5 2; FixedRankPsd.create 6 3; Grassmann.create 5 2; Grassmann.create 6 3 ] do
                for seed in 1 .. 3 do
                    let g, h = runChecks m seed false
                    Expect.isTrue (g.Passed && h.Passed) "correct derivatives pass")
    ]
