/// Estimation: exact Gaussian moments, finite-difference fallback, sandwich forms, identifiability,
/// horizontal Newton.
module FunctionalAsymptotics.Tests.Estimation.EstimationTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Models

let randSym (rng: Random) n = Linalg.sym (Linalg.randn rng n n)
let relErr (a: float) (b: float) = abs (a - b) / max 1e-300 (max (abs a) (abs b))
let cfg = Spectral.defaultConfig 5 2 1.0

let tests =
    testList "Estimation" [
        testCase "Isserlis: moments of quadratic forms match the classical closed forms" (fun () ->
            let rng = Random 1
            let q1, q2, q3 = randSym rng 4, randSym rng 4, randSym rng 4
            let t (m: Matrix<float>) = m.Trace()
            let e2 = GaussianMoments.momentOfProduct [| q1; q2 |]
            Expect.floatClose Accuracy.high e2 (t q1 * t q2 + 2.0 * t (q1 * q2)) "E[q1 q2]"
            let e3 = GaussianMoments.momentOfProduct [| q1; q2; q3 |]
            let exact3 = t q1 * t q2 * t q3 + 2.0 * (t q1 * t (q2 * q3) + t q2 * t (q1 * q3) + t q3 * t (q1 * q2)) + 8.0 * t (q1 * q2 * q3)
            Expect.floatClose Accuracy.high e3 exact3 "E[q1 q2 q3]"
            // E[(xi^T Q xi)^4] for Q = I_n is the chi-square_n fourth moment n(n+2)(n+4)(n+6).
            let i4 = Linalg.eye 4
            Expect.floatClose Accuracy.high (GaussianMoments.momentOfProduct [| i4; i4; i4; i4 |]) (4.0 * 6.0 * 8.0 * 10.0) "chi2_4 fourth moment")
        testCase "Isserlis: a fourth-order product agrees with a seeded Monte Carlo within 4 standard errors" (fun () ->
            let rng = Random 2
            let qs = Array.init 4 (fun _ -> randSym rng 3 * 0.5)
            let exact = GaussianMoments.momentOfProduct qs
            let n = 400000
            let xs =
                Array.init n (fun _ ->
                    let xi = DenseVector(Linalg.randnVector rng 3)
                    qs |> Array.fold (fun acc q -> acc * xi.DotProduct(q * xi)) 1.0)
            let m = Array.average xs
            let se = sqrt ((xs |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (n - 1) / float n)
            Expect.isLessThan (abs (m - exact)) (4.0 * se) (sprintf "MC %g +- %g vs exact %g" m se exact))
        testCase "spectral: exact E[l] and E[nabla l] equal the closed-form population loss and gradient" (fun () ->
            let rng = Random 3
            let a = Linalg.randn rng 2 5 * 0.7
            let c = DenseMatrix.OfDiagonalArray cfg.C
            let el = GaussianMoments.expectation (Spectral.lossPolynomial cfg a)
            Expect.isLessThan (relErr el (SpectralLoss.populationLoss (Linalg.eye 5) c a)) 1e-12 "E l = -2 tr(ACA^T) + ||AA^T||^2"
            let grad = SpectralLoss.populationGradient (Linalg.eye 5) c a
            for _ in 1 .. 3 do
                let e = Linalg.randn rng 2 5
                let eg = GaussianMoments.expectation (Spectral.scorePolynomial cfg a e)
                Expect.isLessThan (abs (eg - Linalg.inner grad e)) (1e-12 * Linalg.norm grad * Linalg.norm e) "E<grad l, E>")
        testCase "spectral and factor: analytic population Hessians equal Richardson finite differences of the gradients" (fun () ->
            let rng = Random 4
            let pop = Spectral.population cfg
            let a = Linalg.randn rng 2 5 * 0.7
            let e = Linalg.randn rng 2 5
            let fd = FiniteDifference.directional 1e-2 pop.Gradient a e
            Expect.isLessThan (Linalg.norm (fd - pop.HessianVector a e) / Linalg.norm fd) 1e-9 "spectral HVP"
            let fcfg = { Loadings = Factor.drawLoadings 1 6 2; Beta = [| 1.0; -0.5 |]; SigmaNu2 = 0.5 }
            let fpop = Factor.population fcfg
            let b = Linalg.randn rng 6 2
            let e2 = Linalg.randn rng 6 2
            let fd2 = FiniteDifference.directional 1e-2 fpop.Gradient b e2
            Expect.isLessThan (Linalg.norm (fd2 - fpop.HessianVector b e2) / Linalg.norm fd2) 1e-9 "factor HVP"
            // per-sample derivatives: analytic vs the finite-difference fallback (gradient from the loss alone)
            let sp = Spectral.spec cfg
            let z = Spectral.sample cfg rng
            let noDeriv = { sp.Pretraining with Gradient = None; HessianVector = None }
            let ga = ModelSpec.gradient sp.Pretraining a z
            let gf = ModelSpec.gradient noDeriv a z
            Expect.isLessThan (Linalg.norm (ga - gf) / Linalg.norm ga) 1e-9 "FD fallback gradient"
            let ha = ModelSpec.hessianVector sp.Pretraining a z e
            let hf = ModelSpec.hessianVector { sp.Pretraining with HessianVector = None } a z e
            Expect.isLessThan (Linalg.norm (ha - hf) / Linalg.norm ha) 1e-8 "FD fallback Hessian-vector")
        testCase "sandwich: population, Monte Carlo and plug-in forms agree within Monte Carlo error (factor model)" (fun () ->
            let fcfg = { Loadings = Factor.drawLoadings 2 5 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 0.5 }
            let sp = Factor.spec fcfg
            let pop = Sandwich.population sp
            // Well-specified MLE: Sigma_h = H_h (Fisher information), exactly.
            Expect.isLessThan (Linalg.maxAbs (pop.ScoreCovariance - pop.Hessian) / Linalg.maxAbs pop.Hessian) 1e-12 "Sigma_h = H_h"
            let mc = Sandwich.monteCarlo 7 40000 20 sp
            let se = mc.StandardError.Value
            let z = DenseMatrix.Create(se.RowCount, se.ColumnCount, fun i j -> abs (mc.Covariance.[i, j] - pop.Covariance.[i, j]) / max se.[i, j] 1e-12)
            // 5 SE per entry (a Bonferroni-style allowance across the entries).
            Expect.isLessThan (Linalg.maxAbs z) 5.0 (sprintf "MC V_h within 5 SE (max z = %g)" (Linalg.maxAbs z))
            let rng = Random 8
            let data = Array.init 40000 (fun _ -> Factor.sample fcfg rng)
            let x = DenseMatrix.OfRowArrays data
            let aHat = Factor.fitPpca 2 x
            let aligned = (GroupAction.align sp.Action aHat sp.WStar).Aligned
            let plug = Sandwich.plugIn sp data aligned
            let rel = Linalg.norm (plug.Covariance - pop.Covariance) / Linalg.norm pop.Covariance
            Expect.isLessThan rel 0.1 (sprintf "plug-in V_h relative error %g" rel))
        testCase "sandwich: the exact Isserlis score covariance of the spectral model agrees with a seeded Monte Carlo" (fun () ->
            let sp = Spectral.spec (Spectral.defaultConfig 4 2 1.0)
            let pop = Sandwich.population sp
            let mc = Sandwich.monteCarlo 17 60000 20 sp
            let se = mc.StandardError.Value
            let z = DenseMatrix.Create(se.RowCount, se.ColumnCount, fun i j -> abs (mc.Covariance.[i, j] - pop.Covariance.[i, j]) / max se.[i, j] 1e-12)
            Expect.isLessThan (Linalg.maxAbs z) 5.0 (sprintf "MC V_h within 5 SE (max z = %g)" (Linalg.maxAbs z))
            let rel = Linalg.norm (mc.ScoreCovariance - pop.ScoreCovariance) / Linalg.norm pop.ScoreCovariance
            Expect.isLessThan rel 0.05 (sprintf "Sigma_h relative error %g" rel))
        testCase "a singular horizontal Hessian raises NotIdentifiableException naming the vertical direction" (fun () ->
            let sp = Spectral.spec cfg
            // Pretend there is no symmetry: the whole R^{k x d} is 'horizontal', so the O(k) orbit direction
            // S A* makes H_h singular.
            let noSymmetry = { sp with Action = GroupAction.permutationBlocks 2 5 1 }
            Expect.throwsT<NotIdentifiableException> (fun () -> Sandwich.population noSymmetry |> ignore) "typed error"
            try Sandwich.population noSymmetry |> ignore
            with :? NotIdentifiableException as e ->
                Expect.equal e.Directions.Length 1 "one offending direction (so(2) is one-dimensional)"
                let dir = e.Directions.[0]
                let vert = GroupAction.verticalProject sp.Action sp.WStar dir
                Expect.isLessThan (Linalg.norm (dir - vert)) 1e-8 "the offending direction is vertical")
        testCase "horizontal Newton reaches gradient norm <= 1e-10 and equals the mean per-sample loss objective" (fun () ->
            let rng = Random 9
            let zs = Array.init 3000 (fun _ -> Spectral.sample cfg rng)
            let stats = Spectral.statistics 5 zs
            let obj = Spectral.empiricalObjective stats
            let a = Linalg.randn rng 2 5
            let direct = zs |> Array.averageBy (SpectralLoss.lossPacked a)
            Expect.isLessThan (relErr (obj.Value a) direct) 1e-11 "sufficient statistics reproduce the empirical loss"
            let gdirect = zs |> Array.map (Spectral.sampleGradient a) |> Array.reduce (+) |> fun g -> g / float zs.Length
            Expect.isLessThan (Linalg.norm (obj.Gradient a - gdirect) / Linalg.norm gdirect) 1e-11 "gradient"
            let r = Spectral.fit 2 3 11 stats
            Expect.isLessThanOrEqual r.GradientNorm 1e-10 "converged"
            let aligned = (GroupAction.align (GroupAction.orthogonalLeft 2 5) r.Point (Spectral.aStar cfg)).Aligned
            Expect.isLessThan (Linalg.norm (aligned - Spectral.aStar cfg)) 0.2 "near A*")
        testCase "horizontal Newton raises ConvergenceException when the budget is too small" (fun () ->
            let rng = Random 10
            let stats = Spectral.statistics 5 (Array.init 500 (fun _ -> Spectral.sample cfg rng))
            let opts = { Minimise.defaultOptions with MaxIterations = 1 }
            Expect.throwsT<ConvergenceException> (fun () ->
                Minimise.newton opts (GroupAction.orthogonalLeft 2 5) (Spectral.empiricalObjective stats) (Linalg.randn rng 2 5) |> ignore) "typed error")
    ]
