namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The unit sphere `S^{n-1} = { x in R^n : ||x|| = 1 }` (points are n x 1 columns), induced metric.
[<RequireQualifiedAccess>]
module Sphere =

    /// `S^{n-1}`. Residual `| ||x|| - 1 |`. Projection `v - x x^T v`; exp/log are the great-circle
    /// formulas (injectivity radius pi); retraction `(x + v)/||x + v||` (metric projection, second
    /// order) with inverse `y / <x, y> - x`. Weingarten map `W_x(v, n) = -(x^T n) v`, so
    /// `Hess f(x)[v] = P_x(ehess[v]) - (x^T egrad) v`.
    let create (n: int) : Manifold =
        if n < 2 then raise (InvalidArgumentException("n", sprintf "must be >= 2, got %d" n))
        let project (x: Matrix<float>) (z: Matrix<float>) = z - x * (Linalg.inner x z)
        let weingarten (x: Matrix<float>) (v: Matrix<float>) (nrm: Matrix<float>) = v * (-(Linalg.inner x nrm))
        let exp (x: Matrix<float>) (v: Matrix<float>) =
            let t = Linalg.norm v
            if t < 1e-300 then x.Clone()
            else
                let y = x * cos t + v * (sin t / t)
                y / Linalg.norm y
        let log (x: Matrix<float>) (y: Matrix<float>) =
            let c = max -1.0 (min 1.0 (Linalg.inner x y))
            let u = y - x * c
            let nu = Linalg.norm u
            if nu < 1e-300 then Linalg.zeros n 1 else u * (acos c / nu)
        { Name = sprintf "Sphere(%d)" n
          Dimension = n - 1
          AmbientRows = n
          AmbientCols = 1
          Residual = fun x -> abs (Linalg.norm x - 1.0)
          Project = project
          Inner = fun _ u v -> Linalg.inner u v
          Exp = Some exp
          Log = Some log
          InjectivityRadius = Math.PI
          Retract = fun x v -> let y = x + v in y / Linalg.norm y
          InverseRetract = fun x y -> y / Linalg.inner x y - x
          Transport = fun _ y v -> project y v
          EgradToRgrad = project
          Weingarten = weingarten
          EhessToRhess = fun x g h v -> project x h + weingarten x v g
          TangentBasis = fun x -> Manifold.tangentBasisByProjection n 1 (n - 1) (project x)
          RandomPoint = fun rng -> let x = Linalg.randn rng n 1 in x / Linalg.norm x
          RandomTangent = fun rng x -> Manifold.randomUnitTangent n 1 (project x) rng }
