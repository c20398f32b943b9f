/// The C# facade's user path: a model from delegates and arrays, its Monte Carlo law with error bars, its exact
/// law with the Gaussian-moment helper, typed validation errors — against the hand-derived law of RankOnePca.
module FunctionalAsymptotics.Tests.CSharp.SpecLawFacadeTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.CSharp.Geometry
open FunctionalAsymptotics.CSharp.Estimation
open FunctionalAsymptotics.Tests.Estimation

let private m (a: float[,]) = DenseMatrix.OfArray a :> MathNet.Numerics.LinearAlgebra.Matrix<float>
let private d = RankOnePca.d
let private s = RankOnePca.s

/// The minimal builder: loss, samplers, group, features, target.
let private minimal () =
    ModelSpecBuilder("rank-one PCA from C#", GroupAction.OrthogonalLeft(1, d), RankOnePca.wStar.ToArray())
        .WithLoss(Func<float[,], float[], float>(fun w z -> RankOnePca.loss (m w) z), Func<Random, float[]>(RankOnePca.sampleZ))
        .WithFeatures(Func<float[,], float[], float[]>(fun w x -> [| Array.init d (fun j -> w.[0, j] * x.[j]) |> Array.sum |]),
                      Func<Random, float[]>(RankOnePca.sampleX), 4000, 3)
        .WithTarget([| RankOnePca.theta |], RankOnePca.sigma2)

/// The score along b as a polynomial in xi ~ N(0, I): ||w||^2 <b, w> - xi^T Q_b xi, Q_b = sym(S^1/2 w^T b S^1/2).
let private scorePolynomial (w: float[,]) (b: float[,]) =
    let n2 = Array.init d (fun j -> w.[0, j] * w.[0, j]) |> Array.sum
    let bw = Array.init d (fun j -> b.[0, j] * w.[0, j]) |> Array.sum
    let q = Array2D.init d d (fun i j -> 0.5 * sqrt (s.[i] * s.[j]) * (w.[0, i] * b.[0, j] + b.[0, i] * w.[0, j]))
    [| QuadraticTerm(n2 * bw); QuadraticTerm(-1.0, q) |]

let tests =
    testList "CSharp.SpecLaw" [
        testCase "Monte Carlo law from delegates: weights and E||L||^2 within 4 SE of the hand-derived values, with a report" (fun () ->
            let r = minimal().Build().MonteCarloLaw(MonteCarloLawSettings(Samples = 4000))
            Expect.equal r.Weights.Length RankOnePca.exactWeights.Length "number of weights"
            Array.iter2 (fun (e: Estimate) x -> Expect.isLessThan (abs (e.Value - x) / e.StandardError) 4.0 (sprintf "weight %g vs %g" e.Value x)) r.Weights RankOnePca.exactWeights
            Expect.isLessThan (abs (r.PretrainMean.Value - RankOnePca.exactMean) / r.PretrainMean.StandardError) 4.0 "E||L||^2"
            Expect.isTrue (r.PretrainMean.Lower < r.PretrainMean.Value && r.PretrainMean.Value < r.PretrainMean.Upper) "interval"
            let v = match r.Validation with null -> failtest "validation report" | v -> v
            Expect.isTrue (v.HessianEigenvalues |> Array.forall (fun l -> l > 0.0)) "positive Hessian")
        testCase "exact law with the Gaussian-moment helper for the score covariance equals the hand-derived weights" (fun () ->
            let pop = RankOnePca.population
            let r =
                minimal()
                    .WithPopulationMoments(
                        Func<float[,], float[,]>(fun w -> (pop.Gradient (m w)).ToArray()),
                        Func<float[,], float[,], float[,]>(fun w v -> (pop.HessianVector (m w) (m v)).ToArray()),
                        Func<float[,], float[,][], float[,]>(fun w b -> GaussianMoments.SecondMoments(b |> Array.map (scorePolynomial w))))
                    .WithLinearRepresentation(Func<float[,], float[,]>(fun w -> w), Func<float[,], float[,], float[,]>(fun _ dw -> dw), (Linalg.eye d).ToArray())
                    .Build().ExactLaw()
            Array.iter2 (fun a b -> Expect.floatClose Accuracy.veryHigh a b "weight") r.Summary.Weights RankOnePca.exactWeights
            let v = match r.Validation with null -> failtest "validation report" | v -> v
            Expect.equal v.DerivativeFields [| "spec.Population.HessianVector"; "spec.Representation.FeatureDifferential" |] "checked derivatives")
        testCase "GaussianMoments facade equals the core (E[(xi^T Q xi)^2] = (tr Q)^2 + 2 tr Q^2)" (fun () ->
            let q = array2D [ [ 2.0; 0.5 ]; [ 0.5; 1.0 ] ]
            Expect.floatClose Accuracy.veryHigh (GaussianMoments.MomentOfProduct(q, q)) (9.0 + 2.0 * 5.5) "E[(xi^T Q xi)^2]"
            Expect.floatClose Accuracy.veryHigh (GaussianMoments.Expectation(QuadraticTerm(2.0), QuadraticTerm(1.0, q))) 5.0 "E[2 + xi^T Q xi]")
        testCase "validation errors reach C# typed: theta* of the wrong length" (fun () ->
            let spec = minimal().WithTarget([| 1.0; 2.0 |], 1.0).Build()
            let e = Expect.throwsC (fun () -> spec.MonteCarloLaw() |> ignore) id
            match e with
            | :? DimensionMismatchException as e -> Expect.equal e.Argument "spec.ThetaStar" "field"
            | e -> failtestf "expected DimensionMismatchException, got %s" (e.GetType().Name))
    ]
