module FunctionalAsymptotics.Tests.Asymptotics.LimitLawTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Distributions

let private close (tol: float) (actual: float) (expected: float) (msg: string) =
    Expect.isLessThanOrEqual (abs (actual - expected)) (tol * max 1.0 (abs expected)) (sprintf "%s: %.17g vs %.17g" msg actual expected)

let tests =
    testList "Asymptotics.LimitLaw" [
        testCase "parts: OLS term sigma^2 d_eff and pre-training term sum lambda_j chi^2_1" <| fun () ->
            let law = LimitLaw.create 0.5 4 2.0 [| 3.0; 1.0; 0.0; 0.25 |]
            close 1e-15 law.OlsTerm 2.0 "OLS term"
            close 1e-15 law.PretrainingMean 4.25 "E||L(Z)||^2 = sum lambda"
            close 1e-15 (LimitLaw.mean law) (2.0 + 4.25 / 2.0) "mean = sigma^2 d_eff + E||L||^2 / alpha"
            close 1e-15 (LimitLaw.variance law) (2.0 * (9.0 + 1.0 + 0.0625) / 4.0) "variance = 2 sum lambda^2 / alpha^2"
            Expect.equal law.PretrainingTerm.Value.Count 3 "zero weights are dropped from the chi-square part"

        testCase "cdf, sf and quantile are those of the shifted and scaled generalized chi-square" <| fun () ->
            let weights = [| 2.0; 0.7; 0.1 |]
            let law = LimitLaw.create 1.3 3 0.5 weights
            let q = GeneralizedChiSquare.ofWeights weights
            for t in [ 3.95; 4.0; 5.0; 10.0; 30.0; 100.0 ] do
                // P(E <= t) = P(sum lambda chi2 <= alpha (t - sigma^2 d_eff))
                let expected = if t <= 3.9 then 0.0 else GeneralizedChiSquare.cdf q (0.5 * (t - 3.9))
                close 1e-13 (LimitLaw.cdf law t) expected (sprintf "cdf at %g" t)
                close 1e-13 (LimitLaw.sf law t) (1.0 - expected) (sprintf "sf at %g" t)
            for p in [ 0.01; 0.5; 0.95; 0.999 ] do
                close 1e-10 (LimitLaw.quantile law p) (3.9 + GeneralizedChiSquare.quantile q p / 0.5) (sprintf "quantile %g" p)

        testCase "exceedance threshold t(delta): P(E_alpha >= t(delta)) = delta (paper L230-L245)" <| fun () ->
            let law = LimitLaw.create 1.0 2 4.0 [| 5.0; 1.0; 0.5 |]
            for delta in [ 0.5; 0.1; 0.05; 0.01; 1e-6; 1e-12 ] do
                let t = LimitLaw.exceedanceThreshold law delta
                close 1e-9 (LimitLaw.sf law t / delta) 1.0 (sprintf "delta = %g" delta)

        testCase "no pre-training term: a point mass at sigma^2 d_eff" <| fun () ->
            let law = LimitLaw.create 2.0 3 1.0 [| 0.0; 0.0 |]
            Expect.isNone law.Distribution "no chi-square part"
            Expect.equal (LimitLaw.cdf law 5.999) 0.0 "below the atom"
            Expect.equal (LimitLaw.cdf law 6.0) 1.0 "at the atom"
            Expect.equal (LimitLaw.quantile law 0.3) 6.0 "quantile"
            Expect.equal (LimitLaw.exceedanceThreshold law 0.01) 6.0 "threshold"
            Expect.equal (LimitLaw.variance law) 0.0 "variance"

        testCase "larger alpha (more unlabelled data) gives a stochastically smaller limit" <| fun () ->
            let w = [| 3.0; 2.0 |]
            let small, large = LimitLaw.create 1.0 2 0.5 w, LimitLaw.create 1.0 2 5.0 w
            for t in [ 2.5; 4.0; 8.0; 20.0 ] do
                Expect.isGreaterThan (LimitLaw.cdf large t) (LimitLaw.cdf small t) (sprintf "cdf at %g" t)

        testCase "bad input names the argument" <| fun () ->
            let check name f =
                match Expect.throwsC f id with
                | :? InvalidArgumentException as e -> Expect.equal e.Argument name e.Message
                | e -> failtestf "expected InvalidArgumentException(%s), got %O" name e
            check "sigma2" (fun () -> LimitLaw.create -1.0 1 1.0 [| 1.0 |] |> ignore)
            check "dEff" (fun () -> LimitLaw.create 1.0 -1 1.0 [| 1.0 |] |> ignore)
            check "alpha" (fun () -> LimitLaw.create 1.0 1 0.0 [| 1.0 |] |> ignore)
            check "alpha" (fun () -> LimitLaw.create 1.0 1 nan [| 1.0 |] |> ignore)
            check "weights" (fun () -> LimitLaw.create 1.0 1 1.0 [| -0.5 |] |> ignore)
            check "weights" (fun () -> LimitLaw.create 1.0 1 1.0 [| infinity |] |> ignore)
            let law = LimitLaw.create 1.0 1 1.0 [| 1.0 |]
            check "p" (fun () -> LimitLaw.quantile law 2.0 |> ignore)
            check "delta" (fun () -> LimitLaw.exceedanceThreshold law -0.1 |> ignore)
    ]
