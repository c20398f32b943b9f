/// Descriptors: orbit-constancy, local separation, the section property, smoothness of the section,
/// and agreement with the descriptor manifold FixedRankPsd.
module FunctionalAsymptotics.Tests.Groups.DescriptorTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups

let config = { FsCheckConfig.defaultConfig with maxTest = 200 }
let opts seed = { Laws.defaultOptions with Trials = 20; Seed = seed; Tolerance = 1e-9 }

/// A random point in the orbit of a perturbation of the reference: the section must bring it back.
let nearReference (action: GroupAction) (reference: Matrix<float>) (rng: Random) =
    action.Act (action.RandomElement rng) (reference + Linalg.randn rng reference.RowCount reference.ColumnCount * 0.1)

let cases =
    let rng = Random 11
    let refLeft = Linalg.randn rng 2 5
    let refRight = Linalg.randn rng 6 3
    let refPerm = Linalg.randn rng 3 4 * 3.0
    [ GroupAction.orthogonalLeft 2 5, Descriptor.gramLeft refLeft
      GroupAction.orthogonalRight 6 3, Descriptor.gramRight refRight
      GroupAction.permutationBlocks 3 4 1, Descriptor.canonicalOrdering refPerm ]

let tests =
    testList "Groups.Descriptor" [
        for action, desc in cases do
            testPropertyWithConfig config (desc.Name + ": orbit-constant and locally separating (checkDescriptor)") (fun (DoNotSize (seed: int)) ->
                let r = Laws.checkDescriptor (opts seed) 1e-6 action desc (fun rng -> Linalg.randn rng action.PointRows action.PointCols)
                Expect.isTrue r.Passed (sprintf "worst violation %g" r.WorstViolation))
            testPropertyWithConfig config (desc.Name + ": section property D(s(Omega)) = Omega (checkSection), s(Omega) is the aligned representative") (fun (DoNotSize (seed: int)) ->
                let r = Laws.checkSection (opts seed) desc (nearReference action desc.Reference)
                Expect.isTrue r.Passed (sprintf "worst violation %g" r.WorstViolation)
                let rng = Random(seed)
                let w = nearReference action desc.Reference rng
                let s = desc.Section (desc.Map w)
                let al = GroupAction.align action w desc.Reference
                Expect.isLessThan (Linalg.norm (s - al.Aligned)) 1e-8 "s(D(w)) = align(w, reference)")
            testCase (desc.Name + ": the section is smooth near the reference (first-order finite differences)") (fun () ->
                let rng = Random 5
                let w = nearReference action desc.Reference rng
                let dw = Linalg.randn rng action.PointRows action.PointCols
                let sAt t = desc.Section (desc.Map (w + dw * t))
                let h = 1e-4
                let d1 = (sAt h - sAt -h) / (2.0 * h)
                let d2 = (sAt (h / 2.0) - sAt (-h / 2.0)) / h
                Expect.isLessThan (Linalg.norm (d1 - d2)) (1e-5 * (1.0 + Linalg.norm d1)) "derivative is consistent across step sizes"
                // and D o s has differential dD: d/dt D(s(Omega(t))) = dOmega
                let dOmega = desc.Differential w dw
                let dDs = (desc.Map (sAt h) - desc.Map (sAt -h)) / (2.0 * h)
                Expect.isLessThan (Linalg.norm (dDs - dOmega)) (1e-5 * (1.0 + Linalg.norm dOmega)) "D(s(.)) is the identity to first order")
        testPropertyWithConfig config "Gram descriptor: dD maps the horizontal space onto the tangent space of FixedRankPsd(d,k)" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let action = GroupAction.orthogonalLeft 2 5
            let desc = Descriptor.gramLeft (Linalg.randn (Random 1) 2 5)
            let m = FixedRankPsd.create 5 2
            let a = Linalg.randn rng 2 5
            let omega = desc.Map a
            Manifold.checkPoint m "omega" omega
            let hor = GroupAction.horizontalBasis action a
            Expect.equal hor.Length m.Dimension "dim Hor = dim M_{d,k}"
            let images = hor |> Array.map (desc.Differential a)
            for z in images do
                Expect.isLessThan (Linalg.norm (m.Project omega z - z)) 1e-9 "dD[h] is tangent to M"
            let j = MathNet.Numerics.LinearAlgebra.Double.DenseMatrix.Create(25, images.Length, 0.0)
            images |> Array.iteri (fun i z -> j.SetColumn(i, Linalg.values z))
            Expect.equal (Linalg.numericalRank 1e-10 j) m.Dimension "and onto")
        testCase "a rank-deficient reference is a typed error" (fun () ->
            let r = Linalg.zeros 2 5
            r.[0, 0] <- 1.0
            Expect.throwsT<RankDeficientException> (fun () -> Descriptor.gramLeft r |> ignore) "rank 1 < k = 2"
            Expect.throwsT<InvalidArgumentException> (fun () -> Descriptor.gramRight (Linalg.randn (Random 1) 2 3) |> ignore) "k > d")
        testCase "a section input off the descriptor manifold is a typed error" (fun () ->
            let desc = Descriptor.gramLeft (Linalg.randn (Random 1) 2 5)
            Expect.throwsT<OffManifoldException> (fun () -> desc.Section (Linalg.eye 5) |> ignore) "rank 5, not 2")
    ]
