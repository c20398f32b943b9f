/// Factor model NLL (I.3): O(k)-invariance from the right, equivariance of psi = A^T (I + A A^T)^-1 x.
module FunctionalAsymptotics.Tests.Models.FactorLossTests

open System
open Expecto
open FunctionalAsymptotics
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
    ]
