namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// The horizontal Hessian `H_h` is singular (or not positive definite): the model is not identifiable on
/// the quotient at the point (docs/theory.md section 3, step 4). `Directions` are the offending directions
/// in parameter space (eigenvectors of `H_h` mapped back through the horizontal basis), `Eigenvalues`
/// their eigenvalues. The theory needs `H_h^-1`; no pseudo-inverse is substituted.
type NotIdentifiableException(directions: Matrix<float>[], eigenvalues: float[], tolerance: float) =
    inherit FunctionalAsymptoticsException(
        sprintf "not identifiable: the horizontal Hessian has %d eigenvalue(s) <= %.3g (%s); offending directions (parameter space, column-major): %s"
            eigenvalues.Length tolerance
            (String.Join(", ", eigenvalues |> Array.map (sprintf "%.3g")))
            (String.Join("; ", directions |> Array.map (fun d -> "[" + String.Join(" ", Linalg.values d |> Array.map (sprintf "%.3g")) + "]"))))
    /// The offending directions in parameter space (unit Frobenius norm).
    member _.Directions = directions
    /// The eigenvalues of `H_h` along them.
    member _.Eigenvalues = eigenvalues

/// The irregular case of docs/theory.md section 4 (activated null directions, `B0 != {0}`): `Sigma(Omega*)` is
/// singular and the rank of `Sigma(Omega)` jumps for `Omega` near `Omega*`. The regular formula of
/// Theorem 5.1 does not apply; no law is returned. `NullDirections` are the activated feature-space
/// directions, `Activation` the matching eigenvalues of the second-order activation form.
type IrregularCaseException(nullDirections: float[][], activation: float[]) =
    inherit FunctionalAsymptoticsException(
        sprintf "irregular case: %d null direction(s) of Sigma(Omega*) are activated near Omega* (activation %s); the regular limit law (Theorem 5.1, B0 = {0}) does not apply"
            nullDirections.Length (String.Join(", ", activation |> Array.map (sprintf "%.3g"))))
    /// Unit feature-space vectors `u` with `u^T Sigma(Omega*) u = 0` but `u^T Sigma(Omega) u > 0` nearby.
    member _.NullDirections = nullDirections
    /// `sum_b E[(u^T dpsi[b])^2]` over an orthonormal horizontal basis, per direction.
    member _.Activation = activation

/// The per-sample pre-training loss `l(w; z)` of a model specification, with optional analytic
/// derivatives (a `None` derivative is replaced by Richardson-extrapolated finite differences).
type PretrainingLoss<'Z> =
    { /// `l(w; z)`.
      Loss: Matrix<float> -> 'Z -> float
      /// `nabla_w l(w; z)`, if available analytically.
      Gradient: (Matrix<float> -> 'Z -> Matrix<float>) option
      /// `nabla_w^2 l(w; z)[v]`: arguments `w z v`, if available analytically.
      HessianVector: (Matrix<float> -> 'Z -> Matrix<float> -> Matrix<float>) option
      /// A seeded draw `z ~ mu_pre`.
      Sample: Random -> 'Z }

/// Population moments of the pre-training loss in closed form (form 1 of the sandwich).
type PopulationMoments =
    { /// `nabla L_pre(w)`, `L_pre = E l`.
      Gradient: Matrix<float> -> Matrix<float>
      /// `nabla^2 L_pre(w)[v]`: arguments `w v`.
      HessianVector: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// `B^T E[nabla l nabla l^T] B` at `w` for the given orthonormal directions `B` (the uncentred
      /// score covariance, docs/theory.md section 3, step 4): arguments `w basis`.
      ScoreCovariance: Matrix<float> -> Matrix<float>[] -> Matrix<float> }

/// A representation linear in `x` under a Gaussian downstream design: `psi(x, w) = W(w) x`, `W(w)` p x d,
/// `x ~ N(0, Sigma_down)`. Then `Sigma(w) = W Sigma_down W^T` and every L2 quantity of docs/theory.md section 4
/// is exact (no Monte Carlo).
type LinearGaussianRepresentation =
    { /// `W(w)` (p x d).
      FeatureMatrix: Matrix<float> -> Matrix<float>
      /// `dW(w)[dw]`: arguments `w dw`.
      FeatureDifferential: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// `Sigma_down = E[x x^T]` (d x d, positive semi-definite).
      DownstreamCovariance: Matrix<float> }

/// A general representation (features nonlinear in `x`, or a non-Gaussian design): the L2(mu_down) moments
/// the engine needs are estimated by a seeded Monte Carlo of `Count` draws from `Sample` (common random
/// numbers across calls, so every quantity uses the same draws).
type SampledRepresentation =
    { /// `psi(x, w)` (length p).
      Features: Matrix<float> -> float[] -> float[]
      /// `dpsi(x, w)[dw]`: arguments `w x dw`.
      FeatureDifferential: Matrix<float> -> float[] -> Matrix<float> -> float[]
      /// A seeded draw `x ~ mu_down`.
      Sample: Random -> float[]
      /// Monte Carlo sample size.
      Count: int
      /// Monte Carlo seed.
      Seed: int }

/// The representation of a model specification: exact moments (linear features, Gaussian design) or
/// seeded Monte Carlo moments.
type Representation =
    /// `psi(x, w) = W(w) x`, `x ~ N(0, Sigma_down)`: every L2 quantity is exact.
    | LinearGaussian of LinearGaussianRepresentation
    /// General features; L2 quantities by seeded Monte Carlo.
    | Sampled of SampledRepresentation

/// A model specification: pre-training loss and its symmetry, the representation and the
/// downstream task. `f*(x) = <thetaStar, psi(x, wStar)>` (well-specified), noise variance `sigma2`.
type ModelSpec<'Z> =
    { /// A readable name.
      Name: string
      /// The group action on `w` (with its `rho`); its vertical space defines the horizontal space.
      Action: GroupAction
      /// A representative population minimiser `w*`.
      WStar: Matrix<float>
      /// The per-sample pre-training loss and its sampler.
      Pretraining: PretrainingLoss<'Z>
      /// Closed-form population moments, when known.
      Population: PopulationMoments option
      /// The representation and downstream design.
      Representation: Representation
      /// `theta*` (length p).
      ThetaStar: float[]
      /// `sigma^2 = E[eps^2 | x]`.
      Sigma2: float }

/// Finite differences with Richardson extrapolation: the fallback when a model has no analytic
/// derivatives. Central differences `D(h) = (f(w + h v) - f(w - h v)) / 2h` have error `c2 h^2 + c4 h^4 + ...`;
/// three levels `h, h/2, h/4` combined by Richardson's table cancel the `h^2` and `h^4` terms.
[<RequireQualifiedAccess>]
module FiniteDifference =

    /// Default base step (relative to `max(1, ||w||_F)`).
    let defaultStep = 1e-2

    /// The derivative at 0 of a curve `t -> g(t)` (e.g. a retraction on a manifold), by Richardson
    /// extrapolation of central differences at `h, h/2, h/4` (error `O(h^6)` plus rounding).
    let alongCurve (step: float) (g: float -> Matrix<float>) : Matrix<float> =
        let central h = (g h - g (-h)) / (2.0 * h)
        let d1 = central step
        let d2 = central (step / 2.0)
        let d3 = central (step / 4.0)
        let r1 = (d2 * 4.0 - d1) / 3.0
        let r2 = (d3 * 4.0 - d2) / 3.0
        (r2 * 16.0 - r1) / 15.0

    /// The directional derivative `d/dt g(w + t v)` at `t = 0` of a matrix-valued `g`: `alongCurve` on the
    /// line `t -> w + t v`, with the step scaled to `step * max(1, ||w||) / ||v||`.
    let directional (step: float) (g: Matrix<float> -> Matrix<float>) (w: Matrix<float>) (v: Matrix<float>) : Matrix<float> =
        let h0 = step * max 1.0 (Linalg.norm w) / max 1e-300 (Linalg.norm v)
        alongCurve h0 (fun t -> g (w + v * t))

    /// The Euclidean gradient of a scalar `f` at `w`, one directional derivative per entry.
    let gradient (step: float) (f: Matrix<float> -> float) (w: Matrix<float>) : Matrix<float> =
        let g = Linalg.zeros w.RowCount w.ColumnCount
        for j in 0 .. w.ColumnCount - 1 do
            for i in 0 .. w.RowCount - 1 do
                let e = Linalg.zeros w.RowCount w.ColumnCount
                e.[i, j] <- 1.0
                let d = directional step (fun x -> let m = Linalg.zeros 1 1 in m.[0, 0] <- f x; m) w e
                g.[i, j] <- d.[0, 0]
        g

/// Operations on model specifications.
[<RequireQualifiedAccess>]
module ModelSpec =

    /// `nabla_w l(w; z)`: the analytic gradient, or the Richardson finite-difference fallback.
    let gradient (loss: PretrainingLoss<'Z>) (w: Matrix<float>) (z: 'Z) : Matrix<float> =
        match loss.Gradient with
        | Some g -> g w z
        | None -> FiniteDifference.gradient FiniteDifference.defaultStep (fun x -> loss.Loss x z) w

    /// `nabla_w^2 l(w; z)[v]`: analytic, or Richardson finite differences of `gradient`.
    let hessianVector (loss: PretrainingLoss<'Z>) (w: Matrix<float>) (z: 'Z) (v: Matrix<float>) : Matrix<float> =
        match loss.HessianVector with
        | Some h -> h w z v
        | None -> FiniteDifference.directional FiniteDifference.defaultStep (fun x -> gradient loss x z) w v

    /// The feature map `psi(x, w)` (`W(w) x` for a linear representation).
    let features (spec: ModelSpec<'Z>) (w: Matrix<float>) (x: float[]) : float[] =
        match spec.Representation with
        | LinearGaussian r -> (r.FeatureMatrix w * MathNet.Numerics.LinearAlgebra.Double.DenseVector(x)).ToArray()
        | Sampled r -> r.Features w x

    /// The linear representation of a specification; `InvalidArgumentException` for a sampled one.
    let linear (spec: ModelSpec<'Z>) : LinearGaussianRepresentation =
        match spec.Representation with
        | LinearGaussian r -> r
        | Sampled _ -> Check.fail "spec.Representation" "must be LinearGaussian for this closed-form computation"

    /// `f*(x) = <theta*, psi(x, w*)>` as the coefficient vector `b = W(w*)^T theta*` (so `f*(x) = b^T x`);
    /// linear representations only.
    let targetCoefficients (spec: ModelSpec<'Z>) : float[] =
        ((linear spec).FeatureMatrix(spec.WStar).Transpose() * MathNet.Numerics.LinearAlgebra.Double.DenseVector(spec.ThetaStar)).ToArray()
