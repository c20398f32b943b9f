/// Factor model NLL (I.3): O(k)-invariance from the right, equivariance of psi = A^T (I + A A^T)^-1 x.
module FunctionalAsymptotics.Tests.Models.FactorLossTests

open System
open Expecto
open FunctionalAsymptotics
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Tests.Models.ModelSymmetry

let d, k = 6, 2
let action = GroupAction.orthogonalRight d k
let randomA (rng: Random) = Linalg.randn rng d k
let sampleX (rng: Random) = Linalg.randnVector rng d |> Array.map (fun x -> 2.0 * x)

let tests =
    testList "Models.FactorLoss" [
        testCase "the loss is O(k)-invariant (right action)" (fun () ->
            expectPassed (Laws.checkInvariance opts action FactorLoss.loss randomA sampleX))
        testCase "the features are equivariant: psi(x, A Q) = Q^T psi(x, A)" (fun () ->
            expectPassed (Laws.checkEquivariance opts action FactorLoss.features randomA sampleX))
        testCase "rho is a homomorphism into O(k)" (fun () ->
            expectPassed (Laws.checkHomomorphism opts action randomA))
        testCase "Lemma 4.1: the min-norm OLS predictor is orbit-invariant" (fun () ->
            expectPassed (Laws.checkOrbitInvariantPredictor { opts with Trials = 50; Tolerance = 1e-8 } 20 10 action FactorLoss.features randomA sampleX))
        testCase "the population gradient matches finite differences of the population loss" (fun () ->
            let rng = Random 4
            let a = randomA rng
            let sigma = let b = Linalg.randn rng d d in Linalg.eye d + b * b.Transpose() * 0.3
            let v = Linalg.randn rng d k
            let h = 1e-6
            let fd = (FactorLoss.populationLoss sigma (a + v * h) - FactorLoss.populationLoss sigma (a - v * h)) / (2.0 * h)
            Expect.floatClose { absolute = 1e-7; relative = 1e-6 } fd (Linalg.inner (FactorLoss.populationGradient sigma a) v) "directional derivative")
        testCase "the Hessian at the population minimiser vanishes on the vertical space" (fun () ->
            let aStar = randomA (Random 9)
            let sigma = Linalg.eye d + aStar * aStar.Transpose()
            hessianVanishesOnVertical action (FactorLoss.populationGradient sigma) aStar)
        testCase "descriptor route: Riemannian Hessian on FixedRankPsd pulled back through dD equals the horizontal-lift Hessian" (fun () ->
            // Sigma = I + A* A*^T + N_perp with N_perp PSD, small, and orthogonal to range(A*): A* is still a critical
            // point of L(A) = F(A A^T) (Lemma I.1), but the Euclidean gradient of F at M* = A* A*^T is -N_perp / 2,
            // a non-zero normal vector, so the Weingarten term is needed.
            let rng = Random 21
            let aStar = randomA rng
            let mStar = aStar * aStar.Transpose()
            let u, _ = FixedRankPsd.factor k mStar
            let pPerp = Linalg.eye d - u * u.Transpose()
            let g = Linalg.randn rng d d
            let nPerp = pPerp * (g * g.Transpose()) * pPerp * (0.05 / float d)
            let sigma = Linalg.eye d + mStar + nPerp
            let grad = FactorLoss.populationGradient sigma
            Expect.isLessThan (Linalg.norm (grad aStar)) 1e-10 "A* is critical"
            let sInv (m: Matrix<float>) = (Linalg.eye d + m).Inverse()
            let egradF (m: Matrix<float>) = let si = sInv m in (si - si * sigma * si) * 0.5
            let ehessF (m: Matrix<float>) (z: Matrix<float>) =
                let si = sInv m
                (-(si * z * si) + si * z * si * sigma * si + si * sigma * si * z * si) * 0.5
            let eg = egradF mStar
            let m = FixedRankPsd.create d k
            Expect.isGreaterThan (Linalg.norm (eg - m.Project mStar eg)) 1e-3 "non-zero normal part"
            let hR = Manifold.hessianMatrix m mStar eg (ehessF mStar)
            let broken = { m with EhessToRhess = fun x _ h _ -> m.Project x h }
            let hE = Manifold.hessianMatrix broken mStar eg (ehessF mStar)
            let hor = GroupAction.horizontalBasis action aStar
            let hH = DenseMatrix.Create(hor.Length, hor.Length, fun i j -> Linalg.inner hor.[i] (hessianVector grad aStar hor.[j]))
            let tb = m.TangentBasis mStar
            let desc = Descriptor.gramRight aStar
            let jac = DenseMatrix.Create(tb.Length, hor.Length, fun i j -> Linalg.inner tb.[i] (desc.Differential aStar hor.[j]))
            Expect.isLessThan (Linalg.maxAbs (Linalg.sym hH - jac.Transpose() * hR * jac)) 1e-6 "pulled-back Riemannian Hessian"
            Expect.isGreaterThan (Linalg.maxAbs (Linalg.sym hH - jac.Transpose() * hE * jac)) 1e-3 "not the Euclidean-only one")
        testCase "Factor.hessianVectorFor (structured, partially applied) = central differences of the gradient S^-1 A - S^-1 Sigma S^-1 A" (fun () ->
            let rng = Random 17
            let gradient (sigma: Matrix<float>) (a: Matrix<float>) =
                let si = (Linalg.eye d + a * a.Transpose()).Inverse()
                si * a - si * sigma * si * a
            for _ in 1 .. 5 do
                let a = randomA rng
                let x = Linalg.randn rng (d + 4) d
                let sigma = x.TransposeThisAndMultiply x / float (d + 4)
                let hv = Factor.hessianVectorFor sigma a
                for _ in 1 .. 3 do
                    let e = randomA rng
                    let h = 1e-5
                    let fd = (gradient sigma (a + h * e) - gradient sigma (a - h * e)) / (2.0 * h)
                    let exact = hv e
                    Expect.isLessThan ((exact - fd).FrobeniusNorm() / exact.FrobeniusNorm()) 1e-8 "Hessian-vector product")
    ]
