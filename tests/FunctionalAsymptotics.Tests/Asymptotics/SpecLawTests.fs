/// The law of a user's own model (SpecLaw): exact route with the user's closed-form moments, Monte Carlo
/// route from the loss alone with jackknife intervals, their coverage, the sequential target, and
/// robustness to a bad batch — all against the law derived by hand in RankOnePca.
module FunctionalAsymptotics.Tests.Asymptotics.SpecLawTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Tests.Estimation

let private rel (a: float) (b: float) = abs (a - b) / max 1e-300 (abs b)

/// The analytic specification with its population moments dropped (Monte Carlo sandwich, exact Gram).
let private analyticMc = { RankOnePca.exactSpec with Population = None }

let tests =
    testList "SpecLaw" [
        testCase "the Monte Carlo law reports its draws in increasing order and stops when cancelled" (fun () ->
            let reports = System.Collections.Concurrent.ConcurrentQueue<WorkProgress>()
            let progress = { new IProgress<WorkProgress> with member _.Report p = reports.Enqueue p }
            let opts = { SpecLaw.defaultOptions with Samples = 2000; Validation = { Validation.defaultOptions with Enabled = false }; Progress = progress }
            SpecLaw.monteCarlo opts analyticMc |> ignore
            let done' = reports.ToArray() |> Array.map (fun p -> p.Completed)
            Expect.isNonEmpty done' "reports"
            Expect.equal done' (Array.sort done') "increasing"
            Expect.isTrue (reports.ToArray() |> Array.forall (fun p -> p.Total = 2000 && p.Completed < 2000)) "against the target"
            use cts = new System.Threading.CancellationTokenSource()
            cts.Cancel()
            Expect.throwsT<OperationCanceledException> (fun () -> SpecLaw.monteCarlo { opts with Cancellation = cts.Token } analyticMc |> ignore) "cancelled")
        testCase "exact route with the user's closed-form moments gives the hand-derived weights" (fun () ->
            let law = SpecLaw.exact Validation.defaultOptions RankOnePca.exactSpec
            let w = law.Summary.Weights
            Expect.equal w.Length RankOnePca.exactWeights.Length "number of weights"
            Array.iter2 (fun a b -> Expect.isLessThan (rel a b) 1e-10 (sprintf "weight %g vs hand %g" a b)) w RankOnePca.exactWeights
            Expect.equal law.Summary.DEff 1 "d_eff = 1"
            Expect.equal law.Summary.DBase RankOnePca.d "d_base = d"
            let a0 = (AsymptoticSummary.alpha0 law.Summary).Value
            Expect.isLessThan (rel a0 (RankOnePca.exactMean / (RankOnePca.sigma2 * float (RankOnePca.d - 1)))) 1e-10 "alpha0"
            let report = law.Validation.Value
            Expect.isLessThanOrEqual report.GradientNorm report.GradientThreshold "critical point"
            Expect.isGreaterThan report.HessianEigenvalues.[RankOnePca.d - 1] 0.0 "positive definite"
            Expect.equal report.Derivatives.Length 4 "gradient, Hessian, population Hessian, feature differential checked")

        testCase "Monte Carlo route from the loss alone: every number is within 4 standard errors of the hand-derived value" (fun () ->
            // Six numbers are checked, so each is held to 4 SE (not to its 95% interval: the chance that one of
            // six 95% intervals misses is ~26%); the nominal coverage is the next test's business.
            let spec = UserModel.spec (RankOnePca.userModel 4000)
            let opts = { SpecLaw.defaultOptions with Samples = 4000; Alpha = Some 2.0; Probabilities = [| 0.5; 0.9 |] }
            let law = SpecLaw.monteCarlo opts spec
            Expect.equal law.Weights.Length RankOnePca.exactWeights.Length "number of weights"
            let t = MathNet.Numerics.Distributions.StudentT.InvCDF(0.0, 1.0, 19.0, 0.975)
            let covers (e: Estimate) (x: float) name =
                Expect.isGreaterThan e.StandardError 0.0 (name + " has a standard error")
                Expect.isLessThan (abs (e.Value - x) / e.StandardError) 4.0 (sprintf "%s: %g vs hand %g (SE %g)" name e.Value x e.StandardError)
                Expect.floatClose Accuracy.high (e.Upper - e.Value) (t * e.StandardError) (name + ": interval = value +- t_19 SE")
            Array.iteri2 (fun j e x -> covers e x (sprintf "weight %d" j)) law.Weights RankOnePca.exactWeights
            covers law.PretrainMean RankOnePca.exactMean "E||L||^2"
            covers law.Alpha0.Value (RankOnePca.exactMean / (RankOnePca.sigma2 * float (RankOnePca.d - 1))) "alpha0"
            let exactLaw = LimitLaw.create RankOnePca.sigma2 1 2.0 RankOnePca.exactWeights
            for q in law.Quantiles do
                covers q.Estimate (LimitLaw.quantile exactLaw q.Probability) (sprintf "quantile %g" q.Probability)
            Expect.isSome law.Validation "validation ran by default")

        testCase "coverage: nominal 95% intervals for E||L(Z)||^2 cover the hand-derived value in 90 to 99 of 100 seeds" (fun () ->
            let opts = { SpecLaw.defaultOptions with Samples = 2000; Validation = { Validation.defaultOptions with Enabled = false } }
            let covered =
                [| 1 .. 100 |] |> Array.filter (fun seed ->
                    let e = (SpecLaw.monteCarlo { opts with Seed = seed } analyticMc).PretrainMean
                    e.Lower <= RankOnePca.exactMean && RankOnePca.exactMean <= e.Upper) |> Array.length
            Expect.isGreaterThanOrEqual covered 90 (sprintf "covered %d of 100" covered)
            Expect.isLessThanOrEqual covered 99 (sprintf "covered %d of 100" covered))

        testCase "a target relative error grows the sample until the standard error meets it" (fun () ->
            let opts = { SpecLaw.defaultOptions with Samples = 1000; TargetRelativeError = Some 0.02 }
            let law = SpecLaw.monteCarlo opts analyticMc
            Expect.isGreaterThan law.Samples 1000 "the sample grew"
            Expect.isLessThanOrEqual (law.PretrainMean.StandardError / law.PretrainMean.Value) 0.02 "target met")

        testCase "a target out of reach raises ConvergenceException naming the remaining error" (fun () ->
            let opts = { SpecLaw.defaultOptions with Samples = 1000; TargetRelativeError = Some 1e-4; MaxSamples = 4000 }
            try
                SpecLaw.monteCarlo opts analyticMc |> ignore
                failtest "expected ConvergenceException"
            with :? ConvergenceException as e ->
                Expect.equal e.Iterations 4000 "stopped at the cap"
                Expect.isGreaterThan e.Residual 1e-4 "the relative error reached is above the target"
                Expect.equal e.Tolerance 1e-4 "the target")

        testCase "one batch with an indefinite Hessian does not fail a run whose pooled Hessian is fine" (fun () ->
            // Batches of 2 samples: a batch Hessian's (2,2) entry is s_1 - mean(z_2^2), negative when both
            // z_2^2 exceed s_1 = 3 (probability ~ 0.007 per batch, so ~ 14 of 2000 batches).
            let seed, count, batches = 5, 4000, 2000
            let rng = Random seed
            let zs = Array.init count (fun _ -> RankOnePca.sampleZ rng)
            let indefinite =
                [| 0 .. batches - 1 |] |> Array.filter (fun b -> RankOnePca.s.[0] - (zs.[2 * b].[1] ** 2.0 + zs.[2 * b + 1].[1] ** 2.0) / 2.0 < 0.0)
            Expect.isGreaterThan indefinite.Length 0 "some batch Hessian is indefinite"
            let mc = Sandwich.monteCarlo seed count batches analyticMc
            let exactV = (Sandwich.population RankOnePca.exactSpec).Covariance
            let se = mc.StandardError.Value
            for i in 0 .. exactV.RowCount - 1 do
                let z = abs (mc.Covariance.[i, i] - exactV.[i, i]) / se.[i, i]
                Expect.isLessThan z 5.0 (sprintf "V_h[%d,%d] within 5 jackknife SE (z = %g)" i i z))

        testCase "the exact law needs closed-form moments: InvalidArgumentException naming spec.Population" (fun () ->
            try
                SpecLaw.exact Validation.defaultOptions analyticMc |> ignore
                failtest "expected InvalidArgumentException"
            with :? InvalidArgumentException as e -> Expect.equal e.Argument "spec.Population" "field")

        testCase "the validation switch on the exact route: off, a doubled population Hessian gives a (wrong) law unchecked" (fun () ->
            let pop = RankOnePca.population
            let doubled = { RankOnePca.exactSpec with Population = Some { pop with HessianVector = fun w v -> pop.HessianVector w v * 2.0 } }
            Expect.throwsT<DerivativeMismatchException> (fun () -> SpecLaw.exact Validation.defaultOptions doubled |> ignore) "on by default"
            let law = SpecLaw.exact { Validation.defaultOptions with Enabled = false } doubled
            Expect.isNone law.Validation "no report when off"
            // H doubled quarters V: every weight is a quarter of the true one.
            Array.iter2 (fun a b -> Expect.isLessThan (rel a (b / 4.0)) 1e-10 "a quarter") law.Summary.Weights RankOnePca.exactWeights)

        testCase "the validation switch: off, a wrong w* is not checked" (fun () ->
            let wrong = { analyticMc with WStar = RankOnePca.wStar * 1.2 }
            Expect.throwsT<NotCriticalPointException> (fun () -> SpecLaw.monteCarlo { SpecLaw.defaultOptions with Samples = 2000 } wrong |> ignore) "on by default"
            let off = { SpecLaw.defaultOptions with Samples = 2000; Validation = { Validation.defaultOptions with Enabled = false } }
            let law = SpecLaw.monteCarlo off wrong
            Expect.isNone law.Validation "no report when off")
    ]
