namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

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
      /// Points in the fitted window (default 8).
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
    let defaultOptions =
        { MinStep = 1e-8; MaxStep = 1.0; Steps = 51; Window = 8; SlopeTolerance = 0.1; NoiseFloor = 1e-12; TangencyTolerance = 1e-8 }

    let private fitSlope (opts: TaylorCheckOptions) (ts: float[]) (errs: float[]) (f0: float) =
        let floor = opts.NoiseFloor * max 1.0 (abs f0)
        let n = ts.Length
        let w = max 3 (min opts.Window n)
        let mutable best = (Double.PositiveInfinity, Double.NaN, -1, -1)
        for s in 0 .. n - w do
            let idx = [| s .. s + w - 1 |]
            if idx |> Array.forall (fun i -> errs.[i] > floor && Double.IsFinite errs.[i]) then
                let xs = idx |> Array.map (fun i -> log10 ts.[i])
                let ys = idx |> Array.map (fun i -> log10 errs.[i])
                let mx = Array.average xs
                let my = Array.average ys
                let sxx = Array.sumBy (fun x -> (x - mx) * (x - mx)) xs
                let sxy = Array.fold2 (fun acc x y -> acc + (x - mx) * (y - my)) 0.0 xs ys
                let slope = sxy / sxx
                let rss = Array.fold2 (fun acc x y -> let r = y - my - slope * (x - mx) in acc + r * r) 0.0 xs ys
                let (bestRss, _, _, _) = best
                if rss < bestRss then best <- (rss, slope, s, s + w - 1)
        let (_, slope, a, b) = best
        let exact = errs |> Array.forall (fun e -> e <= floor)
        slope, a, b, exact

    let private steps (opts: TaylorCheckOptions) =
        let a = log10 opts.MinStep
        let b = log10 opts.MaxStep
        Array.init opts.Steps (fun i -> 10.0 ** (a + (b - a) * float i / float (opts.Steps - 1)))

    let private checkDirection (m: Manifold) (x: Matrix<float>) (v: Matrix<float>) =
        Manifold.checkPoint m "x" x
        Manifold.checkShape m "v" v
        let vt = m.Project x v
        if Linalg.norm (v - vt) > 1e-8 * max 1.0 (Linalg.norm v) then
            raise (InvalidArgumentException("v", "must be a tangent vector at x"))

    let private verdict kind expected (opts: TaylorCheckOptions) ts errs f0 tang =
        let slope, a, b, exact = fitSlope opts ts errs f0
        { Kind = kind
          ExpectedSlope = expected
          FittedSlope = (if exact then Double.NaN else slope)
          Exact = exact
          Passed = tang <= opts.TangencyTolerance && (exact || (Double.IsFinite slope && slope >= expected - opts.SlopeTolerance))
          Steps = ts
          Errors = errs
          WindowStart = a
          WindowEnd = b
          TangencyResidual = tang }

    /// Checks a Riemannian gradient `rgrad` of `cost` at `x` along the tangent direction `v`:
    /// remainder `|f(R_x(t v)) - f(x) - t <grad f(x), v>|`, expected slope 2.
    let checkGradientWith (opts: TaylorCheckOptions) (m: Manifold) (cost: Matrix<float> -> float)
                          (rgrad: Matrix<float> -> Matrix<float>) (x: Matrix<float>) (v: Matrix<float>) : TaylorCheck =
        checkDirection m x v
        let f0 = cost x
        let g = rgrad x
        Manifold.checkShape m "rgrad(x)" g
        let slope = m.Inner x g v
        let ts = steps opts
        let errs = ts |> Array.map (fun t -> abs (cost (m.Retract x (v * t)) - f0 - t * slope))
        let tang = Linalg.norm (g - m.Project x g) / max 1.0 (Linalg.norm g)
        verdict "gradient" 2.0 opts ts errs f0 tang

    /// `checkGradientWith defaultOptions`.
    let checkGradient m cost rgrad x v = checkGradientWith defaultOptions m cost rgrad x v

    /// Checks a Riemannian Hessian `rhess x v` (with gradient `rgrad`) of `cost` at `x` along `v`:
    /// remainder `|f(R_x(t v)) - f(x) - t <grad, v> - t^2/2 <Hess[v], v>|`, expected slope 3 (needs a
    /// second-order retraction; all built-in retractions are).
    let checkHessianWith (opts: TaylorCheckOptions) (m: Manifold) (cost: Matrix<float> -> float)
                         (rgrad: Matrix<float> -> Matrix<float>) (rhess: Matrix<float> -> Matrix<float> -> Matrix<float>)
                         (x: Matrix<float>) (v: Matrix<float>) : TaylorCheck =
        checkDirection m x v
        let f0 = cost x
        let g = rgrad x
        Manifold.checkShape m "rgrad(x)" g
        let hv = rhess x v
        Manifold.checkShape m "rhess(x, v)" hv
        let d1 = m.Inner x g v
        let d2 = m.Inner x hv v
        let ts = steps opts
        let errs = ts |> Array.map (fun t -> abs (cost (m.Retract x (v * t)) - f0 - t * d1 - 0.5 * t * t * d2))
        let tang = Linalg.norm (hv - m.Project x hv) / max 1.0 (Linalg.norm hv)
        verdict "hessian" 3.0 opts ts errs f0 tang

    /// `checkHessianWith defaultOptions`.
    let checkHessian m cost rgrad rhess x v = checkHessianWith defaultOptions m cost rgrad rhess x v

    /// The Riemannian gradient of a cost given by its Euclidean gradient: `x -> P_x(egrad x)`.
    let riemannianGradient (m: Manifold) (egrad: Matrix<float> -> Matrix<float>) = fun x -> m.EgradToRgrad x (egrad x)

    /// The Riemannian Hessian of a cost given by its Euclidean gradient and Hessian-vector product:
    /// `(x, v) -> P_x(ehess x v) + W_x(v, egrad x)`.
    let riemannianHessian (m: Manifold) (egrad: Matrix<float> -> Matrix<float>) (ehess: Matrix<float> -> Matrix<float> -> Matrix<float>) =
        fun x v -> m.EhessToRhess x (egrad x) (ehess x v) v
