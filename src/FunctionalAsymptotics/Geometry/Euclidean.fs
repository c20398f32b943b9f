namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// Euclidean space `R^{rows x cols}` with the Frobenius metric: every operation is the flat one.
[<RequireQualifiedAccess>]
module Euclidean =

    /// `R^{rows x cols}`: `Exp x v = x + v`, `Log x y = y - x`, projection = identity, Weingarten = 0.
    let create (rows: int) (cols: int) : Manifold =
        if rows < 1 then raise (InvalidArgumentException("rows", sprintf "must be >= 1, got %d" rows))
        if cols < 1 then raise (InvalidArgumentException("cols", sprintf "must be >= 1, got %d" cols))
        let project (_: Matrix<float>) (z: Matrix<float>) = z.Clone()
        { Name = sprintf "Euclidean(%d,%d)" rows cols
          Dimension = rows * cols
          AmbientRows = rows
          AmbientCols = cols
          Residual = fun _ -> 0.0
          Project = project
          Inner = fun _ u v -> Linalg.inner u v
          Exp = Some(fun x v -> x + v)
          Log = Some(fun x y -> y - x)
          InjectivityRadius = Double.PositiveInfinity
          Retract = fun x v -> x + v
          InverseRetract = fun x y -> y - x
          Transport = fun _ _ v -> v.Clone()
          EgradToRgrad = project
          Weingarten = fun _ _ _ -> Linalg.zeros rows cols
          EhessToRhess = fun _ _ h _ -> h.Clone()
          TangentBasis =
            fun _ ->
                Array.init (rows * cols) (fun j ->
                    let e = Linalg.zeros rows cols
                    e.[j % rows, j / rows] <- 1.0
                    e)
          RandomPoint = fun rng -> Linalg.randn rng rows cols
          RandomTangent = fun rng _ -> let v = Linalg.randn rng rows cols in v / Linalg.norm v }
