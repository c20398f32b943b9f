/// The C# facade's model-specification builder, exercised from F# through its C# surface only.
module FunctionalAsymptotics.Tests.CSharp.ModelSpecFacadeTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics.CSharp.Geometry
open FunctionalAsymptotics.CSharp.Estimation
open FunctionalAsymptotics.Models

let m (a: float[,]) = DenseMatrix.OfArray a :> MathNet.Numerics.LinearAlgebra.Matrix<float>

let tests =
    testList "CSharp.ModelSpecBuilder" [
        testCase "the horizontal route stops with OperationCanceledException on a cancelled token" (fun () ->
            use cts = new System.Threading.CancellationTokenSource()
            cts.Cancel()
            Expect.throwsT<System.OperationCanceledException> (fun () -> ModelSpecification.Spectral(6, 2, 1.0).Horizontal(cts.Token) |> ignore) "cancelled")
        testCase "built-in spectral specification: weights of the default configuration" (fun () ->
            let r = ModelSpecification.Spectral(6, 2, 1.0).Horizontal()
            Expect.equal r.DEff 2 "d_eff"
            Expect.equal r.DBase 6 "d_base"
            Expect.isLessThan (abs (r.PretrainMean - 56.49364583333)) 1e-9 "E||L(Z)||^2"
            Expect.isTrue r.Alpha0.HasValue "alpha0")
        testCase "a factor model assembled with the builder (plain Func<> pieces) equals the built-in one" (fun () ->
            let cfg = { Loadings = Factor.drawLoadings 3 6 2; Beta = [| 1.0; -1.0 |]; SigmaNu2 = 0.5 }
            let sp = Factor.spec cfg
            let pop = sp.Population.Value
            let built =
                ModelSpecBuilder("factor via builder", GroupAction.OrthogonalRight(6, 2), cfg.Loadings.ToArray())
                    .WithLoss(Func<float[,], float[], float>(fun w z -> FactorLoss.loss (m w) z), Func<Random, float[]>(Factor.sample cfg))
                    .WithPopulationMoments(
                        Func<float[,], float[,]>(fun w -> (pop.Gradient (m w)).ToArray()),
                        Func<float[,], float[,], float[,]>(fun w v -> (pop.HessianVector (m w) (m v)).ToArray()),
                        Func<float[,], float[,][], float[,]>(fun w b -> (pop.ScoreCovariance (m w) (b |> Array.map m)).ToArray()))
                    .WithLinearRepresentation(
                        Func<float[,], float[,]>(fun w -> (Factor.featureMatrix (m w)).ToArray()),
                        Func<float[,], float[,], float[,]>(fun w dw -> (Factor.featureDifferential (m w) (m dw)).ToArray()),
                        (Factor.covariance cfg).ToArray())
                    .WithTarget(cfg.Beta, sp.Sigma2)
                    .Build()
            let a = built.Horizontal()
            let b = ModelSpecification.Factor(cfg.Loadings.ToArray(), cfg.Beta, cfg.SigmaNu2).Horizontal()
            Expect.equal a.Weights.Length b.Weights.Length "same number of weights"
            Array.iter2 (fun x y -> Expect.isLessThan (abs (x - y)) (1e-12 * abs y) "weight") a.Weights b.Weights)
        testCase "Build without a loss raises the library's InvalidArgumentException" (fun () ->
            Expect.throwsT<FunctionalAsymptotics.InvalidArgumentException>
                (fun () -> ModelSpecBuilder("x", GroupAction.OrthogonalLeft(1, 2), Array2D.zeroCreate 1 2).Build() |> ignore) "typed error")
    ]
