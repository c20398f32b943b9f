/// The mixture's quadrature route: Gauss–Hermite exactness, the closed form off the span (the rotated adjoint is
/// affine in the coordinates b >= r* with the stated slope), and agreement with both Monte Carlo routes within the
/// combined reported errors; the reported error bounds the distance to a much finer grid.
module FunctionalAsymptotics.Tests.Models.GaussianMixtureQuadratureTests

open System
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Models

/// `E x^(2j)` of `N(0, 1)`: `(2j - 1)!!`.
let private evenMoment (j: int) = Seq.fold (fun acc t -> acc * float (2 * t - 1)) 1.0 (seq { 1 .. j })

let tests =
    testList "Models.GaussianMixtureQuadrature" [
        testCase "the n-point rule integrates polynomials of degree <= 2n - 1 exactly under N(0, 1)" (fun () ->
            for n in [ 1; 2; 5; 13; 27 ] do
                let x, w = GaussHermite.rule n
                Expect.floatClose { absolute = 1e-14; relative = 1e-14 } (Array.sum w) 1.0 "weights sum to 1"
                for deg in 0 .. 2 * n - 1 do
                    let q = Array.fold2 (fun acc xi wi -> acc + wi * xi ** float deg) 0.0 x w
                    let exact = if deg % 2 = 1 then 0.0 else evenMoment (deg / 2)
                    // rounding scale: E|x|^deg <= (deg+1)!! ; nodes carry relative error ~1e-15
                    let scale = evenMoment ((deg + 1) / 2)
                    Expect.floatClose { absolute = 1e-13 * scale; relative = 1e-11 } q exact (sprintf "n = %d, degree %d" n deg)
            // and not beyond: degree 2n fails for n = 2 (E x^4 = 3, the rule gives 1)
            let x, w = GaussHermite.rule 2
            Expect.floatClose Accuracy.high (Array.fold2 (fun acc xi wi -> acc + wi * xi ** 4.0) 0.0 x w) 1.0 "degree 2n")
        testCase "tensor grids: n^dim nodes, E[y_1^2 y_2^2] = 1 and E[y_1 y_2] = 0" (fun () ->
            let nodes, w = GaussHermite.tensor 4 3
            Expect.equal w.Length 64 "4^3 nodes"
            let e f = Array.init w.Length (fun c -> w.[c] * f nodes.[3 * c] nodes.[3 * c + 1]) |> Array.sum
            Expect.floatClose Accuracy.high (e (fun a b -> a * a * b * b)) 1.0 "fourth cross moment"
            Expect.floatClose { absolute = 1e-15; relative = 0.0 } (e (fun a b -> a * b)) 0.0 "odd")
        testCase "the rotated adjoint is affine in xt_b, b >= r*, with slope e_i on entry (i, b) only" (fun () ->
            let k, d, beta = 3, 6, 1.7
            let u = GaussianMixture.uStar k d beta
            let pr = GaussianMixture.projector (k - 1) u
            let adj = GaussianMixture.adjoint pr u (GaussianMixture.thetaStar k d 1.0)
            let v = GaussianMixture.adjointBasis adj
            let rng = Random 3
            let xt = Array.init d (fun _ -> 2.0 * rng.NextDouble() - 1.0)
            let scratch = Array.zeroCreate (GaussianMixture.adjointScratchLength adj)
            let at (p: float[]) =
                let g = Array.zeroCreate (k * d)
                let phi = Array.zeroCreate (k * k)
                let e = Array.zeroCreate k
                GaussianMixture.adjointGradientRotated adj (ReadOnlySpan p) (Span g) (Span phi) (Span e) scratch
                // the same point through the original coordinates: x = V xt
                let x = (v * MathNet.Numerics.LinearAlgebra.Double.DenseVector(p)).ToArray()
                let g2 = Array.zeroCreate (k * d)
                let phi2 = Array.zeroCreate (k * k)
                GaussianMixture.adjointGradientIn false adj (ReadOnlySpan x) (Span g2) (Span phi2) scratch
                for j in 0 .. k * d - 1 do Expect.floatClose { absolute = 1e-12; relative = 1e-10 } g.[j] g2.[j] "rotated = original route"
                g, e
            let g0, e0 = at xt
            for b in k - 1 .. d - 1 do
                let t = 0.7
                let moved = Array.copy xt
                moved.[b] <- moved.[b] + t
                let g1, _ = at moved
                for i in 0 .. k - 1 do
                    for a in 0 .. d - 1 do
                        let expected = g0.[i * d + a] + (if a = b then t * e0.[i] else 0.0)
                        Expect.floatClose { absolute = 1e-12; relative = 1e-9 } g1.[i * d + a] expected (sprintf "entry (%d, %d) after moving xt_%d" i a b))
        testCase "quadrature agrees with the specialised and generic Monte Carlo routes within the combined errors" (fun () ->
            for (k, d, beta) in [ (2, 4, 2.0); (3, 5, 1.5) ] do
                let o = { GaussianMixturePretraining.defaultOptions with FisherSamples = 40_000; GramSamples = 20_000; Batches = 10 }
                let q = GaussianMixturePretraining.estimate Quadrature k d beta o
                Expect.equal q.Route Quadrature "route"
                for route, seed in [ Specialised, 7; Generic, 8 ] do
                    let mc = GaussianMixturePretraining.estimate route k d beta { o with Seed = seed }
                    let tol = 4.0 * sqrt (q.PretrainMeanStdErr ** 2.0 + mc.PretrainMeanStdErr ** 2.0)
                    Expect.isLessThan (abs (q.PretrainMean - mc.PretrainMean)) tol
                        (sprintf "K=%d d=%d: quadrature %g +- %g, %A %g +- %g" k d q.PretrainMean q.PretrainMeanStdErr route mc.PretrainMean mc.PretrainMeanStdErr)
                    Expect.equal q.DBase mc.DBase "same d_base"
                Expect.floatClose { absolute = 1e-12; relative = 1e-9 } (Array.sum q.Weights) q.PretrainMean "sum of weights = tr(V G)"
                Expect.isLessThan q.PretrainMeanStdErr (0.01 * q.PretrainMean) "resolved to 1%")
        testCase "the reported error bounds the distance to a much finer grid (K=3: beta=2, 4; K=4: beta=2)" (fun () ->
            for k, beta, fineTol in [ 3, 2.0, 1e-9; 3, 4.0, 1e-9; 4, 2.0, 1e-5 ] do
                let o = GaussianMixturePretraining.defaultOptions
                let coarse = GaussianMixturePretraining.estimate Quadrature k 6 beta o
                let fine = GaussianMixturePretraining.estimate Quadrature k 6 beta { o with QuadratureTolerance = fineTol }
                Expect.isLessThan (abs (coarse.PretrainMean - fine.PretrainMean)) (coarse.PretrainMeanStdErr + fine.PretrainMeanStdErr)
                    (sprintf "K=%d beta=%g: default %g +- %g, fine %g +- %g" k beta coarse.PretrainMean coarse.PretrainMeanStdErr fine.PretrainMean fine.PretrainMeanStdErr))

        testCase "the quadrature route's Fisher information equals the specialised route's within Monte Carlo error" (fun () ->
            let o = { GaussianMixturePretraining.defaultOptions with FisherSamples = 200_000; GramSamples = 2_000; Batches = 4 }
            let q = GaussianMixturePretraining.estimate Quadrature 3 4 2.0 o
            let s = GaussianMixturePretraining.estimate Specialised 3 4 2.0 o
            // entries are O(0.1-1); 200k draws give standard errors below 3e-3
            Expect.isLessThan (Linalg.maxAbs (q.Fisher - s.Fisher)) 0.02 "I(U*)")
    ]
