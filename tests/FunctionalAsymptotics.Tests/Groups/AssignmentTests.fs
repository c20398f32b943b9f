/// The Hungarian algorithm is exactly optimal (checked against brute force on small K).
module FunctionalAsymptotics.Tests.Groups.AssignmentTests

open System
open Expecto
open FsCheck
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

let rec permutations (xs: int list) : int list list =
    match xs with
    | [] -> [ [] ]
    | _ -> [ for x in xs do for rest in permutations (List.filter ((<>) x) xs) -> x :: rest ]

let bruteForce (cost: float[,]) =
    let n = Array2D.length1 cost
    permutations [ 0 .. n - 1 ] |> List.map (fun p -> p |> List.mapi (fun i j -> cost.[i, j]) |> List.sum) |> List.min

let config = { FsCheckConfig.defaultConfig with maxTest = 200 }

let tests =
    testList "Groups.Assignment" [
        testPropertyWithConfig config "Hungarian equals the brute-force optimum (K <= 6)" (fun (DoNotSize (seed: int)) ->
            let rng = Random(seed)
            let n = 1 + rng.Next(6)
            // integer-ish costs create ties, the hard case
            let cost = Array2D.init n n (fun _ _ -> if rng.Next(2) = 0 then float (rng.Next(4)) else Linalg.gaussian rng)
            let a = Assignment.hungarian cost
            Expect.equal (Array.sort a) [| 0 .. n - 1 |] "a permutation"
            let total = a |> Array.mapi (fun i j -> cost.[i, j]) |> Array.sum
            Expect.floatClose Accuracy.high total (bruteForce cost) "optimal")
        testCase "large K is fast (K = 200)" (fun () ->
            let rng = Random 5
            let cost = Array2D.init 200 200 (fun _ _ -> rng.NextDouble())
            let sw = Diagnostics.Stopwatch.StartNew()
            let a = Assignment.hungarian cost
            Expect.equal (Array.sort a) [| 0 .. 199 |] "a permutation"
            Expect.isLessThan sw.Elapsed.TotalSeconds 2.0 "O(K^3)")
        testCase "non-square cost is a dimension error" (fun () ->
            Expect.throwsT<DimensionMismatchException> (fun () -> Assignment.hungarian (Array2D.zeroCreate 2 3) |> ignore) "non-square")
    ]
