/// Derivatives computed by the library (Richardson differences) against the analytic derivatives of the
/// shipped spectral and factor models: the accuracy stated in docs/your-own-model.md (measured on 20 samples:
/// spectral 8e-14 / 7e-12 / 2e-14, factor 3e-13 / 5e-11 / 3e-13 for score / Hessian / feature differential).
module FunctionalAsymptotics.Tests.Estimation.DerivativesTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Models

/// The worst relative errors (score, Hessian, feature differential) of the loss-only derivatives on `Hor(w*)`
/// over `count` seeded samples. Relative to the Frobenius norm of the analytic quantity.
let accuracy (spec: ModelSpec<float[]>) (count: int) =
    let basis = GroupAction.horizontalBasis spec.Action spec.WStar
    let lossOnly = { spec.Pretraining with Gradient = None; HessianVector = None }
    let rng = Random 3
    let mutable eg, eh = 0.0, 0.0
    for _ in 1 .. count do
        let z = spec.Pretraining.Sample rng
        let g, h = Derivatives.scoreAndHessian spec.Pretraining spec.WStar basis z
        let gf, hf = Derivatives.scoreAndHessian lossOnly spec.WStar basis z
        let gv, gfv = Vector<float>.Build.DenseOfArray g, Vector<float>.Build.DenseOfArray gf
        eg <- max eg ((gv - gfv).L2Norm() / gv.L2Norm())
        eh <- max eh (Linalg.norm (h - hf) / Linalg.norm h)
    let r = ModelSpec.linear spec
    let fd = Derivatives.featureMatrixDifferential r.FeatureMatrix
    let ef = basis |> Array.map (fun b -> let a = r.FeatureDifferential spec.WStar b in Linalg.norm (a - fd spec.WStar b) / Linalg.norm a) |> Array.max
    eg, eh, ef

let tests =
    testList "Derivatives" [
        testCase "Richardson score, Hessian and feature differential match the spectral model's analytic ones" (fun () ->
            let eg, eh, ef = accuracy (Spectral.spec (Spectral.defaultConfig 5 2 1.0)) 20
            Expect.isLessThan eg 1e-11 (sprintf "score relative error %g" eg)
            Expect.isLessThan eh 1e-9 (sprintf "Hessian relative error %g" eh)
            Expect.isLessThan ef 1e-11 (sprintf "feature differential relative error %g" ef))
        testCase "Richardson score, Hessian and feature differential match the factor model's analytic ones" (fun () ->
            let cfg = { Loadings = Factor.drawLoadings 3 4 2; Beta = [| 1.0; 0.5 |]; SigmaNu2 = 0.5 }
            let eg, eh, ef = accuracy (Factor.spec cfg) 20
            Expect.isLessThan eg 1e-11 (sprintf "score relative error %g" eg)
            Expect.isLessThan eh 1e-9 (sprintf "Hessian relative error %g" eh)
            Expect.isLessThan ef 1e-11 (sprintf "feature differential relative error %g" ef))
        testCase "Richardson differences of a polynomial of degree <= 5 are exact to rounding" (fun () ->
            // Central differences of a quintic have errors h^2 and h^4 only, both cancelled by the table.
            let f (w: Matrix<float>) = let x = w.[0, 0] in x ** 5.0 - 2.0 * x ** 3.0 + x
            let w = Linalg.ofColumnMajor 1 1 [| 0.7 |]
            let e = Linalg.ofColumnMajor 1 1 [| 1.0 |]
            Expect.floatClose Accuracy.high (Derivatives.directional f w e) (5.0 * 0.7 ** 4.0 - 6.0 * 0.49 + 1.0) "f'"
            Expect.floatClose { absolute = 1e-9; relative = 1e-9 } (Derivatives.secondDirectional f w e) (20.0 * 0.7 ** 3.0 - 12.0 * 0.7) "f''")
    ]
