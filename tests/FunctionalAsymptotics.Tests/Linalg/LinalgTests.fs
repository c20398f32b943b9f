/// `Linalg`: the decompositions at every finite magnitude (the former hang and IndexOutOfRangeException of
/// MathNet's QL iteration on entries beyond about 1e154) and their refusal of non-finite input.
module FunctionalAsymptotics.Tests.Linalg.LinalgTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics

/// A random symmetric 4 x 4 matrix with entries in [-1, 1] and a power of two far outside 2^-400 .. 2^400.
let private scaledCase =
    gen {
        let! entries = Gen.arrayOfLength 16 (Gen.choose (-1000, 1000) |> Gen.map (fun i -> float i / 1000.0))
        let! exponent = Gen.elements [ -1000; -700; -450; 450; 700; 1000 ]
        return entries, exponent
    }

let tests =
    testList "Linalg" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 200 } "eigenvalues and singular values scale with the matrix: eig(2^e A) = 2^e eig(A) at any finite magnitude" <|
            Prop.forAll (Arb.fromGen scaledCase) (fun (entries, exponent) ->
                let a = DenseMatrix.OfColumnMajor(4, 4, entries)
                let a = (a + a.Transpose()) * 0.5
                let c = Math.ScaleB(1.0, exponent)
                let lam, v = Linalg.eigSymDesc a
                let lamScaled, vScaled = Linalg.eigSymDesc (a * c)
                let sv = Linalg.singularValues a
                let svScaled = Linalg.singularValues (a * c)
                let close (x: float) (y: float) scale = abs (x * c - y) <= 1e-12 * scale * c
                let top = max (abs lam.[0]) (abs lam.[3])
                Array.forall2 (fun x y -> close x y top) lam lamScaled
                && Array.forall2 (fun x y -> close x y sv.[0]) sv svScaled
                && (v - vScaled).Enumerate() |> Seq.forall (fun d -> Double.IsFinite d))

        testCase "beta*-sized entries (1e200) decompose; NaN and infinities are refused up front" (fun () ->
            let lam, _ = Linalg.eigSymDesc (DenseMatrix.OfDiagonalArray [| 1e200; 3e200; 2e200 |])
            Expect.equal lam [| 3e200; 2e200; 1e200 |] "diagonal eigenvalues, descending"
            for bad in [ nan; infinity; -infinity ] do
                let m = DenseMatrix.OfDiagonalArray [| 1.0; 2.0 |]
                m.[0, 1] <- bad
                Expect.throwsT<NonFiniteException> (fun () -> Linalg.eigSymDesc m |> ignore) "eigSymDesc"
                Expect.throwsT<NonFiniteException> (fun () -> Linalg.singularValues m |> ignore) "singularValues"
                Expect.throwsT<NonFiniteException> (fun () -> Linalg.numericalRank 1e-10 m |> ignore) "numericalRank")
    ]
