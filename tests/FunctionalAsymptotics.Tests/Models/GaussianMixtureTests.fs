/// Gaussian-mixture case study: analytic derivatives against central finite differences, H = I(U*),
/// Assumption 6.5 errors, and the two routes to E||L(Z)||^2 agreeing within their standard errors.
module FunctionalAsymptotics.Tests.Models.GaussianMixtureTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Models

let private perturbedU (rng: Random) k d beta =
    GaussianMixture.uStar k d beta + Linalg.randn rng d k * 0.3

let private fdStep = 1e-5

/// Central difference of a vector-valued function of U along dU.
let private centralFd (f: Matrix<float> -> float[]) (u: Matrix<float>) (du: Matrix<float>) =
    let p = f (u + du * fdStep)
    let m = f (u - du * fdStep)
    Array.map2 (fun a b -> (a - b) / (2.0 * fdStep)) p m

let private maxAbsDiff (a: float[]) (b: float[]) = Array.map2 (fun x y -> abs (x - y)) a b |> Array.max
let private scaleOf (a: float[]) = max 1.0 (a |> Array.map abs |> Array.max)

let tests =
    testList "Models.GaussianMixture" [
        testCase "projector derivative equals central finite differences" (fun () ->
            let rng = Random 11
            for (k, d) in [ (3, 5); (4, 6) ] do
                let u = perturbedU rng k d 2.0
                let du = Linalg.randn rng d k
                let pr = GaussianMixture.projector (k - 1) u
                let analytic = Linalg.values (GaussianMixture.projectorDerivative pr du)
                let fd = centralFd (fun w -> Linalg.values (GaussianMixture.projector (k - 1) w).P) u du
                Expect.isLessThan (maxAbsDiff analytic fd) 1e-7 "dP")
        testCase "projector derivative with r* < rank S equals finite differences (eigengap inside the range)" (fun () ->
            let rng = Random 12
            let u = perturbedU rng 4 6 2.0
            let du = Linalg.randn rng 6 4
            let pr = GaussianMixture.projector 2 u
            let analytic = Linalg.values (GaussianMixture.projectorDerivative pr du)
            let fd = centralFd (fun w -> Linalg.values (GaussianMixture.projector 2 w).P) u du
            Expect.isLessThan (maxAbsDiff analytic fd) 1e-6 "dP, r* = 2")
        testCase "feature derivative (forward) equals central finite differences" (fun () ->
            let rng = Random 13
            for (k, d) in [ (2, 3); (3, 5); (4, 7) ] do
                for _ in 1 .. 3 do
                    let u = perturbedU rng k d 2.0
                    let x = Array.init d (fun q -> u.[q, rng.Next k] + Linalg.gaussian rng)
                    let du = Linalg.randn rng d k
                    let pr = GaussianMixture.projector (k - 1) u
                    let analytic = GaussianMixture.featureDerivative pr u x du
                    let fd = centralFd (fun w -> GaussianMixture.features (GaussianMixture.projector (k - 1) w) w x) u du
                    Expect.isLessThan (maxAbsDiff analytic fd / scaleOf fd) 1e-7 (sprintf "dpsi K=%d d=%d" k d))
        testCase "adjoint a(x) = J^T theta equals forward J^T theta and finite differences of <theta, psi>" (fun () ->
            let rng = Random 14
            for (k, d) in [ (2, 3); (3, 5); (4, 8) ] do
                let u = perturbedU rng k d 2.0
                let pr = GaussianMixture.projector (k - 1) u
                let theta = Linalg.randnVector rng (k * (d + 1))
                let x = Array.init d (fun q -> u.[q, rng.Next k] + Linalg.gaussian rng)
                let a = GaussianMixture.featureGradient pr u theta x
                let forward =
                    Array.init (k * d) (fun j ->
                        let du = DenseMatrix.Create(d, k, 0.0)
                        du.[j % d, j / d] <- 1.0
                        Array.fold2 (fun s p t -> s + p * t) 0.0 (GaussianMixture.featureDerivative pr u x du) theta)
                Expect.isLessThan (maxAbsDiff a forward / scaleOf forward) 1e-10 "adjoint vs forward"
                let f (w: Matrix<float>) = [| Array.fold2 (fun s p t -> s + p * t) 0.0 (GaussianMixture.features (GaussianMixture.projector (k - 1) w) w x) theta |]
                let fd = Array.init (k * d) (fun j ->
                    let du = DenseMatrix.Create(d, k, 0.0)
                    du.[j % d, j / d] <- 1.0
                    (centralFd f u du).[0])
                Expect.isLessThan (maxAbsDiff a fd / scaleOf fd) 1e-7 "adjoint vs FD")
        testCase "score and Hessian equal finite differences of the loss and of the score" (fun () ->
            let rng = Random 15
            let k, d = 3, 4
            let u = perturbedU rng k d 1.5
            let z = Linalg.randnVector rng d
            let flat (w: Matrix<float>) = Array.init (k * d) (fun j -> w.[j % d, j / d])
            let sc = GaussianMixture.score u z
            let h = GaussianMixture.hessian u z
            for j in 0 .. k * d - 1 do
                let du = DenseMatrix.Create(d, k, 0.0)
                du.[j % d, j / d] <- 1.0
                let fdLoss = (centralFd (fun w -> [| GaussianMixtureLoss.loss w z |]) u du).[0]
                Expect.floatClose { absolute = 1e-8; relative = 1e-7 } sc.[j] fdLoss "score"
                let fdScore = centralFd (fun w -> GaussianMixture.score w z) u du
                Expect.isLessThan (maxAbsDiff (h.Column(j).ToArray()) fdScore) 1e-7 "Hessian column"
            ignore flat)
        testCase "at U*, E[Hessian] = E[score score^T] = I(U*) within Monte Carlo error" (fun () ->
            let rng = Random 16
            let k, d = 3, 4
            let u = GaussianMixture.uStar k d 1.5
            let kd = k * d
            let n = 40_000
            // two fixed quadratic forms v^T (H - s s^T) v: each per-sample value has mean 0 at U*
            let vs = [| Linalg.randnVector rng kd; Array.init kd (fun j -> if j % d = 0 then 1.0 else 0.0) |]
            for v in vs do
                let vals =
                    Array.init n (fun _ ->
                        let _, z = GaussianMixture.sample u rng
                        let h = GaussianMixture.hessian u z
                        let s = GaussianMixture.score u z
                        let vv = DenseVector(v)
                        let sv = Array.fold2 (fun acc a b -> acc + a * b) 0.0 s v
                        vv.DotProduct(h * vv) - sv * sv)
                let m = Array.average vals
                let se = sqrt ((vals |> Array.sumBy (fun t -> (t - m) ** 2.0)) / float (n - 1) / float n)
                Expect.isLessThan (abs m) (4.0 * se) (sprintf "mean %g, se %g" m se)
                // and the difference is not trivially zero per sample
                Expect.isGreaterThan se 1e-6 "non-degenerate")
        testCase "Assumption 6.5: coincident centres and a missing eigengap raise typed errors" (fun () ->
            let u = GaussianMixture.uStar 3 4 2.0
            let same = u.Clone()
            same.SetColumn(1, u.Column(0))
            Expect.throwsT<MixtureAssumptionException> (fun () -> GaussianMixture.projector 2 same |> ignore) "coincident"
            // collinear centres: rank S = 1, so r* = 2 has no eigengap
            let col = DenseMatrix.Create(4, 3, 0.0)
            col.[0, 0] <- 1.0; col.[0, 1] <- 2.0; col.[0, 2] <- 4.0
            Expect.throwsT<MixtureAssumptionException> (fun () -> GaussianMixture.projector 2 col |> ignore) "no gap"
            Expect.throwsT<InvalidArgumentException> (fun () -> GaussianMixture.uStar 5 4 1.0 |> ignore) "d < K")
        testCase "theta* has the block layout of Appendix K and the requested norm" (fun () ->
            let t = GaussianMixture.thetaStar 3 2 10.0
            Expect.floatClose Accuracy.high (sqrt (Array.sumBy (fun x -> x * x) t)) 10.0 "norm"
            Expect.floatClose Accuracy.high (t.[0] / t.[3]) 2.0 "block 1 / block 2"
            Expect.floatClose Accuracy.high (t.[0] / t.[8]) 3.0 "block 1 / block 3"
            Expect.floatClose Accuracy.high t.[0] t.[2] "constant within a block")
        testCase "specialised and generic routes agree within their standard errors (K=2, d=4; K=3, d=5)" (fun () ->
            for (k, d, beta) in [ (2, 4, 2.0); (3, 5, 1.5) ] do
                let o = { GaussianMixturePretraining.defaultOptions with FisherSamples = 40_000; GramSamples = 20_000; Batches = 10 }
                let s = GaussianMixturePretraining.estimate Specialised k d beta { o with Seed = 5 }
                let g = GaussianMixturePretraining.estimate Generic k d beta { o with Seed = 6 }
                let tol = 4.0 * sqrt (s.PretrainMeanStdErr ** 2.0 + g.PretrainMeanStdErr ** 2.0)
                Expect.isLessThan (abs (s.PretrainMean - g.PretrainMean)) tol
                    (sprintf "K=%d d=%d: specialised %g +- %g, generic %g +- %g" k d s.PretrainMean s.PretrainMeanStdErr g.PretrainMean g.PretrainMeanStdErr)
                Expect.isGreaterThan s.PretrainMean (10.0 * s.PretrainMeanStdErr) "resolved"
                Expect.equal s.DEff (k * k) "d_eff = K (r* + 1)"
                Expect.equal g.DEff s.DEff "same d_eff"
                Expect.floatClose { absolute = 1e-12; relative = 1e-9 } (Array.sum s.Weights) s.PretrainMean "sum of weights = tr(V G)")
        testCase "theta* of norm 10 scales E||L(Z)||^2 by exactly 100 (same draws)" (fun () ->
            let o = { GaussianMixturePretraining.defaultOptions with FisherSamples = 4_000; GramSamples = 4_000; Batches = 4 }
            let a = GaussianMixturePretraining.estimate Specialised 3 4 2.0 o
            let b = GaussianMixturePretraining.estimate Specialised 3 4 2.0 { o with ThetaNorm = 10.0 }
            Expect.floatClose { absolute = 0.0; relative = 1e-10 } b.PretrainMean (100.0 * a.PretrainMean) "x100")
    ]

let reproducibility =
    testCase "Models.GaussianMixture: the same seed gives the same estimate" (fun () ->
        let o = { GaussianMixturePretraining.defaultOptions with FisherSamples = 2_000; GramSamples = 2_000; Batches = 4; Seed = 9 }
        let a = GaussianMixturePretraining.estimate Specialised 2 3 2.0 o
        let b = GaussianMixturePretraining.estimate Specialised 2 3 2.0 o
        let c = GaussianMixturePretraining.estimate Specialised 2 3 2.0 { o with Seed = 10 }
        Expect.equal a.PretrainMean b.PretrainMean "same seed"
        Expect.notEqual a.PretrainMean c.PretrainMean "different seed")

let emTests =
    testList "Models.GaussianMixtureEm" [
        testCase "EM with restarts recovers U* after Hungarian alignment; permuted references realign" (fun () ->
            let k, d, beta = 3, 4, 3.0
            let u = GaussianMixture.uStar k d beta
            let rng = Random 21
            let m = 6000
            let z = Array.init m (fun _ -> snd (GaussianMixture.sample u rng))
            let fitted = GaussianMixtureEm.fit GaussianMixtureEm.defaultOptions k z |> GaussianMixtureEm.align u
            // each centre is estimated to O(1/sqrt(m/K)); 0.15 is > 5 standard deviations here
            Expect.isLessThan (Linalg.maxAbs (fitted - u)) 0.15 "centres recovered"
            // the MLE is a stationary point: the mean score vanishes
            let meanScore = Array.init (k * d) (fun j -> z |> Array.averageBy (fun x -> (GaussianMixture.score fitted x).[j]))
            Expect.isLessThan (meanScore |> Array.map abs |> Array.max) 1e-6 "stationary"
            let perm = DenseMatrix.OfColumnVectors([| u.Column 2; u.Column 0; u.Column 1 |]) :> Matrix<float>
            let realigned = GaussianMixtureEm.align perm fitted
            Expect.isLessThan (Linalg.maxAbs (realigned - perm)) 0.15 "permuted reference")
        testCase "SQUAREM-accelerated EM stops at the plain iteration's fixed point (K=4, d=20, beta=2)" (fun () ->
            let k, d = 4, 20
            let u = GaussianMixture.uStar k d 2.0
            let rng = Random 24
            let z = Array.init 20_000 (fun _ -> snd (GaussianMixture.sample u rng))
            let start = GaussianMixtureEm.kMeansPlusPlus k z (Random 5)
            let plain, llPlain = GaussianMixtureEm.fitFrom { GaussianMixtureEm.defaultOptions with Accelerated = false } start z
            let fast, llFast = GaussianMixtureEm.fitFrom GaussianMixtureEm.defaultOptions start z
            // both stop once a plain step changes the mean log-likelihood by <= 1e-10: they sit within the
            // tolerance-sized neighbourhood of the same MLE, far inside its O(sqrt(K d / m)) = 0.06 sampling error
            Expect.floatClose { absolute = 1e-9; relative = 0.0 } llFast llPlain "same log-likelihood"
            Expect.isLessThan (Linalg.maxAbs (fast - plain)) 1e-4 "same centres"
            Expect.isGreaterThanOrEqual llFast (llPlain - 1e-10) "not worse")
        testCase "EM raises ConvergenceException at the iteration cap" (fun () ->
            let u = GaussianMixture.uStar 2 3 1.0
            let rng = Random 22
            let z = Array.init 500 (fun _ -> snd (GaussianMixture.sample u rng))
            let o = { GaussianMixtureEm.defaultOptions with MaxIterations = 1; Restarts = 2 }
            Expect.throwsT<ConvergenceException> (fun () -> GaussianMixtureEm.fit o 2 z |> ignore) "cap")
        testCase "EM raises DegenerateMixtureException when a component collapses" (fun () ->
            // one far outlier: the k-means++ start puts a centre on it with high probability and its mass is 1/m
            let rng = Random 23
            let z = Array.append (Array.init 2000 (fun _ -> Linalg.randnVector rng 2)) [| [| 1e3; 1e3 |] |]
            let o = { GaussianMixtureEm.defaultOptions with MinMass = 0.01; Restarts = 1 }
            Expect.throwsT<DegenerateMixtureException> (fun () -> GaussianMixtureEm.fit o 2 z |> ignore) "collapse")
    ]
