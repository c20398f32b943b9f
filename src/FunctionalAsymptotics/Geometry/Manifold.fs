namespace FunctionalAsymptotics.Geometry

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// A Riemannian manifold embedded in a Euclidean space of `AmbientRows x AmbientCols` matrices, with
/// the metric induced by the Frobenius inner product (docs/theory.md section 3; paper Appendix D.1).
/// Points and tangent vectors are dense `Matrix<float>` of the ambient shape.
///
/// **Why a record of functions, not an interface.** A manifold is a bundle of operations with no state
/// of its own beyond its dimensions, so a record is the smallest faithful representation; it also
/// supports copy-and-update, which makes variants one line long: a product manifold is assembled from
/// its factors' records, and a test (or a user) can replace `EhessToRhess` by a deliberately wrong one
/// (e.g. without the Weingarten term) and watch the conformance laws fail. The record fields are raw
/// (no argument checks, for speed inside algorithms); the `Manifold` module wraps them with checks.
///
/// Conventions. `Project x z` is the orthogonal projection of an ambient `z` onto `T_x M`.
/// `Weingarten x v n` is the Weingarten map `W_x(v, n) = P_x(D P[v] n)` for a tangent `v` and an
/// ambient `n` (only the normal part of `n` matters). `EhessToRhess x egrad ehessV v` returns
/// `Hess f(x)[v] = P_x(ehessV) + W_x(v, egrad)` (Absil, Mahony & Trumpf 2013), where `ehessV` is the
/// Euclidean Hessian of a smooth extension of `f` applied to `v`. Every built-in `Retract` is
/// second order, so `d^2/dt^2 f(Retract x (t v))` at `t = 0` equals `<Hess f(x)[v], v>`.
type Manifold =
    { /// A readable name, e.g. "FixedRankPsd(5,2)".
      Name: string
      /// The manifold dimension (the dimension of each tangent space).
      Dimension: int
      /// Rows of the ambient matrix shape.
      AmbientRows: int
      /// Columns of the ambient matrix shape.
      AmbientCols: int
      /// Residual of the defining equations at an ambient point (0 on the manifold); units documented
      /// per manifold. Compared with a tolerance by `Manifold.checkPoint`.
      Residual: Matrix<float> -> float
      /// Orthogonal projection of an ambient vector onto the tangent space at a point.
      Project: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// The Riemannian metric at a point (here always the induced Frobenius inner product).
      Inner: Matrix<float> -> Matrix<float> -> Matrix<float> -> float
      /// The exponential map, where a closed form exists.
      Exp: (Matrix<float> -> Matrix<float> -> Matrix<float>) option
      /// The logarithm map (inverse of `Exp` within the injectivity radius), where a closed form exists.
      Log: (Matrix<float> -> Matrix<float> -> Matrix<float>) option
      /// A lower bound on the injectivity radius used by the exp/log laws (infinity when global).
      InjectivityRadius: float
      /// A second-order retraction `R_x(v)`.
      Retract: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// The inverse of `Retract`: `InverseRetract x (Retract x v) = v` for small `v`.
      InverseRetract: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// Vector transport from `T_x M` to `T_y M` (by orthogonal projection for embedded manifolds):
      /// arguments `x y v`.
      Transport: Matrix<float> -> Matrix<float> -> Matrix<float> -> Matrix<float>
      /// Riemannian gradient from the Euclidean gradient: `P_x(egrad)`.
      EgradToRgrad: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// The Weingarten map `W_x(v, n)`: arguments `x v n`.
      Weingarten: Matrix<float> -> Matrix<float> -> Matrix<float> -> Matrix<float>
      /// Riemannian Hessian-vector product: arguments `x egrad ehessV v`.
      EhessToRhess: Matrix<float> -> Matrix<float> -> Matrix<float> -> Matrix<float> -> Matrix<float>
      /// An orthonormal basis of `T_x M` (exactly `Dimension` elements).
      TangentBasis: Matrix<float> -> Matrix<float>[]
      /// A random point, drawn reproducibly from the given seeded generator.
      RandomPoint: Random -> Matrix<float>
      /// A random unit tangent vector at a point.
      RandomTangent: Random -> Matrix<float> -> Matrix<float> }

/// Operations on `Manifold` values, with argument checks (shape, finiteness, on-manifold).
[<RequireQualifiedAccess>]
module Manifold =

    /// Default tolerance for `checkPoint`, relative to `max(1, ||x||_F)`.
    let defaultPointTolerance = 1e-8

    /// An orthonormal basis of the range of a (Frobenius-orthogonal) tangent projection: the range of
    /// the matrix of `project` applied to the ambient unit matrices. Generic, used by the built-ins.
    let internal tangentBasisByProjection (rows: int) (cols: int) (dim: int) (project: Matrix<float> -> Matrix<float>) =
        let n = rows * cols
        let p = Linalg.zeros n n
        for j in 0 .. n - 1 do
            let e = Linalg.zeros rows cols
            e.[j % rows, j / rows] <- 1.0
            let pe = Linalg.values (project e)
            for i in 0 .. n - 1 do
                p.[i, j] <- pe.[i]
        let basis = Linalg.rangeBasis 1e-8 (Linalg.sym p)
        if basis.ColumnCount <> dim then
            raise (FunctionalAsymptoticsException(
                sprintf "tangent basis: projection has numerical rank %d, manifold dimension is %d" basis.ColumnCount dim))
        Array.init dim (fun j -> Linalg.ofColumnMajor rows cols (basis.Column(j).ToArray()))

    /// A random unit vector of `T_x M`: the normalised projection of a Gaussian ambient matrix.
    let internal randomUnitTangent (rows: int) (cols: int) (project: Matrix<float> -> Matrix<float>) (rng: Random) =
        let v = project (Linalg.randn rng rows cols)
        v / Linalg.norm v

    /// Raises `DimensionMismatchException` unless `a` has the ambient shape of `m`.
    let checkShape (m: Manifold) (argument: string) (a: Matrix<float>) =
        Linalg.checkShape argument m.AmbientRows m.AmbientCols a
        Linalg.checkFinite argument a

    /// Raises `OffManifoldException` if `x` is farther than `tolerance * max(1, ||x||_F)` from the
    /// manifold (as measured by `m.Residual`), or `DimensionMismatchException` for a wrong shape.
    let checkPointWith (tolerance: float) (m: Manifold) (argument: string) (x: Matrix<float>) =
        checkShape m argument x
        let r = m.Residual x
        let tol = tolerance * max 1.0 (Linalg.norm x)
        if not (r <= tol) then raise (OffManifoldException(argument, m.Name, r, tol))

    /// `checkPointWith defaultPointTolerance`.
    let checkPoint (m: Manifold) (argument: string) (x: Matrix<float>) =
        checkPointWith defaultPointTolerance m argument x

    /// The checks of the operations below: each named point is on `m` (`checkPoint`), each named ambient
    /// argument has the ambient shape and finite entries (`checkShape`).
    let private checkArgs (m: Manifold) (points: (string * Matrix<float>) list) (ambient: (string * Matrix<float>) list) =
        for name, x in points do checkPoint m name x
        for name, a in ambient do checkShape m name a

    /// Projection of an ambient `z` onto `T_x M`.
    let project (m: Manifold) (x: Matrix<float>) (z: Matrix<float>) =
        checkArgs m [ "x", x ] [ "z", z ]
        m.Project x z

    /// The metric `<u, v>_x`.
    let inner (m: Manifold) (x: Matrix<float>) (u: Matrix<float>) (v: Matrix<float>) =
        checkArgs m [ "x", x ] [ "u", u; "v", v ]
        m.Inner x u v

    /// The norm `||v||_x`.
    let norm (m: Manifold) (x: Matrix<float>) (v: Matrix<float>) = sqrt (inner m x v v)

    /// The retraction `R_x(v)`.
    let retract (m: Manifold) (x: Matrix<float>) (v: Matrix<float>) =
        checkArgs m [ "x", x ] [ "v", v ]
        m.Retract x v

    /// The inverse retraction `R_x^-1(y)`.
    let inverseRetract (m: Manifold) (x: Matrix<float>) (y: Matrix<float>) =
        checkArgs m [ "x", x; "y", y ] []
        m.InverseRetract x y

    /// The exponential map; raises `InvalidArgumentException` if `m` has no closed-form exp.
    let exp (m: Manifold) (x: Matrix<float>) (v: Matrix<float>) =
        match m.Exp with
        | None -> raise (InvalidArgumentException("manifold", sprintf "%s has no closed-form exponential map; use retract" m.Name))
        | Some e ->
            checkArgs m [ "x", x ] [ "v", v ]
            e x v

    /// The logarithm map; raises `InvalidArgumentException` if `m` has no closed-form log.
    let log (m: Manifold) (x: Matrix<float>) (y: Matrix<float>) =
        match m.Log with
        | None -> raise (InvalidArgumentException("manifold", sprintf "%s has no closed-form logarithm; use inverseRetract" m.Name))
        | Some l ->
            checkArgs m [ "x", x; "y", y ] []
            l x y

    /// Vector transport of `v in T_x M` to `T_y M`.
    let transport (m: Manifold) (x: Matrix<float>) (y: Matrix<float>) (v: Matrix<float>) =
        checkArgs m [ "x", x; "y", y ] [ "v", v ]
        m.Transport x y v

    /// Riemannian gradient `P_x(egrad)` (docs/theory.md section 3).
    let egradToRgrad (m: Manifold) (x: Matrix<float>) (egrad: Matrix<float>) =
        checkArgs m [ "x", x ] [ "egrad", egrad ]
        m.EgradToRgrad x egrad

    /// The Weingarten map `W_x(v, n)`.
    let weingarten (m: Manifold) (x: Matrix<float>) (v: Matrix<float>) (n: Matrix<float>) =
        checkArgs m [ "x", x ] [ "v", v; "n", n ]
        m.Weingarten x v n

    /// Riemannian Hessian-vector product `Hess f(x)[v] = P_x(ehess[v]) + W_x(v, egrad)`.
    let ehessToRhess (m: Manifold) (x: Matrix<float>) (egrad: Matrix<float>) (ehessV: Matrix<float>) (v: Matrix<float>) =
        checkArgs m [ "x", x ] [ "egrad", egrad; "ehessV", ehessV; "v", v ]
        m.EhessToRhess x egrad ehessV v

    /// An orthonormal basis of `T_x M`.
    let tangentBasis (m: Manifold) (x: Matrix<float>) =
        checkPoint m "x" x
        m.TangentBasis x

    /// Coordinates of a tangent vector in the orthonormal basis `basis`.
    let coordinates (m: Manifold) (x: Matrix<float>) (basis: Matrix<float>[]) (v: Matrix<float>) : float[] =
        basis |> Array.map (fun b -> m.Inner x b v)

    /// The Riemannian Hessian as a symmetric `Dimension x Dimension` matrix in the orthonormal basis
    /// `m.TangentBasis x`: `H_ij = <b_i, Hess f(x)[b_j]>` (Manopt's `hessianmatrix`), symmetrised.
    /// `egrad` is the Euclidean gradient at `x` and `ehess` maps a direction to the Euclidean
    /// Hessian-vector product at `x`.
    let hessianMatrix (m: Manifold) (x: Matrix<float>) (egrad: Matrix<float>) (ehess: Matrix<float> -> Matrix<float>) =
        checkPoint m "x" x
        checkShape m "egrad" egrad
        let basis = m.TangentBasis x
        let d = basis.Length
        let h = Linalg.zeros d d
        for j in 0 .. d - 1 do
            let hv = m.EhessToRhess x egrad (ehess basis.[j]) basis.[j]
            for i in 0 .. d - 1 do
                h.[i, j] <- m.Inner x basis.[i] hv
        Linalg.sym h

    /// A reproducible random point.
    let randomPoint (m: Manifold) (rng: Random) = m.RandomPoint rng

    /// A reproducible random unit tangent vector at `x`.
    let randomTangent (m: Manifold) (rng: Random) (x: Matrix<float>) =
        checkPoint m "x" x
        m.RandomTangent rng x
