namespace FunctionalAsymptotics.Geometry

open MathNet.Numerics.LinearAlgebra

/// The outcome of a Taylor-slope check (Manopt's `checkgradient` / `checkhessian`).
type TaylorCheck =
    { /// "gradient" or "hessian".
      Kind: string
      /// The slope a correct derivative gives on the log–log plot: 2 (gradient), 3 (Hessian).
      ExpectedSlope: float
      /// The least-squares slope of `log error` against `log t` over the fitted window (NaN if `Exact`).
      FittedSlope: float
      /// True when every error is at rounding level (e.g. a quadratic cost with an exact Hessian).
      Exact: bool
      /// The verdict: `Exact`, or `FittedSlope >= ExpectedSlope - SlopeTolerance`, and the derivative is tangent.
      Passed: bool
      /// The step sizes `t` (log-spaced, increasing).
      Steps: float[]
      /// The Taylor remainders at each step.
      Errors: float[]
      /// First index of the fitted window in `Steps` (-1 if none).
      WindowStart: int
      /// Last index of the fitted window in `Steps` (-1 if none).
      WindowEnd: int
      /// `||d - P_x d|| / max(1, ||d||)` for the checked derivative `d` (gradient or `Hess[v]`): it must be tangent.
      TangencyResidual: float }

/// Options of the Taylor checks.
type TaylorCheckOptions =
    { /// Smallest step (default 1e-8).
      MinStep: float
      /// Largest step (default 1).
      MaxStep: float
      /// Number of log-spaced steps (default 51).
      Steps: int
      /// Points in the fitted window (default 8); the window with the smallest regression residual among
      /// those whose errors are all above the noise floor is used.
      Window: int
      /// Accepted shortfall of the slope (default 0.1).
      SlopeTolerance: float
      /// Errors below `NoiseFloor * max(1, |f(x)|)` are rounding noise (default 1e-12).
      NoiseFloor: float
      /// Accepted tangency residual (default 1e-8).
      TangencyTolerance: float }

/// Manopt-style derivative checks on any `Manifold`, for users' own costs: compare the cost along the
/// retraction curve `t -> f(R_x(t v))` with its first- or second-order Taylor model and fit the slope of
/// the remainder on a log–log scale. With a correct gradient the remainder is `O(t^2)` (slope 2); with a
/// correct Riemannian Hessian and a second-order retraction (all built-ins) it is `O(t^3)` (slope 3).
[<RequireQualifiedAccess>]
module Checks =

    /// Default options.
    val defaultOptions: TaylorCheckOptions

    /// Checks a Riemannian gradient `rgrad` of `cost` at `x` along the tangent direction `v` (raises
    /// `InvalidArgumentException` if `v` is not tangent): remainder `|f(R_x(t v)) - f(x) - t <grad f(x), v>|`,
    /// expected slope 2.
    val checkGradientWith:
        opts: TaylorCheckOptions -> m: Manifold -> cost: (Matrix<float> -> float) -> rgrad: (Matrix<float> -> Matrix<float>) ->
        x: Matrix<float> -> v: Matrix<float> -> TaylorCheck

    /// `checkGradientWith defaultOptions`.
    val checkGradient:
        m: Manifold -> cost: (Matrix<float> -> float) -> rgrad: (Matrix<float> -> Matrix<float>) -> x: Matrix<float> -> v: Matrix<float> ->
        TaylorCheck

    /// Checks a Riemannian Hessian `rhess x v` (with gradient `rgrad`) of `cost` at `x` along `v`:
    /// remainder `|f(R_x(t v)) - f(x) - t <grad, v> - t^2/2 <Hess[v], v>|`, expected slope 3 (needs a
    /// second-order retraction; all built-in retractions are).
    val checkHessianWith:
        opts: TaylorCheckOptions -> m: Manifold -> cost: (Matrix<float> -> float) -> rgrad: (Matrix<float> -> Matrix<float>) ->
        rhess: (Matrix<float> -> Matrix<float> -> Matrix<float>) -> x: Matrix<float> -> v: Matrix<float> -> TaylorCheck

    /// `checkHessianWith defaultOptions`.
    val checkHessian:
        m: Manifold -> cost: (Matrix<float> -> float) -> rgrad: (Matrix<float> -> Matrix<float>) ->
        rhess: (Matrix<float> -> Matrix<float> -> Matrix<float>) -> x: Matrix<float> -> v: Matrix<float> -> TaylorCheck

    /// The Riemannian gradient of a cost given by its Euclidean gradient: `x -> P_x(egrad x)`.
    val riemannianGradient: m: Manifold -> egrad: (Matrix<float> -> Matrix<float>) -> (Matrix<float> -> Matrix<float>)

    /// The Riemannian Hessian of a cost given by its Euclidean gradient and Hessian-vector product:
    /// `(x, v) -> P_x(ehess x v) + W_x(v, egrad x)`.
    val riemannianHessian:
        m: Manifold -> egrad: (Matrix<float> -> Matrix<float>) -> ehess: (Matrix<float> -> Matrix<float> -> Matrix<float>) ->
        (Matrix<float> -> Matrix<float> -> Matrix<float>)
