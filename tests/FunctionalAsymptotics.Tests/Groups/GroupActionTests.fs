/// Group actions: rho is a homomorphism into O(p), vertical and horizontal spaces are orthogonal
/// complements, and alignment is optimal within the orbit.
module FunctionalAsymptotics.Tests.Groups.GroupActionTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

let config = { FsCheckConfig.defaultConfig with maxTest = 200 }

let actions =
    [ GroupAction.orthogonalLeft 3 5
      GroupAction.orthogonalRight 6 2
      GroupAction.orthogonalLeft 1 4
      GroupAction.permutationBlocks 3 4 4 ]

let randomPoint (a: GroupAction) (rng: Random) = Linalg.randn rng a.PointRows a.PointCols

let suite (a: GroupAction) =
    testList a.Name [
        testPropertyWithConfig config "rho is a homomorphism into orthogonal matrices; Act is a left action" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let g = a.RandomElement rng
            let h = a.RandomElement rng
            let w = randomPoint a rng
            Expect.isLessThan (a.ElementResidual g) 1e-10 "random elements are group elements"
            Expect.isLessThan (Linalg.norm (a.Rho (g * h) - a.Rho g * a.Rho h)) 1e-10 "rho(gh) = rho(g) rho(h)"
            let rg = a.Rho g
            Expect.equal rg.RowCount a.FeatureDimension "rho(g) is p x p"
            Expect.isLessThan (Linalg.norm (rg.TransposeThisAndMultiply rg - Linalg.eye rg.RowCount)) 1e-10 "rho(g) orthogonal"
            Expect.isLessThan (Linalg.norm (a.Act (g * h) w - a.Act g (a.Act h w))) 1e-10 "(gh).w = g.(h.w)"
            Expect.isLessThan (Linalg.norm (a.Act (Linalg.eye a.ElementSize) w - w)) 1e-14 "e.w = w")

        testPropertyWithConfig config "vertical and horizontal spaces are orthogonal complements" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let w = randomPoint a rng
            let ver = GroupAction.verticalBasis a w
            let hor = GroupAction.horizontalBasis a w
            let q0 = a.PointRows * a.PointCols
            Expect.equal (ver.Length + hor.Length) q0 "dimensions add up"
            Expect.equal ver.Length a.Generators.Length "free action at a generic point: dim Ver = dim G"
            for v in ver do
                for h in hor do
                    Expect.isLessThan (abs (Linalg.inner v h)) 1e-10 "Ver _|_ Hor"
            // the vertical space is the orbit's tangent: d/dt exp(t xi).w
            for xi in a.Generators do
                let t = 1e-6
                let fd = (a.Act (Linalg.expm (xi * t)) w - a.Act (Linalg.expm (xi * -t)) w) / (2.0 * t)
                Expect.isLessThan (Linalg.norm (fd - a.Infinitesimal xi w)) 1e-6 "infinitesimal action"
                Expect.isLessThan (Linalg.norm (GroupAction.horizontalProject a w (a.Infinitesimal xi w))) 1e-10 "vertical vectors have no horizontal part"
            let z = Linalg.randn rng a.PointRows a.PointCols
            let hz = GroupAction.horizontalProject a w z
            Expect.isLessThan (Linalg.norm (GroupAction.horizontalProject a w hz - hz)) 1e-10 "idempotent"
            Expect.isLessThan (Linalg.norm (hz + GroupAction.verticalProject a w z - z)) 1e-10 "Ver + Hor = R^q0")

        testPropertyWithConfig config "alignment is optimal: no sampled group element does better" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let w = randomPoint a rng
            let reference = a.Act (a.RandomElement rng) w + Linalg.randn rng a.PointRows a.PointCols * (0.5 * rng.NextDouble())
            let al = GroupAction.align a w reference
            Expect.isLessThan (a.ElementResidual al.Element) 1e-10 "a group element"
            for _ in 1 .. 50 do
                let g = a.RandomElement rng
                let dist = Linalg.norm (a.Act g w - reference)
                Expect.isGreaterThanOrEqual (dist + 1e-10) al.Distance "sampled element is no better"
            // and no local improvement: nudging by exp(t xi) does not decrease the distance
            for xi in a.Generators do
                for t in [ 1e-3; -1e-3 ] do
                    let d = Linalg.norm (a.Act (Linalg.expm (xi * t) * al.Element) w - reference)
                    Expect.isGreaterThanOrEqual (d + 1e-12) al.Distance "first-order optimality")
    ]

let tests =
    testList "Groups.GroupAction" [
        yield! actions |> List.map suite
        yield testPropertyWithConfig config "S_K alignment equals the brute-force optimum over all K! permutations" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let kBlocks = 2 + rng.Next(5)
            let a = GroupAction.permutationBlocks 3 kBlocks 1
            let u = Linalg.randn rng 3 kBlocks
            let reference = Linalg.randn rng 3 kBlocks
            let al = GroupAction.align a u reference
            let best =
                AssignmentTests.permutations [ 0 .. kBlocks - 1 ]
                |> List.map (fun p -> Linalg.norm (a.Act (GroupAction.permutationMatrix (Array.ofList p)) u - reference))
                |> List.min
            Expect.floatClose Accuracy.high al.Distance best "optimal")
        yield testCase "a rank-deficient point has a smaller vertical space (stabiliser O(k - r))" (fun () ->
            let a = GroupAction.orthogonalLeft 3 5
            let w = Linalg.randn (Random 3) 3 5
            w.SetRow(1, Array.zeroCreate 5)
            w.SetRow(2, Array.zeroCreate 5)
            // rank 1: stabiliser O(2) of dimension 1, so dim Ver = 3 - 1 = 2
            Expect.equal (GroupAction.verticalBasis a w).Length 2 "dim Ver = dim O(3) - dim O(2)")
        yield testCase "a non-member group element is rejected" (fun () ->
            let a = GroupAction.orthogonalLeft 2 3
            Expect.throwsT<InvalidArgumentException> (fun () -> GroupAction.act a (Linalg.eye 2 * 2.0) (Linalg.zeros 2 3) |> ignore) "2I is not orthogonal"
            Expect.throwsT<DimensionMismatchException> (fun () -> GroupAction.act a (Linalg.eye 2) (Linalg.zeros 3 3) |> ignore) "wrong point shape")
    ]
