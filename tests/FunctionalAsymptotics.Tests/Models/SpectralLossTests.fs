/// Spectral contrastive loss (6.2): O(k)-invariance on the left, equivariance of psi = A x with rho(Q) = Q.
module FunctionalAsymptotics.Tests.Models.SpectralLossTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Tests.Models.ModelSymmetry

let k, d = 3, 6
let c = Array.init d (fun i -> 1.0 / float (i + 1))
let action = GroupAction.orthogonalLeft k d
let randomA (rng: Random) = Linalg.randn rng k d
let sampleZ = SpectralLoss.sampleGaussian c
let sampleX (rng: Random) = Linalg.randnVector rng d

let tests =
    testList "Models.SpectralLoss" [
        testCase "the loss is O(k)-invariant" (fun () ->
            expectPassed (Laws.checkInvariance opts action SpectralLoss.lossPacked randomA sampleZ))
        testCase "the features are equivariant with rho(Q) = Q" (fun () ->
            expectPassed (Laws.checkEquivariance opts action SpectralLoss.features randomA sampleX))
        testCase "rho is a homomorphism into O(k)" (fun () ->
            expectPassed (Laws.checkHomomorphism opts action randomA))
        testCase "Lemma 4.1: the min-norm OLS predictor is orbit-invariant" (fun () ->
            expectPassed (Laws.checkOrbitInvariantPredictor { opts with Trials = 50; Tolerance = 1e-8 } 20 10 action SpectralLoss.features randomA sampleX))
        testCase "the population loss matches a Monte Carlo average of the per-sample loss" (fun () ->
            let rng = Random 3
            let a = randomA rng * 0.5
            let n = 200000
            let mc = Array.init n (fun _ -> SpectralLoss.lossPacked a (sampleZ rng)) |> Array.average
            let exact = SpectralLoss.populationLoss (Linalg.eye d) (DenseMatrix.OfDiagonalArray c) a
            Expect.isLessThan (abs (mc - exact)) 0.05 (sprintf "MC %g vs exact %g" mc exact))
        testCase "the Hessian at the population minimiser vanishes on the vertical space" (fun () ->
            // Lemma H.1: M* = top-k part of C, A* = [diag(sqrt c_1..c_k), 0], rotated by a random Q.
            let aStar = Linalg.zeros k d
            for i in 0 .. k - 1 do aStar.[i, i] <- sqrt c.[i]
            let w = Linalg.randomOrthogonal (Random 2) k * aStar
            let grad = SpectralLoss.populationGradient (Linalg.eye d) (DenseMatrix.OfDiagonalArray c)
            hessianVanishesOnVertical action grad w)
        testCase "descriptor route: the Riemannian Hessian on FixedRankPsd at M* needs the Weingarten term (Cor. 6.3 check)" (fun () ->
            // Population loss in descriptor coordinates (Sigma_pre = I, Sigma_pre^+ = C): F(M) = -2 tr(M C) + tr(M^2),
            // Euclidean gradient 2(M - C) (normal part -2 C_perp at M*), Euclidean Hessian Z -> 2 Z (eq. H.10).
            let dd, kk = 5, 2
            let cc = Array.init dd (fun i -> 1.0 / float (i + 1))
            let cMat = DenseMatrix.OfDiagonalArray cc
            let mStar = DenseMatrix.OfDiagonalArray(Array.init dd (fun i -> if i < kk then cc.[i] else 0.0))
            let m = FixedRankPsd.create dd kk
            let egrad = (mStar - cMat) * 2.0
            let hR = Manifold.hessianMatrix m mStar egrad (fun z -> z * 2.0)
            let eigR = Linalg.eigSymDesc hR |> fst |> Array.sort
            // Closed form: 2 on the k(k+1)/2 symmetric-block directions, 2 (1 - c_j / c_i) = 2 (1 - i/j) on the
            // off-diagonal directions (i <= k < j). The Euclidean-only Hessian (H.10) gives 2 on all of them.
            let expected =
                Array.append (Array.create (kk * (kk + 1) / 2) 2.0)
                    [| for i in 1 .. kk do for j in kk + 1 .. dd -> 2.0 * (1.0 - float i / float j) |]
                |> Array.sort
            Array.iter2 (fun a b -> Expect.floatClose Accuracy.high a b "Riemannian Hessian eigenvalue") eigR expected
            let broken = { m with EhessToRhess = fun x _ h _ -> m.Project x h }
            let eigE = Linalg.eigSymDesc (Manifold.hessianMatrix broken mStar egrad (fun z -> z * 2.0)) |> fst
            Expect.isTrue (eigE |> Array.forall (fun e -> abs (e - 2.0) < 1e-12)) "Euclidean-only Hessian is 2 I"
            // Horizontal lift: L(A) = F(A^T A). At A*, B^T Hess L B = J^T H_R J with J = coordinates of dD(A*) B.
            let aStar = Linalg.zeros kk dd
            for i in 0 .. kk - 1 do aStar.[i, i] <- sqrt cc.[i]
            let act = GroupAction.orthogonalLeft kk dd
            let hor = GroupAction.horizontalBasis act aStar
            let grad = SpectralLoss.populationGradient (Linalg.eye dd) cMat
            let hH = DenseMatrix.Create(hor.Length, hor.Length, fun i j -> Linalg.inner hor.[i] (hessianVector grad aStar hor.[j]))
            let tb = m.TangentBasis mStar
            let desc = Descriptor.gramLeft aStar
            let jac = DenseMatrix.Create(tb.Length, hor.Length, fun i j -> Linalg.inner tb.[i] (desc.Differential aStar hor.[j]))
            let viaR = jac.Transpose() * hR * jac
            let hE = Manifold.hessianMatrix broken mStar egrad (fun z -> z * 2.0)
            let viaE = jac.Transpose() * hE * jac
            Expect.isLessThan (Linalg.maxAbs (Linalg.sym hH - viaR)) 1e-6 "horizontal lift = pulled-back Riemannian Hessian"
            Expect.isGreaterThan (Linalg.maxAbs (Linalg.sym hH - viaE)) 0.1 "and not the pulled-back Euclidean one")
    ]
