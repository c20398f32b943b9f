/// The Monte Carlo route at real dimensions (`LowRankMonteCarlo`, route `monte-carlo` of `Model`): its
/// estimate against the corrected closed forms and the exact matrix-free route within its standard errors,
/// reproducibility, the sequential target, the fallback and the validation.
module FunctionalAsymptotics.Tests.Asymptotics.LowRankMonteCarloTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

let private options samples seed = { SpecLaw.defaultOptions with Samples = samples; Seed = seed }

let private estimate (o: MonteCarloLawOptions) (spec: ModelSpec<'Z>) =
    match LowRankMonteCarlo.tryEstimate o ignore spec with
    | Some law -> law
    | None -> failtest "the matrix-free Monte Carlo route applies"

/// `(estimate - exact) / standard error` of `E||L(Z)||^2`.
let private standardErrorsFrom (exact: float) (law: MonteCarloLaw) = (law.PretrainMean.Value - exact) / law.PretrainMean.StandardError

let tests =
    testList "Asymptotics.LowRankMonteCarlo" [
        testCase "spectral and factor: E||L(Z)||^2 within 4 standard errors of the corrected closed form, d - k weights" (fun () ->
            let spectral = Spectral.defaultConfig 8 2 1.0
            let factor = { Loadings = Factor.drawLoadings 3 8 2; Beta = [| 1.0; -0.5 |]; SigmaNu2 = 1.0 }
            for name, spec, exact in
                [ "spectral", Spectral.spec spectral, Spectral.closedWeights spectral |> Array.sum
                  "factor", Factor.spec factor, (Factor.closedSummary "closed" factor).Weights |> Array.sum ] do
                let law = estimate (options 20000 1) spec
                Expect.isGreaterThan law.PretrainMean.StandardError 0.0 (name + ": a standard error")
                Expect.isLessThan (abs (standardErrorsFrom exact law)) 4.0
                    (sprintf "%s: %g +- %g vs exact %g" name law.PretrainMean.Value law.PretrainMean.StandardError exact)
                Expect.equal law.Summary.Weights.Length 6 (name + ": d - k weights")
                Expect.floatClose Accuracy.veryHigh (Array.sum law.Summary.Weights) law.PretrainMean.Value (name + ": the weights sum to the estimate"))

        testCase "over 12 seeds the standard errors are honest: |z| < 3 for each, mean z^2 within [0.25, 2.5]" (fun () ->
            // z = (estimate - exact) / se is about Student t with 19 degrees of freedom (variance 1.1); the
            // mean of 12 squares lies in [0.25, 2.5] with probability above 0.99 for that law.
            let cfg = Spectral.defaultConfig 6 2 1.0
            let exact = Spectral.closedWeights cfg |> Array.sum
            let spec = Spectral.spec cfg
            let zs = [| for seed in 1 .. 12 -> standardErrorsFrom exact (estimate (options 4000 seed) spec) |]
            for z in zs do Expect.isLessThan (abs z) 3.0 (sprintf "z = %g (all: %A)" z zs)
            let meanSquare = zs |> Array.averageBy (fun z -> z * z)
            Expect.isGreaterThan meanSquare 0.25 (sprintf "standard errors not too large: mean z^2 = %g" meanSquare)
            Expect.isLessThan meanSquare 2.5 (sprintf "standard errors not too small: mean z^2 = %g" meanSquare))

        testCase "every weight lies within 5 jackknife standard errors of the exact matrix-free route's" (fun () ->
            let spec = Spectral.spec (Spectral.defaultConfig 7 3 1.0)
            let exact = (TwoStage.horizontal spec).Weights
            let law = estimate (options 40000 5) spec
            Array.iteri2 (fun j (e: Estimate) x ->
                Expect.isLessThan (abs (e.Value - x)) (5.0 * e.StandardError) (sprintf "weight %d: %g +- %g vs %g" j e.Value e.StandardError x)) law.Weights exact)

        testCase "the same options give the same numbers; another seed other samples" (fun () ->
            let spec = Spectral.spec (Spectral.defaultConfig 10 3 1.0)
            let a = estimate (options 2000 7) spec
            let b = estimate (options 2000 7) spec
            Expect.equal b.PretrainMean a.PretrainMean "reproducible"
            Expect.equal b.Summary.Weights a.Summary.Weights "weights reproducible"
            Expect.equal a.Samples (63 * LowRankMonteCarlo.chunkSize) "2000 samples rounded up to whole chunks"
            let c = estimate (options 2000 8) spec
            Expect.notEqual c.PretrainMean.Value a.PretrainMean.Value "another seed")

        testCase "the sample grows to the target relative error, or ConvergenceException at the cap" (fun () ->
            let spec = Spectral.spec (Spectral.defaultConfig 6 2 1.0)
            let law = estimate { options 1000 1 with TargetRelativeError = Some 0.03 } spec
            Expect.isLessThanOrEqual (law.PretrainMean.StandardError / law.PretrainMean.Value) 0.03 "target met"
            Expect.isGreaterThan law.Samples 1000 "the sample grew"
            Expect.throwsT<ConvergenceException> (fun () ->
                estimate { options 1000 1 with TargetRelativeError = Some 1e-4; MaxSamples = 3000 } spec |> ignore) "cap reached")

        testCase "without closed-form population moments the route does not apply and Model.monteCarloLaw samples the Hessian too" (fun () ->
            let model = SpectralModel.create (Spectral.defaultConfig 5 2 1.0)
            let noMoments = { model with Spec = { model.Spec with Population = None } }
            let o = { options 4000 1 with Validation = { Validation.defaultOptions with Enabled = false } }
            Expect.isNone (LowRankMonteCarlo.tryEstimate o ignore noMoments.Spec) "not applicable"
            let dense = Model.monteCarloLaw o ignore noMoments
            Expect.isGreaterThan dense.PretrainMean.StandardError 0.0 "the dense Monte Carlo law"
            let matrixFree = Model.monteCarloLaw o ignore model
            Expect.equal matrixFree.Summary.Gram.RowCount 3 "the matrix-free law (r = d - k coordinates)")

        testCase "validation: a w* that is not a critical point raises NotCriticalPointException" (fun () ->
            let spec = Spectral.spec (Spectral.defaultConfig 6 2 1.0)
            let wrong = { spec with WStar = spec.WStar * 1.5 }
            Expect.throwsT<NotCriticalPointException> (fun () -> LowRankMonteCarlo.tryEstimate (options 4000 1) ignore wrong |> ignore) "not critical"
            let checkedLaw = estimate (options 4000 1) spec
            Expect.isSome checkedLaw.Validation "validated by default")

        testCase "the per-sample gradients in rank-one form equal the dense formulas (spectral, factor)" (fun () ->
            let rng = Random 3
            let close (what: string) (a: MathNet.Numerics.LinearAlgebra.Matrix<float>) (b: MathNet.Numerics.LinearAlgebra.Matrix<float>) =
                Expect.isLessThan (Linalg.norm (a - b)) (1e-12 * Linalg.norm b) what
            for _ in 1 .. 5 do
                let a = Linalg.randn rng 3 7
                let z = Linalg.randnVector rng 21
                let x, xp, xm = Linalg.vector z.[0 .. 6], Linalg.vector z.[7 .. 13], Linalg.vector z.[14 ..]
                let q = (a * x).DotProduct(a * xm)
                let dense = a * (x.OuterProduct xp + xp.OuterProduct x) * -2.0 + a * (x.OuterProduct xm + xm.OuterProduct x) * (2.0 * q)
                close "spectral" (Spectral.sampleGradient a z) dense
                let f = Linalg.randn rng 7 2
                let xv = Linalg.randnVector rng 7
                let sinv = (Linalg.eye 7 + f * f.Transpose()).Inverse()
                let xx = (Linalg.vector xv).OuterProduct(Linalg.vector xv)
                close "factor" (Factor.sampleGradient f xv) (sinv * f - sinv * xx * sinv * f))
        testCase "bad options are typed errors before any work" (fun () ->
            let spec = Spectral.spec (Spectral.defaultConfig 6 2 1.0)
            for o in [ { options 10 1 with Batches = 20 }; { options 4000 1 with Batches = 1 }; { options 4000 1 with MaxSamples = 100 } ] do
                Expect.throwsT<InvalidArgumentException> (fun () -> LowRankMonteCarlo.tryEstimate o ignore spec |> ignore) (sprintf "%A" (o.Samples, o.Batches, o.MaxSamples)))
    ]
