/// A model the library does not ship, with its law derived by hand (test fixture): sign-symmetric
/// rank-one PCA. `z ~ N(0, diag s)` in `R^d` (`s_1 > s_2 >= ... > 0`), `w in R^{1 x d}`,
/// `l(w; z) = ||w||^4 / 4 - (w z)^2 / 2`, group `O(1) = {+-1}` acting by `g.w = g w`; features
/// `psi(x, w) = w x` (`rho(g) = g`), `x ~ N(0, I_d)`, target `theta* psi(x, w*)`.
///
/// By hand: `L_pre(w) = ||w||^4 / 4 - w S w^T / 2`, gradient `||w||^2 w - w S`, so `w* = sqrt(s_1) e_1`
/// (top eigenvector, `||w*||^2 = s_1`). Hessian `||w||^2 I + 2 w^T w - S` = `diag(2 s_1, s_1 - s_2, ...)` at
/// `w*`. Score at `w*`: `sqrt(s_1) (s_1 e_1 - z_1 z)`, with independent coordinates of variances
/// `s_1 * 2 s_1^2` and `s_1 * s_1 s_j`: `V = diag(s_1 / 2, s_1^2 s_j / (s_1 - s_j)^2)`. Downstream:
/// `dpsi[e_j] = x_j`, `Sigma = s_1`, `C = theta sqrt(s_1) e_1`, so `G = theta^2 (I - e_1 e_1^T)` and the
/// weights are `lambda_j = theta^2 s_1^2 s_j / (s_1 - s_j)^2`, `j = 2..d`; `d_eff = 1`, `d_base = d`.
module FunctionalAsymptotics.Tests.Estimation.RankOnePca

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation

/// The pre-training variances `s`.
let s = [| 3.0; 1.0; 0.5 |]
/// `theta*`.
let theta = 1.5
/// `sigma^2`.
let sigma2 = 0.5
let d = s.Length

/// The hand-derived weights `theta^2 s_1^2 s_j / (s_1 - s_j)^2`, descending.
let exactWeights =
    [| for j in 1 .. d - 1 -> theta * theta * s.[0] * s.[0] * s.[j] / ((s.[0] - s.[j]) ** 2.0) |] |> Array.sortDescending

/// `E||L(Z)||^2`.
let exactMean = Array.sum exactWeights

/// `w* = sqrt(s_1) e_1` as a 1 x d row.
let wStar = let w = Linalg.zeros 1 d in w.[0, 0] <- sqrt s.[0]; w

let sampleZ (rng: Random) = Array.init d (fun j -> sqrt s.[j] * Linalg.gaussian rng)
let sampleX (rng: Random) = Linalg.randnVector rng d

let private row (z: float[]) = DenseVector(z)
let private wz (w: Matrix<float>) (z: float[]) = w.Row(0).DotProduct(row z)

let loss (w: Matrix<float>) (z: float[]) =
    let n2 = Linalg.inner w w
    n2 * n2 / 4.0 - (wz w z) ** 2.0 / 2.0

let gradient (w: Matrix<float>) (z: float[]) : Matrix<float> =
    let zr = Linalg.ofColumnMajor 1 d z
    w * Linalg.inner w w - zr * wz w z

let hessianVector (w: Matrix<float>) (z: float[]) (v: Matrix<float>) : Matrix<float> =
    let zr = Linalg.ofColumnMajor 1 d z
    v * Linalg.inner w w + w * (2.0 * Linalg.inner w v) - zr * wz v z

let private sMat = DenseMatrix.OfDiagonalArray s :> Matrix<float>

/// Closed-form population moments (fourth moments of the Gaussian by Isserlis).
let population : PopulationMoments =
    { Gradient = fun w -> w * Linalg.inner w w - w * sMat
      HessianVector = fun w v -> v * Linalg.inner w w + w * (2.0 * Linalg.inner w v) - v * sMat
      ScoreCovariance =
        fun w basis ->
            // g = a - c z with a = ||w||^2 w^T, c = w z: E[g g^T] = a a^T - a (S w^T)^T - (S w^T) a^T
            //   + (w S w^T) S + 2 S w^T w S.
            let a = w.Transpose() * Linalg.inner w w
            let sw = sMat * w.Transpose()
            let m = a * a.Transpose() - a * sw.Transpose() - sw * a.Transpose() + sMat * (w * sMat * w.Transpose()).[0, 0] + sw * sw.Transpose() * 2.0
            let bs = basis |> Array.map (fun b -> b.Transpose())
            DenseMatrix.Create(bs.Length, bs.Length, fun i j -> (bs.[i].Transpose() * m * bs.[j]).[0, 0]) :> Matrix<float> }

/// The sign group `O(1)` on `R^{1 x d}`.
let action = GroupAction.orthogonalLeft 1 d

/// The exact specification: analytic derivatives, closed-form moments, linear features under `N(0, I)`.
let exactSpec : ModelSpec<float[]> =
    { Name = "sign-symmetric rank-one PCA"
      Action = action
      WStar = wStar
      Pretraining = { Loss = loss; Gradient = Some gradient; HessianVector = Some hessianVector; Sample = sampleZ }
      Population = Some population
      Representation = LinearGaussian { FeatureMatrix = (fun w -> w.Clone()); FeatureDifferential = (fun _ dw -> dw.Clone()); DownstreamCovariance = Linalg.eye d }
      ThetaStar = [| theta |]
      Sigma2 = sigma2 }

/// The minimal specification: only the loss, the samplers, the group and the features.
let userModel (downstreamSamples: int) : UserModel<float[]> =
    { Name = "sign-symmetric rank-one PCA (loss only)"
      Action = action
      WStar = wStar
      Loss = loss
      SamplePretraining = sampleZ
      Features = (fun w x -> [| w.Row(0).DotProduct(DenseVector(x)) |])
      SampleDownstream = sampleX
      DownstreamSamples = downstreamSamples
      DownstreamSeed = 11
      ThetaStar = [| theta |]
      Sigma2 = sigma2 }
