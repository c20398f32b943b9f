module FunctionalAsymptotics.Tests.Distributions.WishartTests

open System
open Expecto
open MathNet.Numerics
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions

/// A fixed lower-triangular factor with unequal scales and correlations (d = 3).
let private l : Matrix<float> = Matrix<float>.Build.DenseOfRowArrays([| [| 1.0; 0.0; 0.0 |]; [| 0.6; 0.8; 0.0 |]; [| -0.3; 0.5; 1.5 |] |])
let private sigma : Matrix<float> = l * l.Transpose()

let private logDet (w: Matrix<float>) = w.Cholesky().DeterminantLn

/// `X^T X` from `n` explicit rows `L z`, `z ~ N(0, I)` (the definition the Bartlett draw must match in law).
let private explicitScatter (rng: Random) (n: int) : Matrix<float> =
    let x = Linalg.randn rng n 3 * l.Transpose()
    x.TransposeThisAndMultiply x

let tests =
    testList "Wishart" [
        testCase "entries have the Wishart mean n Sigma and variance n (Sigma_ij^2 + Sigma_ii Sigma_jj)" <| fun () ->
            let rng = Random(5)
            let n, draws = 40, 20_000
            let ws = Array.init draws (fun _ -> Wishart.scatter rng n l)
            for i in 0 .. 2 do
                for j in 0 .. 2 do
                    let xs = ws |> Array.map (fun w -> w.[i, j])
                    let mean = Array.average xs
                    let var = float n * (sigma.[i, j] ** 2.0 + sigma.[i, i] * sigma.[j, j])
                    Expect.floatClose { absolute = 5.0 * sqrt (var / float draws); relative = 0.0 } mean (float n * sigma.[i, j]) (sprintf "mean (%d, %d)" i j)
                    let v = xs |> Array.averageBy (fun x -> (x - mean) ** 2.0)
                    // the sample variance's own standard error is below var * sqrt(2 (1 + kurtosis) / draws) <= var * 0.06 here
                    Expect.floatClose { absolute = 0.0; relative = 0.06 } v var (sprintf "variance (%d, %d)" i j)
        testCase "E log det W = log det Sigma + sum_i psi((n - i) / 2) + d log 2 (closed form)" <| fun () ->
            let rng = Random(6)
            let n, draws = 12, 20_000
            let logDets = Array.init draws (fun _ -> logDet (Wishart.scatter rng n l))
            let exact = logDet sigma + Seq.sum [ for i in 0 .. 2 -> SpecialFunctions.DiGamma(0.5 * float (n - i)) ] + 3.0 * log 2.0
            let m = Array.average logDets
            let sd = sqrt (logDets |> Array.averageBy (fun x -> (x - m) ** 2.0))
            Expect.floatClose { absolute = 5.0 * sd / sqrt (float draws); relative = 0.0 } m exact "mean log det"
        testCase "same law as the scatter of explicit rows (two-sample KS of log det, smallest eigenvalue, an off-diagonal entry)" <| fun () ->
            let draws = 4000
            let crit = TwoSampleKs.critical999 draws
            for n in [ 5; 60 ] do
                let rb, re = Random(7 + n), Random(8 + n)
                let bart = Array.init draws (fun _ -> Wishart.scatter rb n l)
                let expl = Array.init draws (fun _ -> explicitScatter re n)
                for name, f in [ "log det", (fun (w: Matrix<float>) -> logDet w)
                                 "smallest eigenvalue", (fun (w: Matrix<float>) -> w.Evd().EigenValues |> Seq.map (fun c -> c.Real) |> Seq.min)
                                 "entry (3, 1)", (fun (w: Matrix<float>) -> w.[2, 0]) ] do
                    let d = TwoSampleKs.statistic (Array.map f bart) (Array.map f expl)
                    Expect.isLessThan d crit (sprintf "n = %d, %s: KS %.4f" n name d)
        testCase "seeded, symmetric, and the row route below d + 1 rows (rank n)" <| fun () ->
            let a = Wishart.scatter (Random(9)) 30 l
            let b = Wishart.scatter (Random(9)) 30 l
            Expect.equal (a.ToArray()) (b.ToArray()) "same seed, same matrix"
            Expect.equal (a.ToArray()) (a.Transpose().ToArray()) "symmetric"
            let small = Wishart.scatter (Random(10)) 2 l
            Expect.equal (small.Rank()) 2 "two rows: rank 2"
            Expect.throwsT<InvalidArgumentException> (fun () -> Wishart.scatter (Random(1)) 0 l |> ignore) "n >= 1"
            Expect.throwsT<DimensionMismatchException> (fun () -> Wishart.scatter (Random(1)) 5 (Linalg.zeros 3 2) |> ignore) "square factor"
    ]
