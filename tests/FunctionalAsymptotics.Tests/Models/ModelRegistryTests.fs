/// The common model value, its routes and the registry of shipped models.
module FunctionalAsymptotics.Tests.Models.ModelRegistryTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Tests.Models.ModelSymmetry

let private close (tol: float) (a: float[]) (b: float[]) (what: string) =
    Expect.equal a.Length b.Length (what + ": number of weights")
    let scale = Array.append a b |> Array.map abs |> Array.max
    Array.iter2 (fun x y -> Expect.isLessThanOrEqual (abs (x - y)) (tol * scale) (sprintf "%s: %g vs %g" what x y)) a b

let private smallMixture = { GaussianMixturePretraining.defaultOptions with FisherSamples = 4_000; GramSamples = 4_000; Batches = 4 }

let tests =
    testList "Models.ModelRegistry" [
        testCase "the registry lists every shipped model, each with routes and a simulation adapter" (fun () ->
            Expect.equal (ModelRegistry.all |> List.map (fun e -> e.Name)) [ "toy"; "spectral"; "factor"; "gmm" ] "names"
            for e in ModelRegistry.all do
                let m = e.Create(ModelEntry.resolve e [])
                Expect.isNonEmpty m.Routes (e.Name + ": routes")
                Expect.isSome m.Simulation (e.Name + ": simulation adapter"))

        testCase "toy: the generic engine reproduces the closed form s^2 chi^2_{d-k}, d_eff = k, d_base = d" (fun () ->
            let m = ToyModel.model 7 3 1.5 0.5
            let h = (Model.law "horizontal" m).Summary
            let c = (Model.law "closed" m).Summary
            close 1e-12 h.Weights c.Weights "toy horizontal vs closed"
            Expect.equal (h.DEff, h.DBase) (c.DEff, c.DBase) "d_eff, d_base"
            Expect.floatClose Accuracy.veryHigh h.Weights.[0] 2.25 "weight s^2")

        testCase "toy: the generic Monte Carlo route covers the closed form within its standard error" (fun () ->
            let m = ToyModel.model 7 3 1.5 0.5
            let mc = Model.law "monte-carlo" m
            let exact = AsymptoticSummary.pretrainMean (Model.law "closed" m).Summary
            let est = AsymptoticSummary.pretrainMean mc.Summary
            Expect.isGreaterThan mc.PretrainMeanStdErr 0.0 "a Monte Carlo route reports its error"
            Expect.isLessThan (abs (est - exact)) (5.0 * mc.PretrainMeanStdErr) (sprintf "%g vs %g +- %g" est exact mc.PretrainMeanStdErr))

        testCase "spectral and factor: horizontal, descriptor and corrected closed routes agree through Model.law" (fun () ->
            let check (name: string) (m: Model<float[]>) =
                let h = (Model.law "horizontal" m).Summary
                for route in [ "descriptor"; "closed" ] do
                    close 1e-8 h.Weights (Model.law route m).Summary.Weights (name + " " + route)
                Expect.isGreaterThan (AsymptoticSummary.weightDiscrepancy h (Model.law "paper" m).Summary) 1e-3 (name + ": the printed corollary differs")
            check "spectral" (SpectralModel.create (Spectral.defaultConfig 6 2 1.0))
            check "factor" (FactorModel.create { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 1.0 }))

        testCase "a cancelled token stops the horizontal and the Monte Carlo routes" (fun () ->
            use cts = new System.Threading.CancellationTokenSource()
            cts.Cancel()
            let m = SpectralModel.create (Spectral.defaultConfig 6 2 1.0)
            for route in [ "horizontal"; "monte-carlo" ] do
                Expect.throwsT<OperationCanceledException> (fun () -> Model.lawWith cts.Token ignore route m |> ignore) route)

        testCase "the default route is listed first; an unknown route or model is a typed error naming it" (fun () ->
            let m = SpectralModel.create (Spectral.defaultConfig 6 2 1.0)
            Expect.equal (Model.routes m) [ "horizontal"; "descriptor"; "monte-carlo"; "closed"; "paper" ] "spectral routes"
            let e = Expect.throwsT<InvalidArgumentException> (fun () -> Model.law "nope" m |> ignore) "unknown route"
            ignore e
            Expect.throwsT<InvalidArgumentException> (fun () -> ModelRegistry.find "nope" |> ignore) "unknown model"
            Expect.throwsT<InvalidArgumentException> (fun () -> ModelEntry.resolve SpectralModel.entry [ "q", 1.0 ] |> ignore) "unknown parameter"
            Expect.throwsT<InvalidArgumentException> (fun () -> SpectralModel.entry.Create(ModelEntry.resolve SpectralModel.entry [ "d", 2.5 ]) |> ignore) "non-integer d")

        testCase "the registry's simulation adapter is the model's (same limit law as the toy pipeline)" (fun () ->
            let f = ModelRegistry.simulation "toy"
            let p = ModelFactory.resolve f [ "d", 7.0; "k", 3.0; "s", 1.5; "sigma", 0.5 ]
            let a = f.Create 4.0 p
            let b = ToyModel.create 7 3 1.5 0.5 4.0
            Expect.equal a.Law.Weights b.Law.Weights "weights"
            Expect.equal a.Law.Mean b.Law.Mean "mean")

        testCase "prior art: the spectral model's bound is the Cabannes et al. rate" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.0
            let m = SpectralModel.create cfg
            let pm = AsymptoticSummary.pretrainMean (Model.law "horizontal" m).Summary
            let p = m.PriorArt.Value 2.0 pm
            Expect.floatClose Accuracy.veryHigh p.Bound (Spectral.cabannesBound cfg 2.0) "bound"
            Expect.floatClose Accuracy.veryHigh (p.ImprovementFactor * pm) p.PretrainTerm "factor = term / mean")

        testCase "mixture: the specialised provider returns the engine's result type with its standard error" (fun () ->
            let m = GaussianMixtureModel.create 2 4 2.0 1.0 1.0 2000 1 smallMixture
            let law = Model.law "specialised" m
            let direct = GaussianMixturePretraining.estimate Specialised 2 4 2.0 smallMixture
            Expect.floatClose Accuracy.high (AsymptoticSummary.pretrainMean law.Summary) direct.PretrainMean "E||L||^2 = tr(V G)"
            Expect.equal law.PretrainMeanStdErr direct.PretrainMeanStdErr "standard error"
            Expect.equal (law.Summary.DEff, law.Summary.DBase) (direct.DEff, direct.DBase) "d_eff, d_base"
            Expect.equal (AsymptoticSummary.alpha0 law.Summary).IsSome (direct.DBase > direct.DEff) "alpha0 defined iff d_base > d_eff")

        testCase "mixture: the specification's loss is S_K-invariant and its (production) features equivariant" (fun () ->
            let sp = GaussianMixtureModel.spec 3 5 2.0 1.0 1.0 1000 1
            let features =
                match sp.Representation with
                | Sampled r -> r.Features
                | LinearGaussian _ -> failwith "the mixture's representation is sampled"
            let randomU (rng: Random) = Linalg.randn rng 5 3 * 2.0
            let sampleX (rng: Random) = Linalg.randnVector rng 5 |> Array.map (fun x -> 2.0 * x)
            expectPassed (Laws.checkInvariance opts sp.Action sp.Pretraining.Loss randomU sampleX)
            expectPassed (Laws.checkEquivariance opts sp.Action features randomU sampleX))

        testCase "mixture: the specification's analytic score matches finite differences of its loss" (fun () ->
            let sp = GaussianMixtureModel.spec 3 5 2.0 1.0 1.0 1000 1
            let rng = Random 3
            let u = Linalg.randn rng 5 3
            let z = Linalg.randnVector rng 5
            let g = sp.Pretraining.Gradient.Value u z
            let fd = FiniteDifference.gradient FiniteDifference.defaultStep (fun w -> sp.Pretraining.Loss w z) u
            Expect.isLessThan (Linalg.norm (g - fd)) (1e-8 * max 1.0 (Linalg.norm g)) "score vs Richardson differences")
    ]
