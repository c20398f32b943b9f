/// The matrix-free horizontal route (`LowRankRoute`, used by `TwoStage.horizontal`) against the dense
/// sandwich route and the corrected closed forms, and its structured moment formulas against the generic
/// Isserlis expansion.
module FunctionalAsymptotics.Tests.Asymptotics.LowRankRouteTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

let private relative (a: Matrix<float>) (b: Matrix<float>) = Linalg.norm (a - b) / max (Linalg.norm b) 1e-300

let private agree = TwoStageTests.agree

let tests =
    testList "Asymptotics.LowRankRoute" [
        testCase "spectral: matrix-free route = dense sandwich route = corrected closed form, to 1e-10 relative" (fun () ->
            let configs =
                TwoStageTests.spectralConfigs
                @ [ Spectral.defaultConfig 12 3 1.0
                    { D = 7; K = 3; SigmaPre = [| 4.0; 9.0; 0.25; 1.0; 4.0; 2.0; 0.5 |]; C = [| 3.0; 5.0; 0.125; 0.25; 0.5; -0.3; 0.1 |]; Beta = [| 1.0; -2.0; 0.5 |]; Sigma2 = 1.0 } ]
            for cfg in configs do
                let sp = Spectral.spec cfg
                Expect.isSome (LowRankRoute.tryCompute System.Threading.CancellationToken.None ignore sp) "the matrix-free route applies"
                let h = TwoStage.horizontal sp
                agree 1e-10 h (TwoStage.horizontalWith (Sandwich.population sp) sp)
                agree 1e-10 h (Spectral.closedSummary "closed" cfg))
        testCase "factor: matrix-free route = dense sandwich route = corrected closed form, to 1e-10 relative" (fun () ->
            let configs = TwoStageTests.factorConfigs @ [ { Loadings = Factor.drawLoadings 9 11 3; Beta = [| 1.0; 0.5; -1.0 |]; SigmaNu2 = 1.0 } ]
            for cfg in configs do
                let sp = Factor.spec cfg
                let h = TwoStage.horizontal sp
                agree 1e-10 h (TwoStage.horizontalWith (Sandwich.population sp) sp)
                agree 1e-10 h (Factor.closedSummary "closed" cfg))
        testCase "the summary's Gram is the identity and its covariance R V_h R^T carries E||L(Z)||^2 = tr(V G)" (fun () ->
            let sp = Spectral.spec (Spectral.defaultConfig 6 2 1.0)
            let h = TwoStage.horizontal sp
            Expect.equal h.Gram.RowCount 4 "r = d - k"
            Expect.isLessThan (relative h.Gram (Linalg.eye 4)) 1e-15 "G = I in the r coordinates"
            let dense = TwoStage.horizontalWith (Sandwich.population sp) sp
            Expect.isLessThan (abs (h.Covariance.Trace() - (dense.Covariance * dense.Gram).Trace()) / h.Covariance.Trace()) 1e-10 "tr(R V R^T) = tr(V G)")
        testCase "spectral: structured score second moments = generic Isserlis polynomials (general A, any directions)" (fun () ->
            let cfg = { D = 5; K = 2; SigmaPre = [| 0.25; 4.0; 1.0; 9.0; 4.0 |]; C = [| 0.2; 3.0; 0.5; 2.0; 1.0 / 3.0 |]; Beta = [| 2.0; 1.0 |]; Sigma2 = 1.0 }
            let rng = Random 21
            let a = Linalg.randn rng 2 5
            let dirs = Array.init 4 (fun _ -> Linalg.randn rng 2 5)
            let generic = GaussianMoments.secondMoments (dirs |> Array.map (Spectral.scorePolynomial cfg a))
            Expect.isLessThan (relative (Spectral.scoreSecondMoments cfg a dirs) generic) 1e-12 "same matrix")
        testCase "factor: structured score second moments = Isserlis of the score written as a quadratic form (general A)" (fun () ->
            let cfg = { Loadings = Factor.drawLoadings 4 6 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 1.0 }
            let rng = Random 22
            let a = Linalg.randn rng 6 2
            let dirs = Array.init 4 (fun _ -> Linalg.randn rng 6 2)
            // <nabla l, E> = (1/2) tr(S^-1 dS) - (1/2) xi^T S*^1/2 S^-1 dS S^-1 S*^1/2 xi, x = S*^1/2 xi.
            let root = Linalg.sqrtPsd (Factor.covariance cfg)
            let sinv = (Linalg.eye 6 + a * a.Transpose()).Inverse()
            let score (e: Matrix<float>) =
                let ds = e * a.Transpose() + a * e.Transpose()
                [ { Coefficient = 0.5 * (sinv * ds).Trace(); Forms = [||] }
                  { Coefficient = -0.5; Forms = [| Linalg.sym (root * sinv * ds * sinv * root) |] } ]
            let generic = GaussianMoments.secondMoments (dirs |> Array.map score)
            Expect.isLessThan (relative ((Factor.population cfg).ScoreCovariance a dirs) generic) 1e-12 "same matrix")
        testCase "symmetricLowRankTraces = dense tr(N_e X N_f Y) (diagonal, low-rank and dense X, Y)" (fun () ->
            let rng = Random 23
            let d, k = 7, 2
            let v = Linalg.randn rng d k
            let us = Array.init 5 (fun _ -> Linalg.randn rng d k)
            let x = { Diagonal = Linalg.randnVector rng d; Left = Linalg.randn rng d 3; Right = Linalg.randn rng d 3 }
            let y = DiagonalPlusLowRank.dense (Linalg.randn rng d d)
            let z = DiagonalPlusLowRank.diagonal (Linalg.randnVector rng d)
            let dense (m: DiagonalPlusLowRank) = DiagonalPlusLowRank.apply m (Linalg.eye d)
            let terms = [| 1.5, x, y; -0.5, z, x; 2.0, y, z |]
            let n (u: Matrix<float>) = u * v.Transpose() + v * u.Transpose()
            let expected =
                DenseMatrix.Create(us.Length, us.Length, fun e f ->
                    terms |> Array.sumBy (fun (c, xx, yy) -> c * (n us.[e] * dense xx * n us.[f] * dense yy).Trace()))
            Expect.isLessThan (relative (GaussianMoments.symmetricLowRankTraces v us terms) expected) 1e-13 "same matrix")
        testCase "a singular horizontal Hessian raises NotIdentifiableException (no pseudo-inverse)" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.0
            let sp = Spectral.spec cfg
            let pop = sp.Population.Value
            // Remove the curvature along the horizontal direction e_{1,3} (row 1, column 3).
            let u = Linalg.zeros 2 6
            u.[0, 3] <- 1.0
            let flat = { pop with HessianVector = fun w e -> let e' = e - u * Linalg.inner u e in let h = pop.HessianVector w e' in h - u * Linalg.inner u h }
            Expect.throwsT<NotIdentifiableException> (fun () -> TwoStage.horizontal { sp with Population = Some flat } |> ignore) "singular H_h")
        testCase "the descriptor route is refused above its size limit, before any work" (fun () ->
            let cfg = Spectral.defaultConfig 60 4 1.0
            let dm = Spectral.descriptorModel cfg
            Expect.isSome (DescriptorRoute.notOffered dm) "reason given"
            Expect.throwsT<InvalidArgumentException> (fun () -> DescriptorRoute.compute (Spectral.spec cfg) dm |> ignore) "typed error")
    ]
