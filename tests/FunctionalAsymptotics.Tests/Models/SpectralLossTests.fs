/// Spectral contrastive loss (6.2): O(k)-invariance on the left, equivariance of psi = A x with rho(Q) = Q.
module FunctionalAsymptotics.Tests.Models.SpectralLossTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
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
    ]
