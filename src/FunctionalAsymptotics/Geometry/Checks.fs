namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

// Documented in Checks.fsi.

type TaylorCheck =
    { Kind: string
      ExpectedSlope: float
      FittedSlope: float
      Exact: bool
      Passed: bool
      Steps: float[]
      Errors: float[]
      WindowStart: int
      WindowEnd: int
      TangencyResidual: float }

type TaylorCheckOptions =
    { MinStep: float
      MaxStep: float
      Steps: int
      Window: int
      SlopeTolerance: float
      NoiseFloor: float
      TangencyTolerance: float }

[<RequireQualifiedAccess>]
module Checks =
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
        if opts.Steps < 3 then raise (InvalidArgumentException("Steps", sprintf "must be >= 3, got %d" opts.Steps))
        if not (opts.MinStep > 0.0 && opts.MaxStep > opts.MinStep && Double.IsFinite opts.MaxStep) then
            raise (InvalidArgumentException("MinStep/MaxStep", sprintf "need 0 < MinStep < MaxStep < infinity, got %g and %g" opts.MinStep opts.MaxStep))
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
    let checkGradient m cost rgrad x v = checkGradientWith defaultOptions m cost rgrad x v
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
    let checkHessian m cost rgrad rhess x v = checkHessianWith defaultOptions m cost rgrad rhess x v
    let riemannianGradient (m: Manifold) (egrad: Matrix<float> -> Matrix<float>) = fun x -> m.EgradToRgrad x (egrad x)
    let riemannianHessian (m: Manifold) (egrad: Matrix<float> -> Matrix<float>) (ehess: Matrix<float> -> Matrix<float> -> Matrix<float>) =
        fun x v -> m.EhessToRhess x (egrad x) (ehess x v) v
