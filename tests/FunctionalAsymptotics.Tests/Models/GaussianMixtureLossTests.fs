/// Gaussian mixture NLL and gated features (6.3)–(6.4): S_K invariance, block-permutation equivariance.
module FunctionalAsymptotics.Tests.Models.GaussianMixtureLossTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Tests.Models.ModelSymmetry

let d, kBlocks = 5, 4
let rStar = kBlocks - 1
let action = GroupAction.permutationBlocks d kBlocks (d + 1)
let randomU (rng: Random) = Linalg.randn rng d kBlocks * 2.0
let sampleX (rng: Random) = Linalg.randnVector rng d |> Array.map (fun x -> 2.0 * x)
/// The feature map production uses (`GaussianMixture.features`, as in `GaussianMixtureModel.spec`).
let features (u: MathNet.Numerics.LinearAlgebra.Matrix<float>) (x: float[]) = GaussianMixture.features (GaussianMixture.projector rStar u) u x

let tests =
    testList "Models.GaussianMixtureLoss" [
        testCase "the loss is S_K-invariant" (fun () ->
            expectPassed (Laws.checkInvariance opts action GaussianMixtureLoss.loss randomU sampleX))
        testCase "the features are equivariant with rho(g) = g (x) I_{d+1}" (fun () ->
            expectPassed (Laws.checkEquivariance opts action features randomU sampleX))
        testCase "rho is a homomorphism into O(K(d+1))" (fun () ->
            expectPassed (Laws.checkHomomorphism opts action randomU))
        testCase "Lemma 4.1: the min-norm OLS predictor is orbit-invariant" (fun () ->
            expectPassed (Laws.checkOrbitInvariantPredictor { opts with Trials = 50; Tolerance = 1e-6 } 40 10 action features randomU sampleX))
        testCase "finite group: the vertical space is {0}, so the Hessian condition is vacuous" (fun () ->
            Expect.isEmpty (GroupAction.verticalBasis action (randomU (Random 1))) "no Lie algebra")
        testCase "responsibilities are a probability vector and the loss is a proper NLL" (fun () ->
            let rng = Random 2
            let u = randomU rng
            let x = sampleX rng
            let pis = GaussianMixture.responsibilities (GaussianMixture.projector rStar u) u x
            Expect.floatClose Accuracy.high (Array.sum pis) 1.0 "sum to one"
            Expect.equal (features u x).Length (kBlocks * (d + 1)) "K(d+1) features"
            // with K = 1 and u = 0 the NLL is the standard normal one
            let z = [| 0.3; -1.0; 0.5; 0.0; 2.0 |]
            let expected = 0.5 * Array.sumBy (fun t -> t * t) z + 2.5 * log (2.0 * Math.PI)
            Expect.floatClose Accuracy.high (GaussianMixtureLoss.loss (Linalg.zeros d 1) z) expected "N(0, I) NLL")
    ]
