namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// Products `M_1 x ... x M_r` of manifolds with the product metric. A point (or tangent vector) is
/// the single column obtained by stacking the column-major vectorisations of its factors, so the
/// ambient shape is `(sum_i rows_i * cols_i) x 1`.
[<RequireQualifiedAccess>]
module Product =

    /// Splits a stacked column into the factors' matrices.
    let split (factors: Manifold[]) (z: Matrix<float>) : Matrix<float>[] =
        let xs = Linalg.values z
        let mutable offset = 0
        [| for f in factors do
               let len = f.AmbientRows * f.AmbientCols
               yield Linalg.ofColumnMajor f.AmbientRows f.AmbientCols (Array.sub xs offset len)
               offset <- offset + len |]

    /// Stacks the factors' matrices into one column.
    let stack (parts: Matrix<float>[]) : Matrix<float> =
        Linalg.column (parts |> Array.collect (fun p -> Array.copy (Linalg.values p)))

    /// The product manifold. Every operation acts factor by factor; `Exp`/`Log` exist iff every factor
    /// has them; the injectivity radius is the smallest of the factors'. The Weingarten map is the
    /// direct sum of the factors' Weingarten maps.
    let create (factors: Manifold[]) : Manifold =
        if isNull (box factors) || factors.Length = 0 then raise (InvalidArgumentException("factors", "must be non-empty"))
        let factors = Array.copy factors
        let r = factors.Length
        let size = factors |> Array.sumBy (fun f -> f.AmbientRows * f.AmbientCols)
        let sp = split factors
        let zip2 (op: int -> Matrix<float> -> Matrix<float> -> Matrix<float>) (a: Matrix<float>) (b: Matrix<float>) =
            let aa = sp a
            let bb = sp b
            stack (Array.init r (fun i -> op i aa.[i] bb.[i]))
        let map2 (op: Manifold -> Matrix<float> -> Matrix<float> -> Matrix<float>) = zip2 (fun i -> op factors.[i])
        let map3 op (a: Matrix<float>) (b: Matrix<float>) (c: Matrix<float>) =
            let aa = sp a
            let bb = sp b
            let cc = sp c
            stack (Array.init r (fun i -> op factors.[i] aa.[i] bb.[i] cc.[i]))
        // The factor-wise operation when every factor has it.
        let allSome (get: Manifold -> (Matrix<float> -> Matrix<float> -> Matrix<float>) option) =
            if factors |> Array.forall (fun f -> (get f).IsSome) then
                let ops = factors |> Array.map (fun f -> (get f).Value)
                Some(zip2 (fun i -> ops.[i]))
            else None
        let exp = allSome (fun f -> f.Exp)
        let log = allSome (fun f -> f.Log)
        let project = map2 (fun f -> f.Project)
        { Name = "Product(" + String.Join(", ", factors |> Array.map (fun f -> f.Name)) + ")"
          Dimension = factors |> Array.sumBy (fun f -> f.Dimension)
          AmbientRows = size
          AmbientCols = 1
          Residual = fun x -> let xx = sp x in Array.init r (fun i -> factors.[i].Residual xx.[i]) |> Array.sum
          Project = project
          Inner =
            fun x u v ->
                let xx = sp x
                let uu = sp u
                let vv = sp v
                Array.init r (fun i -> factors.[i].Inner xx.[i] uu.[i] vv.[i]) |> Array.sum
          Exp = exp
          Log = log
          InjectivityRadius = factors |> Array.map (fun f -> f.InjectivityRadius) |> Array.min
          Retract = map2 (fun f -> f.Retract)
          InverseRetract = map2 (fun f -> f.InverseRetract)
          Transport = map3 (fun f -> f.Transport)
          EgradToRgrad = map2 (fun f -> f.EgradToRgrad)
          Weingarten = map3 (fun f -> f.Weingarten)
          EhessToRhess =
            fun x g h v ->
                let xx = sp x
                let gg = sp g
                let hh = sp h
                let vv = sp v
                stack (Array.init r (fun i -> factors.[i].EhessToRhess xx.[i] gg.[i] hh.[i] vv.[i]))
          TangentBasis =
            fun x ->
                let xx = sp x
                [| for i in 0 .. r - 1 do
                       for b in factors.[i].TangentBasis xx.[i] do
                           yield stack (Array.init r (fun j -> if j = i then b else Linalg.zeros factors.[j].AmbientRows factors.[j].AmbientCols)) |]
          RandomPoint = fun rng -> stack (factors |> Array.map (fun f -> f.RandomPoint rng))
          RandomTangent = fun rng x -> Manifold.randomUnitTangent size 1 (project x) rng }
