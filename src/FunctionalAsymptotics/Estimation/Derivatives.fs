namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// Derivatives the user did not give, by Richardson-extrapolated central differences (docs/your-own-model.md,
/// "Derivatives"). First derivatives: `D(h) = (f(w + h v) - f(w - h v)) / 2h`; second derivatives:
/// `D2(h) = (f(w + h v) - 2 f(w) + f(w - h v)) / h^2`. Both have errors `c2 h^2 + c4 h^4 + ...`, and the
/// table over `h, h/2, h/4` cancels the `h^2` and `h^4` terms (error `O(h^6)` plus rounding
/// `~ eps |f| / h^k`). Mixed second derivatives use polarisation,
/// `u^T Hess f v = (D2_{u+v} - D2_{u-v}) / 4`.
[<RequireQualifiedAccess>]
module Derivatives =

    /// Base step of the second differences (relative to `max(1, ||w||_F)` over `||v||_F`): larger than the
    /// first-difference step because rounding grows like `eps / h^2`.
    let secondStep = 2e-2

    let private richardson (d1: float) (d2: float) (d3: float) =
        let r1 = (d2 * 4.0 - d1) / 3.0
        let r2 = (d3 * 4.0 - d2) / 3.0
        (r2 * 16.0 - r1) / 15.0

    let private baseStep (step: float) (w: Matrix<float>) (v: Matrix<float>) =
        step * max 1.0 (Linalg.norm w) / max 1e-300 (Linalg.norm v)

    /// `d/dt f(w + t v)` at `t = 0` for a scalar `f` (Richardson, step `FiniteDifference.defaultStep`).
    let directional (f: Matrix<float> -> float) (w: Matrix<float>) (v: Matrix<float>) : float =
        let h0 = baseStep FiniteDifference.defaultStep w v
        let central h = (f (w + v * h) - f (w - v * h)) / (2.0 * h)
        richardson (central h0) (central (h0 / 2.0)) (central (h0 / 4.0))

    /// `d^2/dt^2 f(w + t v)` at `t = 0` (Richardson of second differences, step `secondStep`).
    let secondDirectional (f: Matrix<float> -> float) (w: Matrix<float>) (v: Matrix<float>) : float =
        let h0 = baseStep secondStep w v
        let f0 = f w
        let second h = (f (w + v * h) - 2.0 * f0 + f (w - v * h)) / (h * h)
        richardson (second h0) (second (h0 / 2.0)) (second (h0 / 4.0))

    /// The gradient and Hessian of a scalar `f` in an orthonormal basis `B`: `g_i = <b_i, grad f>`,
    /// `H_ij = b_i^T Hess f b_j` (by polarisation for `i <> j`).
    let inBasis (f: Matrix<float> -> float) (w: Matrix<float>) (basis: Matrix<float>[]) : float[] * Matrix<float> =
        let n = basis.Length
        let g = basis |> Array.map (directional f w)
        let h = Linalg.zeros n n
        for i in 0 .. n - 1 do
            h.[i, i] <- secondDirectional f w basis.[i]
            for j in 0 .. i - 1 do
                let v = (secondDirectional f w (basis.[i] + basis.[j]) - secondDirectional f w (basis.[i] - basis.[j])) / 4.0
                h.[i, j] <- v
                h.[j, i] <- v
        g, h

    /// The per-sample score and Hessian of the pre-training loss in an orthonormal basis `B` at `w`:
    /// `B^T nabla l(w; z)` and `B^T nabla^2 l(w; z) B`. Analytic derivatives are used when the loss has
    /// them (a missing Hessian-vector product is then differenced from the gradient); with neither, both
    /// come from `inBasis` on the loss itself (cost `~ 7 n^2` loss evaluations for `n` directions).
    let scoreAndHessian (loss: PretrainingLoss<'Z>) (w: Matrix<float>) (basis: Matrix<float>[]) (z: 'Z) : float[] * Matrix<float> =
        match loss.Gradient, loss.HessianVector with
        | None, None -> inBasis (fun x -> loss.Loss x z) w basis
        | _ ->
            let g = ModelSpec.gradient loss w z
            let n = basis.Length
            let h = Linalg.zeros n n
            for j in 0 .. n - 1 do
                let hv = ModelSpec.hessianVector loss w z basis.[j]
                for i in 0 .. n - 1 do
                    h.[i, j] <- Linalg.inner basis.[i] hv
            basis |> Array.map (fun b -> Linalg.inner b g), Linalg.sym h

    /// The feature differential `dpsi(x, w)[dw]` of a feature map, by Richardson differences of `psi`
    /// along `dw` (6 feature evaluations).
    let featureDifferential (features: Matrix<float> -> float[] -> float[]) : Matrix<float> -> float[] -> Matrix<float> -> float[] =
        fun w x dw ->
            FiniteDifference.directional FiniteDifference.defaultStep (fun v -> Linalg.column (features v x)) w dw
            |> Linalg.values

    /// The differential `dW(w)[dw]` of a linear feature matrix `W(w)` (Richardson differences).
    let featureMatrixDifferential (featureMatrix: Matrix<float> -> Matrix<float>) : Matrix<float> -> Matrix<float> -> Matrix<float> =
        fun w dw -> FiniteDifference.directional FiniteDifference.defaultStep featureMatrix w dw

/// The minimal specification of a user's own model (docs/your-own-model.md): the per-sample pre-training
/// loss, the two samplers, the group action, the features and the target. Every derivative is computed by
/// the library (`Derivatives`), and every population moment by seeded Monte Carlo (`SpecLaw.monteCarlo`).
type UserModel<'Z> =
    { /// A readable name.
      Name: string
      /// The group action on `w` with its `rho` (`psi(x, g.w) = rho(g) psi(x, w)`).
      Action: GroupAction
      /// A representative population minimiser `w*`.
      WStar: Matrix<float>
      /// The per-sample pre-training loss `l(w; z)`.
      Loss: Matrix<float> -> 'Z -> float
      /// A seeded draw `z ~ mu_pre`.
      SamplePretraining: Random -> 'Z
      /// The features `psi(x, w)` (length `Action.FeatureDimension`).
      Features: Matrix<float> -> float[] -> float[]
      /// A seeded draw `x ~ mu_down`.
      SampleDownstream: Random -> float[]
      /// Monte Carlo size of the downstream (L2(mu_down)) moments.
      DownstreamSamples: int
      /// Seed of the downstream Monte Carlo.
      DownstreamSeed: int
      /// `theta*` (length `Action.FeatureDimension`).
      ThetaStar: float[]
      /// `sigma^2`.
      Sigma2: float }

/// Conversion of a `UserModel` to the engine's `ModelSpec`.
[<RequireQualifiedAccess>]
module UserModel =

    /// The specification with no analytic derivative (`Gradient = None`, `HessianVector = None`), no
    /// closed-form moments, and a sampled representation whose differential is `Derivatives.featureDifferential`.
    /// Add what you know (`{ spec with Population = Some ... }`) to make it faster or exact.
    let spec (m: UserModel<'Z>) : ModelSpec<'Z> =
        { Name = m.Name
          Action = m.Action
          WStar = m.WStar
          Pretraining = { Loss = m.Loss; Gradient = None; HessianVector = None; Sample = m.SamplePretraining }
          Population = None
          Representation =
            Sampled { Features = m.Features
                      FeatureDifferential = Derivatives.featureDifferential m.Features
                      Sample = m.SampleDownstream
                      Count = m.DownstreamSamples
                      Seed = m.DownstreamSeed }
          ThetaStar = m.ThetaStar
          Sigma2 = m.Sigma2 }
