/// Figure 1's crossover curve: the law of E_alpha against alpha and the downstream-only baseline.
module FunctionalAsymptotics.Tests.Asymptotics.CrossoverTests

open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

let private summary = TwoStage.horizontal (Spectral.spec (Spectral.defaultConfig 6 2 1.0))

let tests =
    testList "Asymptotics.Crossover" [
        testCase "the grid spans 1e-2 to 1e3, log-spaced" (fun () ->
            let g = Crossover.alphaGrid 11
            Expect.floatClose Accuracy.veryHigh g.[0] 0.01 "first"
            Expect.floatClose Accuracy.veryHigh g.[10] 1000.0 "last"
            Expect.floatClose Accuracy.veryHigh (g.[1] / g.[0]) (10.0 ** 0.5) "ratio"
            Expect.throwsT<InvalidArgumentException> (fun () -> Crossover.alphaGrid 1 |> ignore) "too few points")
        testCase "mean = sigma^2 d_eff + E||L||^2 / alpha, inside the 5%-95% band, decreasing in alpha" (fun () ->
            let pm = Array.sum summary.Weights
            let c = Crossover.curve 21 summary
            for p in c do
                Expect.floatClose Accuracy.high p.Mean (summary.Sigma2 * float summary.DEff + pm / p.Alpha) "mean"
                Expect.isLessThan p.Q05 p.Mean "q05 < mean"
                Expect.isLessThan p.Mean p.Q95 "mean < q95"
            for i in 1 .. c.Length - 1 do
                Expect.isLessThan c.[i].Mean c.[i - 1].Mean "decreasing")
        testCase "at alpha0 the mean equals the downstream-only baseline sigma^2 d_base" (fun () ->
            let a0 = (AsymptoticSummary.alpha0 summary).Value
            let law = AsymptoticSummary.limitLaw a0 summary
            Expect.floatClose Accuracy.high law.Mean (Crossover.baseline summary) "crossing"
            Expect.floatClose Accuracy.veryHigh (Crossover.baseline summary) (summary.Sigma2 * float summary.DBase) "baseline")
    ]
