// Bring your own model: from an empty F# script to the limit law of Theorem 5.1 with error bars.
// Walkthrough: docs/your-own-model.md. Build first (dotnet build FunctionalAsymptotics.sln -c Release),
// then: dotnet fsi examples/your-own-model.fsx
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/MathNet.Numerics.dll"
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics

// 1. The model: sign-symmetric rank-one PCA. Pre-training data z ~ N(0, diag s), parameter w (1 x d),
//    per-sample loss l(w; z) = ||w||^4 / 4 - (w z)^2 / 2, symmetric under w -> -w. Features psi(x, w) = w x,
//    downstream x ~ N(0, I_d), target f*(x) = theta* psi(x, w*), noise variance sigma^2.
let s = [| 4.0; 2.0; 1.0 |]
let d = s.Length
let thetaStar, sigma2 = 1.0, 1.0

let loss (w: Matrix<float>) (z: float[]) =
    let n2 = w.FrobeniusNorm() ** 2.0
    let wz = w.Row(0).DotProduct(Vector<float>.Build.DenseOfArray z)
    n2 * n2 / 4.0 - wz * wz / 2.0

let gaussian (rng: Random) = sqrt (-2.0 * log (1.0 - rng.NextDouble())) * cos (2.0 * Math.PI * rng.NextDouble())
let sampleZ (rng: Random) = Array.init d (fun j -> sqrt s.[j] * gaussian rng)
let sampleX (rng: Random) = Array.init d (fun _ -> gaussian rng)
let features (w: Matrix<float>) (x: float[]) = [| w.Row(0).DotProduct(Vector<float>.Build.DenseOfArray x) |]

// The minimiser of E l is the top eigenvector scaled to ||w*||^2 = s_1 (either sign: the group's orbit).
let wStar = Matrix<float>.Build.Dense(1, d, fun _ j -> if j = 0 then sqrt s.[0] else 0.0)

// 2. The minimal specification: only the loss, the samplers, the group and the features. Every derivative
//    (score, Hessian, feature differential) is computed by the library; every moment by Monte Carlo.
let model : UserModel<float[]> =
    { Name = "sign-symmetric rank-one PCA"
      Action = GroupAction.orthogonalLeft 1 d // O(1) = {+1, -1} acting on the 1 x d row, rho(g) = g
      WStar = wStar
      Loss = loss
      SamplePretraining = sampleZ
      Features = features
      SampleDownstream = sampleX
      DownstreamSamples = 4000
      DownstreamSeed = 2
      ThetaStar = [| thetaStar |]
      Sigma2 = sigma2 }
let spec = UserModel.spec model

// 3. The law by Monte Carlo: the specification is validated first, then every number gets a jackknife
//    standard error and a 95% interval.
let mc = SpecLaw.monteCarlo { SpecLaw.defaultOptions with Samples = 4000; Alpha = Some 2.0; Probabilities = [| 0.5; 0.95 |] } spec
let show (e: Estimate) = sprintf "%.4f +- %.4f  [%.4f, %.4f]" e.Value e.StandardError e.Lower e.Upper
let row (label: string) (value: string) = printfn "%-38s %s" label value
printfn "Monte Carlo law (%d pre-training samples, %d batches), loss only:" mc.Samples mc.Batches
mc.Weights |> Array.iteri (fun j e -> row (sprintf "  weight lambda_%d" (j + 1)) (show e))
row "  E||L(Z)||^2" (show mc.PretrainMean)
row "  alpha0" (show mc.Alpha0.Value)
for q in mc.Quantiles do row (sprintf "  quantile %.2f of E_alpha (alpha 2)" q.Probability) (show q.Estimate)
let v = mc.Validation.Value
row "  validation: ||mean score||" (sprintf "%.3g (threshold %.3g = 6 SE + rounding)" v.GradientNorm v.GradientThreshold)
row "  validation: Hessian eigenvalues" (v.HessianEigenvalues |> Array.map (sprintf "%.4f") |> String.concat ", ")
row "  validation: symmetry violations" (sprintf "invariance %.2g, equivariance %.2g" v.Invariance.WorstViolation v.Equivariance.WorstViolation)

// 4. Ask for a precision instead of a sample size: the sample grows until the relative standard error
//    of E||L(Z)||^2 is at most 5%.
let target = SpecLaw.monteCarlo { SpecLaw.defaultOptions with Samples = 2000; TargetRelativeError = Some 0.05 } spec
row "target 5%: E||L(Z)||^2" (sprintf "%s with %d samples" (show target.PretrainMean) target.Samples)

// 5. The exact law: add what you know in closed form. By hand, L_pre(w) = ||w||^4/4 - w S w^T/2 has
//    gradient ||w||^2 w - w S and Hessian ||w||^2 I + 2 w^T w - S; the score covariance follows from
//    Gaussian fourth moments, E[(w z)^2 z z^T] = (w S w^T) S + 2 S w^T w S.
let sMat = Matrix<float>.Build.DenseOfDiagonalArray s
let dot (a: Matrix<float>) (b: Matrix<float>) = a.PointwiseMultiply(b).Enumerate() |> Seq.sum
let population : PopulationMoments =
    { Gradient = fun w -> w * dot w w - w * sMat
      HessianVector = fun w u -> u * dot w w + w * (2.0 * dot w u) - u * sMat
      ScoreCovariance =
        fun w basis ->
            let a = w.Transpose() * dot w w
            let sw = sMat * w.Transpose()
            let m = a * a.Transpose() - a * sw.Transpose() - sw * a.Transpose() + sMat * (w * sMat * w.Transpose()).[0, 0] + sw * sw.Transpose() * 2.0
            Matrix<float>.Build.Dense(basis.Length, basis.Length, fun i j -> (basis.[i] * m * basis.[j].Transpose()).[0, 0]) }
let exactSpec =
    { spec with
        Population = Some population
        Representation = LinearGaussian { FeatureMatrix = (fun w -> w.Clone()); FeatureDifferential = (fun _ dw -> dw.Clone()); DownstreamCovariance = Matrix<float>.Build.DenseIdentity d } }
let exact = SpecLaw.exact Validation.defaultOptions exactSpec
// The law by hand: lambda_j = theta*^2 s_1^2 s_j / (s_1 - s_j)^2 for j = 2..d (docs/your-own-model.md).
let byHand = [| for j in 1 .. d - 1 -> thetaStar ** 2.0 * s.[0] ** 2.0 * s.[j] / (s.[0] - s.[j]) ** 2.0 |]
row "exact weights" (exact.Summary.Weights |> Array.map (sprintf "%.12f") |> String.concat ", ")
row "by hand" (byHand |> Array.map (sprintf "%.12f") |> String.concat ", ")
row "exact E||L(Z)||^2, alpha0" (sprintf "%.12f, %.12f" (AsymptoticSummary.pretrainMean exact.Summary) (AsymptoticSummary.alpha0 exact.Summary).Value)

// 6. A wrong specification is refused with a typed error: w = sqrt(s_2) e_2 is a critical point, but a saddle.
try
    SpecLaw.exact Validation.defaultOptions { exactSpec with WStar = Matrix<float>.Build.Dense(1, d, fun _ j -> if j = 1 then sqrt s.[1] else 0.0) } |> ignore
with :? NotLocalMinimiserException as e -> row "a saddle as w*" e.Message
