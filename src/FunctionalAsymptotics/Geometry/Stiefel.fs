namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The Stiefel manifold `St(n,k) = { X in R^{n x k} : X^T X = I_k }` with the embedded (Euclidean) metric.
[<RequireQualifiedAccess>]
module Stiefel =

    /// `St(n,k)`, dimension `nk - k(k+1)/2`. Residual `||X^T X - I||_F`.
    /// Projection `Z - X sym(X^T Z)`. Exp: the closed form of Edelman, Arias & Smith (1998, eq. 2.45)
    /// for the embedded metric, `Y = [X, V] expm([[A, -S], [I, A]]) [I; 0] expm(-A)`, `A = X^T V`,
    /// `S = V^T V`; no closed-form log. Retraction: polar, `(X + V)(I + V^T V)^{-1/2}` (the metric
    /// projection, second order); its inverse solves `(X^T Y) S + S (Y^T X) = 2I` for symmetric `S` and
    /// returns `Y S - X`. Weingarten `W_X(V, N) = -P_X(V sym(X^T N))`, so
    /// `Hess f(X)[V] = P_X(ehess[V] - V sym(X^T egrad))`.
    let create (n: int) (k: int) : Manifold =
        if k < 1 then raise (InvalidArgumentException("k", sprintf "must be >= 1, got %d" k))
        if k > n then raise (InvalidArgumentException("k", sprintf "must be <= n = %d, got %d" n k))
        let project (x: Matrix<float>) (z: Matrix<float>) = z - x * Linalg.sym (x.TransposeThisAndMultiply z)
        let weingarten (x: Matrix<float>) (v: Matrix<float>) (nrm: Matrix<float>) =
            -(project x (v * Linalg.sym (x.TransposeThisAndMultiply nrm)))
        let exp (x: Matrix<float>) (v: Matrix<float>) =
            let a = x.TransposeThisAndMultiply v
            let s = v.TransposeThisAndMultiply v
            let blk = Linalg.zeros (2 * k) (2 * k)
            blk.SetSubMatrix(0, 0, a)
            blk.SetSubMatrix(0, k, -s)
            blk.SetSubMatrix(k, 0, Linalg.eye k)
            blk.SetSubMatrix(k, k, a)
            let e = Linalg.expm blk
            let xv = x.Append(v)
            xv * e.SubMatrix(0, 2 * k, 0, k) * Linalg.expm (-a)
        let retract (x: Matrix<float>) (v: Matrix<float>) =
            (x + v) * Linalg.invSqrtPd (Linalg.eye k + v.TransposeThisAndMultiply v)
        let inverseRetract (x: Matrix<float>) (y: Matrix<float>) =
            let m = x.TransposeThisAndMultiply y
            // (X^T Y) S + S (X^T Y)^T = 2 I
            let s = Linalg.sym (Linalg.solveSylvester m (Linalg.eye k * 2.0))
            y * s - x
        let dim = n * k - k * (k + 1) / 2
        { Name = sprintf "Stiefel(%d,%d)" n k
          Dimension = dim
          AmbientRows = n
          AmbientCols = k
          Residual = fun x -> Linalg.norm (x.TransposeThisAndMultiply x - Linalg.eye k)
          Project = project
          Inner = fun _ u v -> Linalg.inner u v
          Exp = Some exp
          Log = None
          InjectivityRadius = 0.89 * Math.PI / 2.0
          Retract = retract
          InverseRetract = inverseRetract
          Transport = fun _ y v -> project y v
          EgradToRgrad = project
          Weingarten = weingarten
          EhessToRhess = fun x g h v -> project x h + weingarten x v g
          TangentBasis = fun x -> Manifold.tangentBasisByProjection n k dim (project x)
          RandomPoint = fun rng -> Linalg.randomStiefel rng n k
          RandomTangent = fun rng x -> Manifold.randomUnitTangent n k (project x) rng }
