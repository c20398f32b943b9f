/// The validation report's numbers: the KS sampling band, the verdict, the variance spread, the rescaling.
module FunctionalAsymptotics.Tests.Simulation.VerdictTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Simulation

let private record n r (pre: float) (leak: float) (var: float) =
    { N = n; Replicate = r; Outcome = { Total = pre + leak + var; Pretrain = pre; Leak = leak; Variance = var } }

let private summary n ks ksPre =
    { N = n; M = 2 * n; Reps = 100; KsTotal = ks; KsPretrain = ksPre; PVar = 0.0
      MeanTotal = 0.0; MeanTotalStdErr = 0.0; MeanPretrain = 0.0; MeanPretrainStdErr = 0.0 }

let tests =
    testList "Simulation.Verdict" [
        testCase "the band is the 99% quantile of Kolmogorov's distribution over sqrt R" (fun () ->
            // Kolmogorov: P(K <= x) = 1 - 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2).
            let cdf x = 1.0 - 2.0 * (Seq.init 50 (fun i -> let k = float (i + 1) in (if i % 2 = 0 then 1.0 else -1.0) * exp (-2.0 * k * k * x * x)) |> Seq.sum)
            let x = SimulationVerdict.ksBand 400 * sqrt 400.0
            Expect.isLessThan (abs (cdf x - 0.99)) 2e-4 (sprintf "P(K <= %g) = %g" x (cdf x))
            Expect.throwsT<InvalidArgumentException> (fun () -> SimulationVerdict.ksBand 0 |> ignore) "reps >= 1")
        testCase "the verdict compares the first and the last n and the band" (fun () ->
            let v = SimulationVerdict.verdict 100 [| summary 10 0.5 0.3; summary 100 0.2 0.1; summary 1000 0.1 0.4 |]
            Expect.isTrue v.TotalShrinks "total shrinks"
            Expect.isFalse v.PretrainShrinks "pre-training grows"
            Expect.isTrue v.TotalInside "0.1 < 0.1628"
            Expect.isFalse v.PretrainInside "0.4 > 0.1628"
            Expect.equal v.Last.N 1000 "last")
        testCase "the variance spread is the sample standard deviation at that n" (fun () ->
            let rs = [| record 10 0 1.0 0.0 2.0; record 10 1 1.0 0.0 4.0; record 10 2 1.0 0.0 9.0; record 20 0 0.0 0.0 100.0 |]
            let mean = (2.0 + 4.0 + 9.0) / 3.0
            let sd = sqrt (((2.0 - mean) ** 2.0 + (4.0 - mean) ** 2.0 + (9.0 - mean) ** 2.0) / 2.0)
            Expect.floatClose Accuracy.veryHigh (SimulationVerdict.varianceSpread rs 10) sd "sd"
            Expect.isTrue (Double.IsNaN (SimulationVerdict.varianceSpread rs 20)) "one record: NaN")
        testCase "rescaling the target by 1/c scales Rep, Leak and the weights by 1/c^2 and keeps the variance part" (fun () ->
            let law = LimitLaw.create 1.0 3 2.0 [| 4.0; 1.0 |]
            let rs = [| record 10 0 8.0 2.0 3.0; record 10 1 4.0 1.0 2.5 |]
            let unitLaw, scaled = SimulationVerdict.rescaleTarget 2.0 law rs
            Expect.equal unitLaw.Weights [| 1.0; 0.25 |] "weights / c^2"
            Expect.equal (unitLaw.Sigma2, unitLaw.DEff, unitLaw.Alpha) (1.0, 3, 2.0) "the rest of the law"
            Expect.equal scaled.[0].Outcome { Total = 3.0 + 2.5; Pretrain = 2.0; Leak = 0.5; Variance = 3.0 } "record 0"
            for r in scaled do
                Expect.floatClose Accuracy.veryHigh r.Outcome.Total (r.Outcome.Pretrain + r.Outcome.Leak + r.Outcome.Variance) "total = parts"
            let same, back = SimulationVerdict.rescaleTarget 1.0 law rs
            Expect.equal back rs "c = 1 is the identity"
            Expect.equal same.Weights law.Weights "c = 1 keeps the law")
    ]
