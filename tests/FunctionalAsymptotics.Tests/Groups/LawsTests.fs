/// The law checks find violations in deliberately broken models, and report the input that caused them.
module FunctionalAsymptotics.Tests.Groups.LawsTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Models

let k, d = 3, 6
let c = Array.init d (fun i -> 1.0 / float (i + 1))
let action = GroupAction.orthogonalLeft k d
let randomA (rng: Random) = Linalg.randn rng k d
let sampleZ = SpectralLoss.sampleGaussian c
let sampleX (rng: Random) = Linalg.randnVector rng d
let opts = { Laws.defaultOptions with Trials = 100; Seed = 3 }

let expectCaught (r: LawReport) =
    Expect.isFalse r.Passed (sprintf "%s should fail" r.Law)
    Expect.isGreaterThan r.WorstViolation 1e-3 "a clear violation"
    Expect.equal (r.WorstPoint.RowCount, r.WorstPoint.ColumnCount) (k, d) "the offending point is reported"

let tests =
    testList "Groups.Laws" [
        testCase "checkInvariance catches a loss with a non-invariant penalty" (fun () ->
            // a "regulariser" on the first row of A breaks O(k)-invariance
            let broken (a: Matrix<float>) z = SpectralLoss.lossPacked a z + 0.1 * a.Row(0).Sum()
            let r = Laws.checkInvariance opts action broken randomA sampleZ
            expectCaught r
            // the reported input reproduces the violation
            let l0 = broken r.WorstPoint r.WorstSample
            let l1 = broken (action.Act r.WorstElement r.WorstPoint) r.WorstSample
            Expect.floatClose Accuracy.high (abs (l1 - l0) / max 1.0 (abs l0)) r.WorstViolation "replayable")
        testCase "checkEquivariance catches features with a non-equivariant nonlinearity" (fun () ->
            let broken (a: Matrix<float>) x = SpectralLoss.features a x |> Array.map (fun t -> t + 0.1 * t * t)
            expectCaught (Laws.checkEquivariance opts action broken randomA sampleX))
        testCase "checkEquivariance catches a wrong rho (transpose instead of identity)" (fun () ->
            let wrong = { action with Rho = fun g -> g.Transpose() }
            expectCaught (Laws.checkEquivariance opts wrong SpectralLoss.features randomA sampleX))
        testCase "checkHomomorphism catches a non-homomorphic rho" (fun () ->
            let wrong = { action with Rho = fun g -> g * g }
            let r = Laws.checkHomomorphism opts wrong randomA
            Expect.isFalse r.Passed "g -> g^2 is not a homomorphism of a non-abelian group")
        testCase "checkDescriptor catches a descriptor that is not orbit-constant, and one that does not separate" (fun () ->
            let good = Descriptor.gramLeft (randomA (Random 1))
            // A^T A + a_1 a_1^T: the first row of A is not invariant under rotations
            let notConstant = { good with Map = fun a -> a.TransposeThisAndMultiply a + a.Row(0).ToColumnMatrix() * a.Row(0).ToRowMatrix() }
            expectCaught (Laws.checkDescriptor opts 1e-6 action notConstant randomA)
            // the trace is orbit-constant but does not separate orbits
            let trace = { good with Map = (fun a -> Linalg.eye 1 * (a.TransposeThisAndMultiply a).Trace()); Differential = (fun a da -> Linalg.eye 1 * (2.0 * Linalg.inner a da)); ValueRows = 1; ValueCols = 1 }
            expectCaught (Laws.checkDescriptor opts 1e-6 action trace randomA))
        testCase "checkSection catches a section that misses D^-1" (fun () ->
            let good = Descriptor.gramLeft (randomA (Random 1))
            let broken = { good with Section = fun omega -> good.Section omega * 1.01 }
            let r = Laws.checkSection opts broken (fun rng -> action.Act (action.RandomElement rng) (good.Reference + Linalg.randn rng k d * 0.1))
            Expect.isFalse r.Passed "D(s(Omega)) != Omega")
        testCase "checkOrbitInvariantPredictor catches non-equivariant features" (fun () ->
            let broken (a: Matrix<float>) x = SpectralLoss.features a x |> Array.map (fun t -> t + 0.1 * t * t)
            expectCaught (Laws.checkOrbitInvariantPredictor { opts with Trials = 30 } 20 10 action broken randomA sampleX))
        testCase "the correct spectral model passes every law" (fun () ->
            for r in [ Laws.checkInvariance opts action SpectralLoss.lossPacked randomA sampleZ
                       Laws.checkEquivariance opts action SpectralLoss.features randomA sampleX
                       Laws.checkHomomorphism opts action randomA
                       Laws.checkDescriptor opts 1e-6 action (Descriptor.gramLeft (randomA (Random 1))) randomA ] do
                Expect.isTrue r.Passed (sprintf "%s: %g" r.Law r.WorstViolation))
    ]
