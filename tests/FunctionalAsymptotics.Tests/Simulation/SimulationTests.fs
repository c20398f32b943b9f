module FunctionalAsymptotics.Tests.Simulation.SimulationTests

open System
open System.IO
open System.Threading
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Models

let private tempDir (name: string) =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-sim-%s-%s" name (Guid.NewGuid().ToString("N")))
    Directory.CreateDirectory dir |> ignore
    dir

let private toyParams = (ModelRegistry.simulation "toy").Parameters |> List.map (fun p -> p.Name, p.Default) |> Map.ofList

let private spec grid reps shard shards =
    { Model = "toy"; Parameters = toyParams; Alpha = 2.0; Seed = 20260601UL; Grid = grid; Reps = reps; Shard = shard; Shards = shards }

let private toy alpha = (ModelRegistry.simulation "toy").Create alpha toyParams

let private runJson (model: PipelineModel) (s: RunSpec) (dir: string) =
    Engine.summarize model s (Store.readRecords dir) |> Report.toJson s

let private opts threads batch = { RunOptions.defaults with Threads = threads; BatchSize = batch }

/// The 1% critical value of sqrt(R) D_R (Kolmogorov distribution), for the sampling band at R replicates.
let private kolmogorov99 = 1.628

let tests =
    testList "Simulation" [
        testList "ReplicateStreams" [
            test "a stream depends only on (seed, n, r)" {
                let draw seed n r = let g = ReplicateStreams.derive seed n r in Array.init 8 (fun _ -> g.NextUInt64())
                Expect.equal (draw 1UL 100 3) (draw 1UL 100 3) "same key, same numbers"
                Expect.notEqual (draw 1UL 100 3) (draw 1UL 100 4) "replicate changes the stream"
                Expect.notEqual (draw 1UL 100 3) (draw 1UL 101 3) "n changes the stream"
                Expect.notEqual (draw 1UL 100 3) (draw 2UL 100 3) "seed changes the stream"
            }
            test "uniforms lie in (0, 1) with mean 1/2 and normals have variance 1" {
                let g = ReplicateStreams.derive 7UL 1 0
                let u = Array.init 100000 (fun _ -> g.NextDouble())
                Expect.isTrue (u |> Array.forall (fun x -> x > 0.0 && x < 1.0)) "open interval"
                // sd of the mean is 0.29 / sqrt(1e5) = 9e-4; 5 sd.
                Expect.isLessThan (abs (Array.average u - 0.5)) 0.0046 "mean"
                let z = Array.init 100000 (fun _ -> g.NextNormal())
                let v = z |> Array.averageBy (fun x -> x * x)
                // sd of the mean square is sqrt(2 / 1e5) = 4.5e-3; 5 sd.
                Expect.isLessThan (abs (v - 1.0)) 0.023 "variance"
            }
            test "FillNormal is Box-Muller on the stream's uniforms, chunk by chunk, and leaves the stream where it says" {
                for len in [ 1; 2; 7; 512; 513; 1001 ] do
                    let g = ReplicateStreams.derive 3UL 10 len
                    let h = ReplicateStreams.derive 3UL 10 len
                    let z = Array.zeroCreate len
                    g.FillNormal(Span z)
                    let mutable start = 0
                    while start < len do
                        let c = min 512 (len - start)
                        let half = (c + 1) / 2
                        let u1 = Array.init half (fun _ -> h.NextDouble())
                        let u2 = Array.init half (fun _ -> h.NextDouble())
                        for i in 0 .. c - 1 do
                            let j = if i < half then i else i - half
                            let r = sqrt (-2.0 * log u1.[j])
                            let expected = if i < half then r * cos (2.0 * Math.PI * u2.[j]) else r * sin (2.0 * Math.PI * u2.[j])
                            Expect.isLessThan (abs (z.[start + i] - expected)) 1e-13 (sprintf "length %d, place %d" len (start + i))
                        start <- start + c
                    Expect.equal (g.NextUInt64()) (h.NextUInt64()) (sprintf "length %d: same stream position after the fill" len)
            }
            test "FillNormal draws are standard normal (Kolmogorov distance of 2e5 draws inside the 99% band)" {
                let g = ReplicateStreams.derive 11UL 1 0
                let z = Array.zeroCreate 200000
                g.FillNormal(Span z)
                let d = Metrics.kolmogorov (fun t -> MathNet.Numerics.Distributions.Normal.CDF(0.0, 1.0, t)) z
                Expect.isLessThan d (1.628 / sqrt 200000.0) "KS against N(0, 1)"
            }
        ]
        testList "Metrics" [
            test "Kolmogorov distance of the mid-quantile sample of U(0,1) is 1/(2R)" {
                let r = 50
                let xs = Array.init r (fun i -> (float i + 0.5) / float r) |> Array.rev
                Expect.floatClose Accuracy.veryHigh (Metrics.kolmogorov id xs) (0.5 / float r) "D = 1/(2R)"
            }
            test "Kolmogorov distance of a sample entirely above the support is 1" {
                Expect.equal (Metrics.kolmogorov (fun t -> if t < 0.0 then 0.0 elif t > 1.0 then 1.0 else t) [| 2.0; 3.0 |]) 1.0 "D = 1"
            }
            test "mean, standard error and exceedance" {
                let m, se = Metrics.meanStdErr [| 1.0; 2.0; 3.0; 4.0 |]
                Expect.equal m 2.5 "mean"
                Expect.floatClose Accuracy.veryHigh se (sqrt (5.0 / 3.0 / 4.0)) "se"
                Expect.equal (Metrics.exceedance 10.0 0.05 [| 10.4; 10.6; 9.4; 10.0 |]) 0.5 "|x - 10| > 0.5 twice"
            }
        ]
        testList "ToyModel" [
            test "parts add up, are non-negative, and a replicate is reproducible" {
                let model = toy 2.0
                let a = Engine.replicate model 5UL 2.0 50 7
                let b = Engine.replicate model 5UL 2.0 50 7
                Expect.equal a b "same (seed, n, r), same outcome"
                Expect.floatClose Accuracy.veryHigh a.Total (a.Pretrain + a.Leak + a.Variance) "E = Rep + Leak + Var"
                Expect.isTrue (a.Pretrain >= 0.0 && a.Leak >= 0.0 && a.Variance > 0.0) "signs"
            }
            test "Proposition B.1 parts agree with least squares on the full design and with label-noise Monte Carlo" {
                // Replays the toy's draws (W first, then the design row by row) from the same stream, and
                // recomputes the risk from the explicit n x k feature matrix by QR least squares.
                let d, k, sd, sigma, alpha, n, r = 5, 2, 1.3, 0.8, 1.5, 12, 3
                let model = ToyModel.create d k sd sigma alpha
                let o = Engine.replicate model 11UL alpha n r
                let rng = ReplicateStreams.derive 11UL n r
                let m = RunSpec.preTrainingSize alpha n
                let w = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(d, k, fun i j ->
                            (if i = j then 1.0 else 0.0) + sd / sqrt (float m) * rng.NextNormal())
                let x = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, d)
                for i in 0 .. n - 1 do
                    for j in 0 .. d - 1 do
                        x.[i, j] <- rng.NextNormal()
                let theta = [| 1.0; 0.5 |] |> Array.map (fun t -> t / sqrt 1.25)
                let beta = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.Dense(d, fun i -> if i < k then theta.[i] else 0.0)
                let f = x * w
                let fStar = x * beta
                // Noise-free fit: ||W theta_n - beta*||^2 = Rep + Leak (the design is N(0, I), so L2 = Euclidean).
                let thetaN = f.QR().Solve(fStar)
                let bias = (w * thetaN - beta).L2Norm() ** 2.0
                Expect.floatClose Accuracy.high (float n * bias) (o.Pretrain + o.Leak) "n (Rep + Leak)"
                let gram = f.TransposeThisAndMultiply(f) / float n
                Expect.floatClose Accuracy.high (sigma * sigma * (w.TransposeThisAndMultiply(w) * gram.Inverse()).Trace()) o.Variance "variance term"
                // Label noise by Monte Carlo: E ||W theta_hat - beta*||^2 = (R - sigma^2).
                let noise = ReplicateStreams.derive 99UL 0 0
                let trials = 20000
                let excess =
                    Array.init trials (fun _ ->
                        let y = fStar + MathNet.Numerics.LinearAlgebra.Vector<float>.Build.Dense(n, fun _ -> sigma * noise.NextNormal())
                        float n * ((w * f.QR().Solve(y) - beta).L2Norm() ** 2.0))
                let mean, se = Metrics.meanStdErr excess
                Expect.isLessThan (abs (mean - o.Total)) (5.0 * se) (sprintf "MC %g +- %g vs exact %g" mean se o.Total)
            }
            test "limit law is sigma^2 k + alpha^-1 s^2 chi^2_{d-k}" {
                let model = ToyModel.create 7 3 1.5 0.5 4.0
                Expect.equal model.Law.Weights (Array.create 4 2.25) "weights s^2, d - k of them"
                Expect.floatClose Accuracy.veryHigh model.Law.Mean (0.25 * 3.0 + 2.25 * 4.0 / 4.0) "mean"
                Expect.floatClose Accuracy.veryHigh model.SigmaSquaredDEff 0.75 "sigma^2 d_eff"
            }
            test "bad parameters are rejected by name" {
                Expect.throwsT<InvalidArgumentException> (fun () -> ToyModel.create 2 2 1.0 1.0 1.0 |> ignore) "d <= k"
                Expect.throwsT<InvalidArgumentException> (fun () -> ModelFactory.resolve (ModelRegistry.simulation "toy") [ "q", 1.0 ] |> ignore) "unknown"
            }
            test "KS distances shrink along the grid and are inside the 1% sampling band at the largest n" {
                let reps = 400
                let s = spec [| 8; 32; 128; 1024 |] reps 1 1
                let dir = tempDir "conv"
                let status = Engine.run (toy s.Alpha) s dir (opts 2 64) CancellationToken.None
                Expect.equal status Completed "completed"
                let summary = Engine.summarize (toy s.Alpha) s (Store.readRecords dir)
                let band = kolmogorov99 / sqrt (float reps)
                let first, last = summary.[0], summary.[summary.Length - 1]
                Expect.isGreaterThan first.KsTotal band "at n = 8 the total is visibly off its limit"
                Expect.isLessThan last.KsTotal first.KsTotal "KS total shrinks"
                Expect.isLessThan last.KsPretrain first.KsPretrain "KS pretrain shrinks"
                Expect.isLessThan last.KsTotal band "KS total inside the band at n = 1024"
                Expect.isLessThan last.KsPretrain band "KS pretrain inside the band at n = 1024"
                Expect.isLessThan last.PVar first.PVar "variance concentrates"
            }
        ]
        testList "Engine" [
            test "merged shards equal an unsharded run bit for bit" {
                let grid = [| 10; 40; 160 |]
                let model = toy 2.0
                let whole = spec grid 30 1 1
                let wholeDir = tempDir "whole"
                Expect.equal (Engine.run model whole wholeDir (opts 2 16) CancellationToken.None) Completed "whole"
                let shardDirs =
                    [ for i in 1 .. 3 ->
                        let d = tempDir (sprintf "shard%d" i)
                        Expect.equal (Engine.run model (spec grid 30 i 3) d (opts 1 (5 + i)) CancellationToken.None) Completed "shard"
                        d ]
                let sizes = shardDirs |> List.map (fun d -> (Store.readRecords d).Length)
                Expect.equal (List.sum sizes) 90 "shards partition the replicates"
                Expect.isTrue (sizes |> List.forall (fun c -> c = 30)) "evenly"
                let mergedDir = tempDir "merged"
                Directory.Delete mergedDir
                let merged = Store.merge shardDirs mergedDir
                Expect.equal (runJson model merged mergedDir) (runJson model whole wholeDir) "same JSON"
                Expect.equal (File.ReadAllText(Path.Combine(mergedDir, Store.RecordsFile)))
                             (File.ReadAllText(Path.Combine(wholeDir, Store.RecordsFile))) "same records, byte for byte"
                Expect.throwsT<InvalidArgumentException> (fun () -> Store.merge (List.take 2 shardDirs) (tempDir "partial") |> ignore) "a missing shard is refused"
            }
            test "a failing model surfaces its own exception; a non-finite outcome is refused" {
                let s = spec [| 10 |] 20 1 1
                let model = toy 2.0
                let failing = { model with Replicate = fun ctx -> if ctx.Replicate = 13 then raise (ConvergenceException("EM", 5, 1.0, 1e-6)) else model.Replicate ctx }
                let dir = tempDir "failing"
                Expect.throwsT<ConvergenceException> (fun () -> Engine.run failing s dir (opts 2 4) CancellationToken.None |> ignore) "the model's exception"
                Expect.equal (Store.readRecords dir).Length 12 "the batches before the failure are stored"
                let nan = { model with Replicate = fun ctx -> { model.Replicate ctx with Leak = nan } }
                Expect.throwsT<FunctionalAsymptoticsException> (fun () -> Engine.run nan s (tempDir "nan") (opts 1 4) CancellationToken.None |> ignore) "NaN refused"
            }
            test "a killed and resumed run equals an uninterrupted one" {
                let grid = [| 10; 40; 160 |]
                let s = spec grid 30 1 1
                let model = toy 2.0
                let cleanDir = tempDir "clean"
                Expect.equal (Engine.run model s cleanDir (opts 2 8) CancellationToken.None) Completed "clean"
                use cts = new CancellationTokenSource()
                let calls = ref 0
                let killing =
                    { model with Replicate = fun ctx -> (if Interlocked.Increment(&calls.contents) = 37 then cts.Cancel()); model.Replicate ctx }
                let dir = tempDir "killed"
                Expect.equal (Engine.run killing s dir (opts 2 8) cts.Token) Cancelled "cancelled"
                let partial = (Store.readRecords dir).Length
                Expect.isTrue (partial >= 36 && partial < 90) (sprintf "finished replicates are kept (%d)" partial)
                // A kill during a write leaves a torn line: resume must drop it.
                File.AppendAllText(Path.Combine(dir, Store.RecordsFile), "{\"n\":160,\"r\":29,\"tot")
                Expect.throwsT<InvalidArgumentException> (fun () -> Engine.run model s dir (opts 2 8) CancellationToken.None |> ignore) "no overwrite without resume"
                Expect.throwsT<RunStoreException>
                    (fun () -> Engine.run model { s with Seed = 1UL } dir { opts 2 8 with Resume = true } CancellationToken.None |> ignore) "resume needs the same run"
                let recomputed = ref 0
                let counting = { model with Replicate = fun ctx -> Interlocked.Increment(&recomputed.contents) |> ignore; model.Replicate ctx }
                Expect.equal (Engine.run counting s dir { opts 1 5 with Resume = true } CancellationToken.None) Completed "resumed"
                Expect.equal recomputed.Value (90 - partial) "only the missing replicates are computed"
                Expect.equal (runJson model s dir) (runJson model s cleanDir) "same JSON"
            }
        ]
    ]
