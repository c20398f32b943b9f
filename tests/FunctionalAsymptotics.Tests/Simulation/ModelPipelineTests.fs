/// The spectral and factor simulation adapters run through the generic engine: convergence of the KS
/// distances along n (issue 6 acceptance), shard-merge bit identity for a real model, and the parts.
module FunctionalAsymptotics.Tests.Simulation.ModelPipelineTests

open System
open System.IO
open System.Threading
open Expecto
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Tests.Distributions

let private tempDir (name: string) =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-pipe-%s-%s" name (Guid.NewGuid().ToString("N")))
    Directory.CreateDirectory dir |> ignore
    dir

let private defaults (f: ModelFactory) = f.Parameters |> List.map (fun p -> p.Name, p.Default) |> Map.ofList

let private runGrid (f: ModelFactory) (alpha: float) (grid: int[]) (reps: int) (seed: uint64) (shard: int) (shards: int) (dir: string) =
    let model = f.Create alpha (defaults f)
    let spec = { Model = f.Name; Parameters = defaults f; Alpha = alpha; Seed = seed; Grid = grid; Reps = reps; Shard = shard; Shards = shards }
    let status = Engine.run model spec dir { RunOptions.defaults with Threads = 2 } CancellationToken.None
    Expect.equal status Completed "run completed"
    model, spec

/// 99% band of the one-sample KS statistic at R replicates.
let private band reps = 1.628 / sqrt (float reps)

let private convergence (f: ModelFactory) (grid: int[]) (reps: int) =
    let dir = tempDir f.Name
    let model, spec = runGrid f 1.0 grid reps 20261128UL 1 1 dir
    let summary = Engine.summarize model spec (Store.readRecords dir)
    let first, last = summary.[0], summary.[summary.Length - 1]
    Expect.isLessThan last.KsTotal first.KsTotal "KS of the total shrinks along n"
    Expect.isLessThan last.KsPretrain first.KsPretrain "KS of the pre-training part shrinks along n"
    Expect.isLessThan last.KsTotal (band reps) "total inside the sampling band at the largest n"
    Expect.isLessThan last.KsPretrain (band reps) "pre-training part inside the sampling band at the largest n"
    Expect.isLessThan last.PVar first.PVar "the variance part concentrates"

/// The pipeline's replicates (scatter matrices drawn from their Wishart laws) against replicates computed from
/// explicit samples (`explicitTotal rng`: every pre-training sample and design row drawn): the same law of the
/// total, by the two-sample KS statistic below its 99.9% critical value.
let private sameLawAsExplicit (model: PipelineModel) (n: int) (explicitTotal: Random -> float) =
    let reps = 1500
    let piped = Array.init reps (fun r -> (Engine.replicate model 3UL 2.0 n r).Total)
    let rng = Random 17
    let explicitly = Array.init reps (fun _ -> explicitTotal rng)
    let d = TwoSampleKs.statistic piped explicitly
    Expect.isLessThan d (TwoSampleKs.critical999 reps) (sprintf "two-sample KS %.4f" d)

/// The mixture's `U*` (`beta = 2`), a perturbation `U` of it (entries uniform on `+-scale / 2`, from `Random seed`,
/// returned for further draws), the compact basis at `U` and the target at `|theta*| = 10`.
let private perturbedMixture (k: int) (d: int) (scale: float) (seed: int) =
    let uStar = FunctionalAsymptotics.Models.GaussianMixture.uStar k d 2.0
    let rng = Random seed
    let u = uStar + MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(d, k, fun _ _ -> scale * (rng.NextDouble() - 0.5))
    uStar, rng, u, GaussianMixturePipeline.compactBasis u, GaussianMixturePipeline.target uStar 10.0

let tests =
    testList "Simulation.ModelPipelines" [
        test "spectral d=6 k=2: KS distances shrink along n and end inside the band" {
            convergence (ModelRegistry.simulation "spectral") [| 30; 2000 |] 300
        }
        test "factor d=8 k=2: KS distances shrink along n and end inside the band" {
            // A replicate costs the same at any n (Wishart-drawn scatter matrices), so the last point sits far
            // out, where the finite-n bias of the KS distance is negligible against its 300-replicate band.
            convergence (ModelRegistry.simulation "factor") [| 20; 100_000 |] 300
        }
        test "factor: the Wishart-drawn scatter matrices give the law of replicates from explicit samples" {
            let cfg : FactorConfig = { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 1.0 }
            let sp = Factor.spec cfg
            let b = FunctionalAsymptotics.Estimation.ModelSpec.targetCoefficients sp
            sameLawAsExplicit (FactorPipeline.create cfg 2.0) 30 (fun rng ->
                let x = MathNet.Numerics.LinearAlgebra.Double.DenseMatrix.OfRowArrays(Array.init 60 (fun _ -> Factor.sample cfg rng))
                let design, _ = Factor.sampleDownstream cfg 30 rng
                let risk = FunctionalAsymptotics.Asymptotics.ConditionalRisk.linearGaussian (Factor.covariance cfg) sp.Sigma2 b (Factor.featureMatrix (Factor.fitPpca 2 x)) design
                (ReplicateOutcome.ofRisk 30 risk).Total)
        }
        test "spectral: bulk-drawn normals and the Wishart-drawn design scatter give the law of replicates from explicit draws" {
            let cfg = Spectral.defaultConfig 6 2 1.0
            let b = Spectral.aStar(cfg).TransposeThisAndMultiply(FunctionalAsymptotics.Linalg.vector cfg.Beta).ToArray()
            sameLawAsExplicit (SpectralPipeline.create cfg 2.0) 30 (fun rng ->
                let zs = Array.init 60 (fun _ -> Spectral.sample cfg rng)
                let fit = Spectral.fit cfg.K 1 (rng.Next()) (Spectral.statistics cfg.D zs)
                let design, _ = Spectral.sampleDownstream cfg 30 rng
                let risk = FunctionalAsymptotics.Asymptotics.ConditionalRisk.linearGaussian (FunctionalAsymptotics.Linalg.eye 6) cfg.Sigma2 b fit.Point design
                (ReplicateOutcome.ofRisk 30 risk).Total)
        }
        test "spectral and factor: the same seed gives the same bits on 1 and 2 threads (Wishart and bulk draws included)" {
            for name in [ "spectral"; "factor" ] do
                let f = ModelRegistry.simulation name
                let model = f.Create 2.0 (defaults f)
                let spec = { Model = name; Parameters = defaults f; Alpha = 2.0; Seed = 13UL; Grid = [| 40; 3000 |]; Reps = 10; Shard = 1; Shards = 1 }
                let run threads =
                    let dir = tempDir (sprintf "%s%d" name threads)
                    Expect.equal (Engine.run model spec dir { RunOptions.defaults with Threads = threads; BatchSize = 3 } CancellationToken.None) Completed "completed"
                    File.ReadAllText(Path.Combine(dir, Store.RecordsFile))
                Expect.equal (run 1) (run 2) (sprintf "%s: bit-identical for 1 and 2 threads" name)
        }
        test "parts add up, and merged shards of a real model equal an unsharded run bit for bit" {
            let f = (ModelRegistry.simulation "factor")
            let grid = [| 40; 80 |]
            let wholeDir = tempDir "whole"
            let model, whole = runGrid f 2.0 grid 12 7UL 1 1 wholeDir
            for r in Store.readRecords wholeDir do
                Expect.floatClose Accuracy.high r.Outcome.Total (r.Outcome.Pretrain + r.Outcome.Leak + r.Outcome.Variance) "Total = Pretrain + Leak + Variance"
            let shardDirs = [ for i in 1 .. 2 -> let d = tempDir (sprintf "s%d" i) in runGrid f 2.0 grid 12 7UL i 2 d |> ignore; d ]
            let mergedDir = tempDir "merged"
            Directory.Delete mergedDir
            let merged = Store.merge shardDirs mergedDir
            Expect.equal (File.ReadAllText(Path.Combine(mergedDir, Store.RecordsFile))) (File.ReadAllText(Path.Combine(wholeDir, Store.RecordsFile))) "same records"
            Expect.equal (Engine.summarize model merged (Store.readRecords mergedDir) |> Report.toJson merged)
                         (Engine.summarize model whole (Store.readRecords wholeDir) |> Report.toJson whole) "same JSON"
        }
        test "gmm: the same seed gives the same bits on 1 and 2 threads; parts add up; the pre-training part is near its limit mean" {
            let f = ModelRegistry.simulation "gmm"
            let parameters = ModelFactory.resolve f [ "K", 2.0; "d", 4.0; "population-draws", 4000.0 ]
            let model =
                GaussianMixturePipeline.create 2 4 2.0 1.0 1.0 4000 2
                    { FunctionalAsymptotics.Models.GaussianMixturePretraining.defaultOptions with FisherSamples = 20_000; GramSamples = 20_000; Batches = 4 } 2.0
            let spec = { Model = "gmm"; Parameters = parameters; Alpha = 2.0; Seed = 11UL; Grid = [| 60; 400 |]; Reps = 8; Shard = 1; Shards = 1 }
            let run threads =
                let dir = tempDir (sprintf "gmm%d" threads)
                Expect.equal (Engine.run model spec dir { RunOptions.defaults with Threads = threads; BatchSize = 3 } CancellationToken.None) Completed "completed"
                File.ReadAllText(Path.Combine(dir, Store.RecordsFile)), Store.readRecords dir
            let text1, records = run 1
            let text2, _ = run 2
            Expect.equal text1 text2 "bit-identical for 1 and 2 threads"
            for r in records do
                let o = r.Outcome
                Expect.floatClose Accuracy.high o.Total (o.Pretrain + o.Leak + o.Variance) "Total = Pretrain + Leak + Variance"
                Expect.isGreaterThanOrEqual o.Pretrain 0.0 "n Rep >= 0"
            // n Rep -> alpha^-1 ||L(Z)||^2 in law: its mean over the replicates at n = 400 within a factor 2 of the limit mean.
            let pre = records |> Array.filter (fun r -> r.N = 400) |> Array.averageBy (fun r -> r.Outcome.Pretrain)
            let limit = model.Law.Mean - model.SigmaSquaredDEff
            Expect.isTrue (pre > 0.5 * limit && pre < 2.0 * limit) (sprintf "mean n Rep %g vs limit %g" pre limit)
        }
        test "gmm compact features are an isometric image of psi_U and the target is theta*^T psi_U*" {
            let k, d = 4, 9
            let uStar, rng, u, basis, t = perturbedMixture k d 0.2 5
            let pr = FunctionalAsymptotics.Models.GaussianMixture.projector (k - 1) u
            let prStar = FunctionalAsymptotics.Models.GaussianMixture.projector (k - 1) uStar
            let theta = FunctionalAsymptotics.Models.GaussianMixture.thetaStar k d 10.0
            let points = Array.init 12 (fun _ -> Array.init d (fun j -> 2.0 * float (j % k) + 2.0 * (rng.NextDouble() - 0.5)))
            let compact = points |> Array.map (GaussianMixturePipeline.featuresAndTarget basis t)
            let full = points |> Array.map (FunctionalAsymptotics.Models.GaussianMixture.features pr u)
            let dot (a: float[]) (b: float[]) = Array.fold2 (fun acc x y -> acc + x * y) 0.0 a b
            for i in 0 .. points.Length - 1 do
                Expect.equal (fst compact.[i]).Length (k * k) "dimension K (r* + 1)"
                let fFull = dot theta (FunctionalAsymptotics.Models.GaussianMixture.features prStar uStar points.[i])
                Expect.isLessThan (abs (snd compact.[i] - fFull)) (1e-12 * max 1.0 (abs fFull)) (sprintf "f* at point %d" i)
                for j in 0 .. points.Length - 1 do
                    let a, b = dot (fst compact.[i]) (fst compact.[j]), dot full.[i] full.[j]
                    Expect.isLessThan (abs (a - b)) (1e-12 * max 1.0 (abs b)) (sprintf "inner product (%d, %d)" i j)
        }
        test "gmm moments: the batched SIMD accumulation equals a plain sum over the same draws" {
            let k, d = 3, 5
            let uStar = FunctionalAsymptotics.Models.GaussianMixture.uStar k d 2.0
            let basis = GaussianMixturePipeline.compactBasis uStar
            let t = GaussianMixturePipeline.target uStar 1.0
            let centres = Array.init k (fun i -> uStar.Column(i).ToArray())
            let count = 700   // two full batches of 256 and a partial one
            let sigma, c, ff = GaussianMixturePipeline.momentsAmbient centres basis t (ReplicateStreams.derive 4UL 1 2) count
            let xs = GaussianMixturePipeline.drawSamples centres (ReplicateStreams.derive 4UL 1 2) count
            let rows = xs |> Array.map (GaussianMixturePipeline.featuresAndTarget basis t)
            let p = k * k
            for a in 0 .. p - 1 do
                let ca = rows |> Array.averageBy (fun (phi, f) -> phi.[a] * f)
                Expect.isLessThan (abs (c.[a] - ca)) 1e-13 (sprintf "cross moment %d" a)
                for b in 0 .. p - 1 do
                    let g = rows |> Array.averageBy (fun (phi, _) -> phi.[a] * phi.[b])
                    Expect.isLessThan (abs (sigma.[a, b] - g)) 1e-13 (sprintf "Gram (%d, %d)" a b)
            Expect.isLessThan (abs (ff - (rows |> Array.averageBy (fun (_, f) -> f * f)))) 1e-13 "mean f*^2"
        }
        test "gmm moments: draws on the span of V_r and V*_r give the ambient draws' moments (law) and the same features (identity)" {
            let k, d = 4, 20
            // a fitted-like U: U* moved off its span in every coordinate
            let uStar, rng, _, basis, t = perturbedMixture k d 0.3 8
            let centres = Array.init k (fun i -> uStar.Column(i).ToArray())
            // Identity: a point and its projection on the joint span (plus any orthogonal part) have the same features.
            let w = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(d, 2 * (k - 1), fun j a ->
                        if a < k - 1 then basis.Vr.[j * (k - 1) + a] else t.Star.Vr.[j * (k - 1) + a - (k - 1)])
            let q = w.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q
            for _ in 1 .. 10 do
                let x = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.Dense(d, fun j -> 2.0 * float (j % k) + 2.0 * (rng.NextDouble() - 0.5))
                let onSpan = q * q.TransposeThisAndMultiply x
                let orth = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.Dense(d, fun _ -> rng.NextDouble() - 0.5)
                let orth = orth - q * q.TransposeThisAndMultiply orth
                let phiA, fA = GaussianMixturePipeline.featuresAndTarget basis t (x.ToArray())
                let phiB, fB = GaussianMixturePipeline.featuresAndTarget basis t ((onSpan + orth).ToArray())
                Expect.isLessThan (abs (fA - fB)) (1e-12 * max 1.0 (abs fA)) "f*"
                for a in 0 .. phiA.Length - 1 do Expect.isLessThan (abs (phiA.[a] - phiB.[a])) 1e-12 (sprintf "feature %d" a)
            // Law: the reduced draws' moments agree with the ambient draws' within Monte Carlo error (independent streams).
            let count = 100_000
            let sR, cR, fR = GaussianMixturePipeline.moments centres basis t (ReplicateStreams.derive 5UL 1 1) count
            let sA, cA, fA = GaussianMixturePipeline.momentsAmbient centres basis t (ReplicateStreams.derive 6UL 1 1) count
            // per-entry standard error of a mean of count draws of phi_a phi_b from a long ambient run's rows
            let rows = GaussianMixturePipeline.drawSamples centres (ReplicateStreams.derive 7UL 1 1) 20_000 |> Array.map (GaussianMixturePipeline.featuresAndTarget basis t)
            let se (g: float[] * float -> float) =
                let xs = rows |> Array.map g
                let m = Array.average xs
                sqrt ((xs |> Array.averageBy (fun x -> (x - m) ** 2.0)) * 2.0 / float count)   // two independent means
            let p = k * k
            for a in 0 .. p - 1 do
                Expect.isLessThan (abs (cR.[a] - cA.[a])) (5.0 * se (fun (phi, f) -> phi.[a] * f) + 1e-12) (sprintf "cross moment %d" a)
                for b in a .. p - 1 do
                    Expect.isLessThan (abs (sR.[a, b] - sA.[a, b])) (5.0 * se (fun (phi, _) -> phi.[a] * phi.[b]) + 1e-12) (sprintf "Gram (%d, %d)" a b)
            Expect.isLessThan (abs (fR - fA)) (5.0 * se (fun (_, f) -> f * f)) "mean f*^2"
        }
        test "bad parameters are refused with the argument named" {
            Expect.throwsT<FunctionalAsymptotics.InvalidArgumentException> (fun () -> SpectralPipeline.create (Spectral.defaultConfig 4 4 1.0) 1.0 |> ignore) "k < d"
            Expect.throwsT<FunctionalAsymptotics.DimensionMismatchException> (fun () -> FactorPipeline.create { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 1.0 |]; SigmaNu2 = 1.0 } 1.0 |> ignore) "beta length"
        }
    ]
