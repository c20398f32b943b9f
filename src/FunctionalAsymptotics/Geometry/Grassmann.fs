namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The Grassmann manifold `Gr(n,k)` in the projector representation: `{ P in Sym(n) : P^2 = P, tr P = k }`,
/// embedded in the n x n matrices with the induced Frobenius metric (twice the "canonical" metric of
/// Bendokat, Zimmermann & Absil 2024; geodesics are the same curves).
[<RequireQualifiedAccess>]
module Grassmann =

    /// The top-k eigenvectors (n x k, orthonormal) of a symmetric matrix.
    let internal topBasis (k: int) (p: Matrix<float>) =
        let _, v = Linalg.eigSymDesc p
        v.SubMatrix(0, p.RowCount, 0, k)

    /// `Gr(n,k)`, dimension `k(n-k)`. Residual `||P^2 - P||_F + ||P - P^T||_F + |tr P - k|`.
    /// Tangent vectors are symmetric `V` with `V = P V + V P`; projection `P_T(Z) = Z_s P + P Z_s - 2 P Z_s P`,
    /// `Z_s = sym Z`. With `P = U U^T` and `V = Delta U^T + U Delta^T` (`Delta = V U`, `U^T Delta = 0`), thin SVD
    /// `Delta = Q Sigma R^T`: `Exp_P(V) = U(1) U(1)^T`, `U(1) = U R cos(Sigma) R^T + Q sin(Sigma) R^T`.
    /// Log: `Delta' = (I - U U^T) Y (U^T Y)^-1 = Q S R^T`, principal angles `theta = atan S`, `Log = Delta U^T + U Delta^T`
    /// with `Delta = Q theta R^T` (valid when all principal angles are < pi/2; in this metric the
    /// injectivity radius is `pi/sqrt 2`). Retraction: metric projection `P + V -> top-k eigenprojector`
    /// (second order); its inverse is the same construction with `tan(2 theta)/2` in place of `theta`
    /// (valid for angles < pi/4). Weingarten map, from differentiating `P_T`:
    /// `W_P(V, N) = P_T(N V + V N - 2 V N P - 2 P N V)` with `N` the (symmetrised) normal part.
    let create (n: int) (k: int) : Manifold =
        if k < 1 then raise (InvalidArgumentException("k", sprintf "must be >= 1, got %d" k))
        if k >= n then raise (InvalidArgumentException("k", sprintf "must be < n = %d, got %d" n k))
        let project (p: Matrix<float>) (z: Matrix<float>) =
            // Z_s P + P Z_s - 2 P Z_s P = 2 sym(P Z_s) - 2 P Z_s P
            let zs = Linalg.sym z
            let pz = p * zs
            Linalg.sym ((pz + pz.Transpose()) - pz * p * 2.0)
        let weingarten (p: Matrix<float>) (v: Matrix<float>) (nAmb: Matrix<float>) =
            let ns = Linalg.sym nAmb
            let nrm = ns - project p ns
            project p (nrm * v + v * nrm - v * nrm * p * 2.0 - p * nrm * v * 2.0)
        // U(1) U(1)^T for the geodesic from the basis U with horizontal velocity Delta.
        let along (u: Matrix<float>) (delta: Matrix<float>) =
            let svd = delta.Svd(true)
            let q = svd.U.SubMatrix(0, n, 0, k)
            let s = svd.S.ToArray()
            let rt = svd.VT
            let cosS = Linalg.diag (s |> Array.map cos)
            let sinS = Linalg.diag (s |> Array.map sin)
            let u1 = u * rt.Transpose() * cosS * rt + q * sinS * rt
            Linalg.sym (u1 * u1.Transpose())
        let exp (p: Matrix<float>) (v: Matrix<float>) =
            let u = topBasis k p
            along u (v * u)
        let angleLog (angle: float -> float) (p: Matrix<float>) (y: Matrix<float>) =
            let u = topBasis k p
            let w = topBasis k y
            let utw = u.TransposeThisAndMultiply w
            let dprime = (w - u * utw) * utw.Inverse()
            let svd = dprime.Svd(true)
            let q = svd.U.SubMatrix(0, n, 0, k)
            let th = Linalg.diag (svd.S.ToArray() |> Array.map (fun s -> angle (atan s)))
            let delta = q * th * svd.VT
            let v = delta * u.Transpose()
            v + v.Transpose()
        let retract (p: Matrix<float>) (v: Matrix<float>) =
            let u = topBasis k (p + v)
            Linalg.sym (u * u.Transpose())
        let dim = k * (n - k)
        { Name = sprintf "Grassmann(%d,%d)" n k
          Dimension = dim
          AmbientRows = n
          AmbientCols = n
          Residual =
            fun p -> Linalg.norm (p * p - p) + Linalg.norm (p - p.Transpose()) + abs (p.Trace() - float k)
          Project = project
          Inner = fun _ u v -> Linalg.inner u v
          Exp = Some exp
          Log = Some(angleLog id)
          InjectivityRadius = Math.PI / sqrt 2.0
          Retract = retract
          InverseRetract = angleLog (fun th -> tan (2.0 * th) / 2.0)
          Transport = fun _ y v -> project y v
          EgradToRgrad = project
          Weingarten = weingarten
          EhessToRhess = fun p g h v -> project p h + weingarten p v g
          TangentBasis = fun p -> Manifold.tangentBasisByProjection n n dim (project p)
          RandomPoint =
            fun rng ->
                let u = Linalg.randomStiefel rng n k
                Linalg.sym (u * u.Transpose())
          RandomTangent = fun rng p -> Manifold.randomUnitTangent n n (project p) rng }
