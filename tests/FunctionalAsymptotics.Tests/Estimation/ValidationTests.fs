/// Validation of a specification: one wrong specification per test, each raising its typed error with the
/// field and the numbers; the report when everything passes.
module FunctionalAsymptotics.Tests.Estimation.ValidationTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation

let private exact spec = SpecLaw.exact Validation.defaultOptions spec |> ignore
let private spec = RankOnePca.exactSpec

/// `sqrt(r) (cos t e_1 + sin t e_j)` as a 1 x d row.
let private row (r: float) (t: float) (j: int) =
    let w = Linalg.zeros 1 RankOnePca.d
    w.[0, 0] <- sqrt r * cos t
    w.[0, j] <- w.[0, j] + sqrt r * sin t
    w

let private throws<'E when 'E :> exn> (f: unit -> unit) : 'E =
    try
        f ()
        failtestf "expected %s" typeof<'E>.Name
    with :? 'E as e -> e

let tests =
    testList "Validation" [
        testCase "a correct specification passes and returns the numbers" (fun () ->
            let r = (SpecLaw.exact Validation.defaultOptions spec).Validation.Value
            Expect.isTrue (r.Invariance.Passed && r.Equivariance.Passed) "symmetry laws"
            Expect.isLessThan r.GradientNorm 1e-12 "grad L_pre(w*) = 0"
            let expected = [| 2.0 * RankOnePca.s.[0]; RankOnePca.s.[0] - RankOnePca.s.[2]; RankOnePca.s.[0] - RankOnePca.s.[1] |] |> Array.sortDescending
            Array.iter2 (fun a b -> Expect.floatClose Accuracy.high a b "H_h eigenvalues diag(2 s1, s1 - s_j)") r.HessianEigenvalues expected
            for c in r.Derivatives do Expect.isLessThan c.RelativeError 1e-8 (sprintf "%s relative error %g" c.Field c.RelativeError))

        testCase "theta* of the wrong length: DimensionMismatchException naming spec.ThetaStar" (fun () ->
            let e = throws<DimensionMismatchException> (fun () -> exact { spec with ThetaStar = [| 1.0; 2.0 |] })
            Expect.equal e.Argument "spec.ThetaStar" "field"
            Expect.equal e.Expected "length 1" "expected length"
            Expect.equal e.Actual "length 2" "actual length")

        testCase "w* of the wrong shape for the group action: DimensionMismatchException naming spec.WStar" (fun () ->
            let e = throws<DimensionMismatchException> (fun () -> exact { spec with WStar = Linalg.zeros RankOnePca.d 1 })
            Expect.equal e.Argument "spec.WStar" "field")

        testCase "w* not a critical point (wrong scale): NotCriticalPointException with the gradient norm" (fun () ->
            let e = throws<NotCriticalPointException> (fun () -> exact { spec with WStar = RankOnePca.wStar * 1.2 })
            // grad = ||w||^2 w - w S = (1.44 s1 - s1) 1.2 sqrt(s1) e_1.
            let s1 = RankOnePca.s.[0]
            Expect.floatClose Accuracy.high e.GradientNorm (0.44 * s1 * 1.2 * sqrt s1) "the gradient norm by hand"
            Expect.isGreaterThan e.GradientNorm e.Threshold "above the threshold")

        testCase "w* spanning the wrong subspace: NotCriticalPointException (closed form and Monte Carlo)" (fun () ->
            let tilted = row RankOnePca.s.[0] 0.6 1
            throws<NotCriticalPointException> (fun () -> exact { spec with WStar = tilted }) |> ignore
            let e = throws<NotCriticalPointException> (fun () ->
                        SpecLaw.monteCarlo { SpecLaw.defaultOptions with Samples = 4000 } (UserModel.spec { RankOnePca.userModel 2000 with WStar = tilted }) |> ignore)
            Expect.isGreaterThan e.GradientNorm (6.0 * e.StandardError) "many standard errors from 0")

        testCase "a saddle: NotLocalMinimiserException with the descent direction (not 'not identifiable')" (fun () ->
            // w = sqrt(s2) e_2 is a critical point; the Hessian there has s2 - s1 < 0 along e_1.
            let saddle = row RankOnePca.s.[1] (Math.PI / 2.0) 1
            let e = throws<NotLocalMinimiserException> (fun () -> exact { spec with WStar = saddle })
            Expect.equal e.Eigenvalues.Length 1 "one descent direction"
            Expect.floatClose Accuracy.high e.Eigenvalues.[0] (RankOnePca.s.[1] - RankOnePca.s.[0]) "eigenvalue s2 - s1"
            Expect.floatClose Accuracy.high (abs e.Directions.[0].[0, 0]) 1.0 "direction e_1"
            // Sandwich.population (no validation) says the same.
            throws<NotLocalMinimiserException> (fun () -> Sandwich.population { spec with WStar = saddle } |> ignore) |> ignore)

        testCase "a population Hessian off by a factor of 2: DerivativeMismatchException naming it" (fun () ->
            let pop = spec.Population.Value
            let doubled = { pop with HessianVector = fun w v -> pop.HessianVector w v * 2.0 }
            let e = throws<DerivativeMismatchException> (fun () -> exact { spec with Population = Some doubled })
            Expect.equal e.Field "spec.Population.HessianVector" "field"
            Expect.floatClose Accuracy.medium e.RelativeError 0.5 "|2H - H| / |2H| = 1/2")

        testCase "a per-sample gradient that is not the gradient: DerivativeMismatchException naming it" (fun () ->
            let wrong = { spec.Pretraining with Gradient = Some(fun w z -> RankOnePca.gradient w z * 1.1) }
            let e = throws<DerivativeMismatchException> (fun () -> exact { spec with Pretraining = wrong })
            Expect.equal e.Field "spec.Pretraining.Gradient" "field")

        testCase "a feature differential that does not match the feature map: DerivativeMismatchException" (fun () ->
            let repr = match spec.Representation with LinearGaussian r -> r | Sampled _ -> failwith "linear"
            let wrong = LinearGaussian { repr with FeatureDifferential = fun _ dw -> dw * 2.0 }
            let e = throws<DerivativeMismatchException> (fun () -> exact { spec with Representation = wrong })
            Expect.equal e.Field "spec.Representation.FeatureDifferential" "field"
            // Sampled representation: psi = w x with a differential of the wrong sign.
            let m = RankOnePca.userModel 100
            let sampledWrong =
                Sampled { Features = m.Features; FeatureDifferential = (fun _ x dw -> [| -(dw.Row(0).DotProduct(MathNet.Numerics.LinearAlgebra.Double.DenseVector(x))) |])
                          Sample = m.SampleDownstream; Count = 100; Seed = 1 }
            let e2 = throws<DerivativeMismatchException> (fun () -> exact { spec with Representation = sampledWrong })
            Expect.equal e2.Field "spec.Representation.FeatureDifferential" "field (sampled)")

        testCase "features that are not equivariant: SymmetryViolationException with the worst trial" (fun () ->
            // psi(x, w) = (w o w) x is invariant, not equivariant: psi(x, -w) = psi(x, w) <> -psi(x, w).
            let square (w: Matrix<float>) = w.PointwiseMultiply w
            let repr = LinearGaussian { FeatureMatrix = square; FeatureDifferential = (fun w dw -> (w.PointwiseMultiply dw) * 2.0); DownstreamCovariance = Linalg.eye RankOnePca.d }
            let e = throws<SymmetryViolationException> (fun () -> exact { spec with Representation = repr })
            Expect.equal e.Field "spec.Representation.FeatureMatrix" "field"
            Expect.floatClose Accuracy.high e.Report.WorstElement.[0, 0] -1.0 "the sign flip breaks it"
            Expect.isGreaterThan e.Report.WorstViolation 1.0 "a violation of order one")

        testCase "a loss that is not invariant: SymmetryViolationException naming the loss" (fun () ->
            let tilted = { spec.Pretraining with Loss = fun w z -> RankOnePca.loss w z + w.[0, 0] }
            let e = throws<SymmetryViolationException> (fun () -> exact { spec with Pretraining = tilted })
            Expect.equal e.Field "spec.Pretraining.Loss" "field")

        testCase "a flat horizontal direction: NotIdentifiableException" (fun () ->
            // Equal variances s1 = s2: the Hessian's (2,2) entry s1 - s2 vanishes.
            let flat = MathNet.Numerics.LinearAlgebra.Double.DenseMatrix.OfDiagonalArray [| 3.0; 3.0; 0.5 |] :> Matrix<float>
            let pop = { spec.Population.Value with HessianVector = fun w v -> v * Linalg.inner w w + w * (2.0 * Linalg.inner w v) - v * flat
                                                   Gradient = fun w -> w * Linalg.inner w w - w * flat }
            throws<NotIdentifiableException> (fun () -> exact { spec with Population = Some pop }) |> ignore)
    ]
