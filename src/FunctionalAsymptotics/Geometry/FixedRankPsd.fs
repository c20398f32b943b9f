namespace FunctionalAsymptotics.Geometry

open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The manifold `M_{d,k}` of rank-k positive semi-definite d x d matrices, embedded in the symmetric
/// matrices with the induced Frobenius metric: the descriptor manifold of the spectral (`M = A^T A`) and
/// factor (`M = A A^T`) models (paper Section 6, Appendices H–I; docs/theory.md section 3).
///
/// At `X = U Lambda U^T` (`U` d x k orthonormal, `Lambda` k x k diagonal positive) the tangent space is
/// `{ U S U^T + U P^T + P U^T : S symmetric, U^T P = 0 }`, the normal space (in Sym(d)) is
/// `{ P_perp N P_perp }` with `P_perp = I - U U^T`.
[<RequireQualifiedAccess>]
module FixedRankPsd =

    /// Eigen-factor of a point: the top-k eigenvectors `U` (d x k) and eigenvalues (descending).
    let factor (k: int) (x: Matrix<float>) : Matrix<float> * float[] =
        let lam, v = Linalg.eigSymDesc x
        v.SubMatrix(0, x.RowCount, 0, k), Array.sub lam 0 k

    /// The Moore–Penrose pseudo-inverse `X^+ = U Lambda^-1 U^T` of a point.
    let pseudoInverse (k: int) (x: Matrix<float>) : Matrix<float> =
        let u, lam = factor k x
        u * (Linalg.diag (lam |> Array.map (fun l -> 1.0 / l))) * u.Transpose()

    /// Relative tolerance under which the k-th eigenvalue counts as zero (rank deficiency).
    let rankTolerance = 1e-10

    /// `M_{d,k}`, dimension `dk - k(k-1)/2`.
    ///
    /// - Residual: `||X - X^T||_F + sqrt(sum_{i>k} lambda_i^2) + max(0, -lambda_k)` (eigenvalues of
    ///   `sym X` in descending order); if `0 <= lambda_k <= rankTolerance * lambda_1` the point is rank
    ///   deficient and the residual (hence `Manifold.checkPoint` and every operation) raises
    ///   `RankDeficientException`.
    /// - Projection: `P_T(Z) = Z_s - P_perp Z_s P_perp`, `Z_s = sym Z`.
    /// - Retraction: the orthographic retraction `R_X(V) = (X+V) U [U^T (X+V) U]^-1 U^T (X+V)`
    ///   `= X + V + P (Lambda + S)^-1 P^T`, second order (Absil & Oseledets 2015); its exact inverse is
    ///   `R_X^-1(Y) = P_T(Y - X)`. No closed-form exp/log for the induced metric.
    /// - Weingarten map (derived from `D P_T[Z] N` with `D(U U^T)[Z] = P Lambda^-1 U^T + U Lambda^-1 P^T`):
    ///   `W_X(Z, N) = N_perp Z X^+ + X^+ Z N_perp`, `N_perp = P_perp sym(N) P_perp`, so
    ///   `Hess f(X)[Z] = P_T(sym ehess[Z]) + N_perp Z X^+ + X^+ Z N_perp` with `N_perp` from the Euclidean
    ///   gradient. This term is what a Euclidean-Hessian shortcut misses (docs/case-studies.md, Cor. 6.3).
    let create (d: int) (k: int) : Manifold =
        if k < 1 then raise (InvalidArgumentException("k", sprintf "must be >= 1, got %d" k))
        if k > d then raise (InvalidArgumentException("k", sprintf "must be <= d = %d, got %d" d k))
        let name = sprintf "FixedRankPsd(%d,%d)" d k
        let basis (x: Matrix<float>) =
            let lam, v = Linalg.eigSymDesc x
            if not (lam.[k - 1] > rankTolerance * max lam.[0] 1e-300) then
                raise (RankDeficientException("x (a point of " + name + ")", k, lam |> Array.filter (fun l -> l > rankTolerance * lam.[0]) |> Array.length))
            v.SubMatrix(0, d, 0, k), Array.sub lam 0 k
        let pPerp (x: Matrix<float>) =
            let u, _ = basis x
            Linalg.eye d - u * u.Transpose()
        let project (x: Matrix<float>) (z: Matrix<float>) =
            let zs = Linalg.sym z
            let pp = pPerp x
            Linalg.sym (zs - pp * zs * pp)
        let weingarten (x: Matrix<float>) (z: Matrix<float>) (nAmb: Matrix<float>) =
            let u, lam = basis x
            let pp = Linalg.eye d - u * u.Transpose()
            let nperp = pp * Linalg.sym nAmb * pp
            let xplus = u * (Linalg.diag (lam |> Array.map (fun l -> 1.0 / l))) * u.Transpose()
            let t = nperp * z * xplus
            t + t.Transpose()
        let retract (x: Matrix<float>) (v: Matrix<float>) =
            let u, _ = basis x
            let xv = Linalg.sym (x + v)
            let xu = xv * u
            let mid = u.TransposeThisAndMultiply xu
            Linalg.sym (xu * mid.Inverse() * xu.Transpose())
        let residual (x: Matrix<float>) =
            let lam, _ = Linalg.eigSymDesc x
            let tail = lam.[k..] |> Array.sumBy (fun l -> l * l) |> sqrt
            let r = Linalg.norm (x - x.Transpose()) + tail + max 0.0 (-lam.[k - 1])
            // A PSD matrix of rank < k satisfies the other equations but is not on the manifold either;
            // "how far" is the wrong question there, so say so with the typed rank error.
            if r <= 1e-8 * max 1.0 (Linalg.norm x) && not (lam.[k - 1] > rankTolerance * max lam.[0] 1e-300) then
                raise (RankDeficientException("x (a point of " + name + ")", k, lam |> Array.filter (fun l -> l > rankTolerance * lam.[0]) |> Array.length))
            r
        let dim = d * k - k * (k - 1) / 2
        { Name = name
          Dimension = dim
          AmbientRows = d
          AmbientCols = d
          Residual = residual
          Project = project
          Inner = fun _ u v -> Linalg.inner u v
          Exp = None
          Log = None
          InjectivityRadius = 0.0
          Retract = retract
          InverseRetract = fun x y -> project x (y - x)
          Transport = fun _ y v -> project y v
          EgradToRgrad = project
          Weingarten = weingarten
          EhessToRhess = fun x g h v -> project x h + weingarten x v g
          TangentBasis = fun x -> Manifold.tangentBasisByProjection d d dim (project x)
          RandomPoint =
            fun rng ->
                // Eigenvalues in [0.5, 2.5]: well conditioned, so that Lambda^-1 stays moderate.
                let u = Linalg.randomStiefel rng d k
                let lam = Array.init k (fun _ -> 0.5 + 2.0 * rng.NextDouble())
                Linalg.sym (u * Linalg.diag lam * u.Transpose())
          RandomTangent = fun rng x -> Manifold.randomUnitTangent d d (project x) rng }
