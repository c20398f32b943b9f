/// The checked `Manifold` operations raise typed errors on bad input.
module FunctionalAsymptotics.Tests.Geometry.ManifoldTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry

let throwsT<'E when 'E :> exn> (f: unit -> unit) (msg: string) =
    let ok =
        try
            f ()
            false
        with
        | :? 'E -> true
    Expect.isTrue ok (sprintf "%s: expected %s" msg typeof<'E>.Name)

let tests =
    testList "Geometry.Manifold" [
        testCase "a point off the sphere raises OffManifoldException with its residual" (fun () ->
            let m = Sphere.create 3
            let x = DenseMatrix.OfArray(array2D [ [ 2.0 ]; [ 0.0 ]; [ 0.0 ] ])
            try
                Manifold.project m x x |> ignore
                failtest "expected OffManifoldException"
            with :? OffManifoldException as e ->
                Expect.floatClose Accuracy.high e.Distance 1.0 "residual | ||x|| - 1 |"
                Expect.equal e.Argument "x" "names the argument")
        testCase "a point within tolerance is accepted" (fun () ->
            let m = Sphere.create 3
            let x = DenseMatrix.OfArray(array2D [ [ 1.0 + 1e-12 ]; [ 0.0 ]; [ 0.0 ] ])
            Manifold.checkPoint m "x" x)
        testCase "a non-orthonormal Stiefel point is rejected" (fun () ->
            let m = Stiefel.create 4 2
            throwsT<OffManifoldException> (fun () -> Manifold.checkPoint m "x" (Linalg.randn (Random 1) 4 2)) "Stiefel")
        testCase "a non-projector is not on the Grassmannian" (fun () ->
            let m = Grassmann.create 4 2
            throwsT<OffManifoldException> (fun () -> Manifold.checkPoint m "x" (Linalg.eye 4 * 0.5)) "Grassmann")
        testCase "a rank-3 matrix is off FixedRankPsd(4,2); a rank-1 one is rank deficient" (fun () ->
            let m = FixedRankPsd.create 4 2
            let d3 = DenseMatrix.OfDiagonalArray [| 3.0; 2.0; 1.0; 0.0 |]
            throwsT<OffManifoldException> (fun () -> Manifold.checkPoint m "x" d3) "rank 3"
            let d1 = DenseMatrix.OfDiagonalArray [| 3.0; 0.0; 0.0; 0.0 |]
            throwsT<RankDeficientException> (fun () -> Manifold.project m d1 d1 |> ignore) "rank 1"
            throwsT<RankDeficientException> (fun () -> Manifold.checkPoint m "x" d1) "checkPoint says so too")
        testCase "an indefinite matrix is off FixedRankPsd" (fun () ->
            let m = FixedRankPsd.create 3 2
            throwsT<OffManifoldException> (fun () -> Manifold.checkPoint m "x" (DenseMatrix.OfDiagonalArray [| 1.0; -1.0; 0.0 |])) "indefinite")
        testCase "wrong shapes raise DimensionMismatchException" (fun () ->
            let m = Stiefel.create 4 2
            let x = m.RandomPoint(Random 1)
            throwsT<DimensionMismatchException> (fun () -> Manifold.project m x (Linalg.zeros 2 4) |> ignore) "tangent shape"
            throwsT<DimensionMismatchException> (fun () -> Manifold.checkPoint m "x" (Linalg.zeros 4 3)) "point shape")
        testCase "non-finite input raises NonFiniteException" (fun () ->
            let m = Euclidean.create 2 2
            let x = Linalg.zeros 2 2
            x.[1, 1] <- nan
            throwsT<NonFiniteException> (fun () -> Manifold.checkPoint m "x" x) "NaN")
        testCase "k > n and other bad sizes raise InvalidArgumentException" (fun () ->
            throwsT<InvalidArgumentException> (fun () -> Stiefel.create 2 3 |> ignore) "Stiefel k > n"
            throwsT<InvalidArgumentException> (fun () -> Grassmann.create 3 3 |> ignore) "Grassmann k = n"
            throwsT<InvalidArgumentException> (fun () -> FixedRankPsd.create 3 4 |> ignore) "FixedRankPsd k > d"
            throwsT<InvalidArgumentException> (fun () -> Sphere.create 1 |> ignore) "Sphere n = 1"
            throwsT<InvalidArgumentException> (fun () -> Product.create [||] |> ignore) "empty product")
        testCase "exp on a manifold without a closed form is a clear error" (fun () ->
            let m = FixedRankPsd.create 3 1
            let x = m.RandomPoint(Random 2)
            throwsT<InvalidArgumentException> (fun () -> Manifold.exp m x x |> ignore) "no exp")
        testCase "the Hessian matrix of the sphere's Rayleigh quotient at an eigenvector" (fun () ->
            // f(x) = 1/2 x^T A x on S^2 with A = diag(1,2,3), at x = e1: Hess = diag(2-1, 3-1) in the tangent basis.
            let m = Sphere.create 3
            let a = DenseMatrix.OfDiagonalArray [| 1.0; 2.0; 3.0 |]
            let x = DenseMatrix.OfArray(array2D [ [ 1.0 ]; [ 0.0 ]; [ 0.0 ] ])
            let h = Manifold.hessianMatrix m x (a * x) (fun v -> a * v)
            let eig = Linalg.eigSymDesc h |> fst
            Expect.floatClose Accuracy.high eig.[0] 2.0 "largest"
            Expect.floatClose Accuracy.high eig.[1] 1.0 "smallest")
    ]
