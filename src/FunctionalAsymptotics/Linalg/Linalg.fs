namespace FunctionalAsymptotics

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double

/// Dense linear-algebra helpers used by the geometric layer. Every point and tangent vector in the
/// library is a MathNet `Matrix<float>` (dense, column-major); a vector of R^n is an n x 1 matrix.
/// Inner products are Frobenius: `<A, B> = tr(A^T B) = sum_ij A_ij B_ij`.
[<RequireQualifiedAccess>]
module Linalg =

    /// Column-major storage of a matrix (no copy for dense matrices).
    let values (a: Matrix<float>) : float[] =
        match a with
        | :? DenseMatrix as d -> d.Values
        | _ -> a.ToColumnMajorArray()

    /// A zero matrix of the given shape.
    let zeros (rows: int) (cols: int) : Matrix<float> = DenseMatrix.Create(rows, cols, 0.0) :> Matrix<float>

    /// The n x n identity.
    let eye (n: int) : Matrix<float> = DenseMatrix.CreateIdentity n :> Matrix<float>

    /// The dense rows x cols matrix with entries `f i j`.
    let init (rows: int) (cols: int) (f: int -> int -> float) : Matrix<float> = DenseMatrix.Create(rows, cols, fun i j -> f i j) :> Matrix<float>

    /// The diagonal matrix `diag(xs)`, dense.
    let diag (xs: float[]) : Matrix<float> = DenseMatrix.OfDiagonalArray xs :> Matrix<float>

    /// A dense vector over `xs` (it shares the array: no copy).
    let vector (xs: float[]) : Vector<float> = DenseVector(xs) :> Vector<float>

    /// A dense copy of a 2-D array.
    let ofArray2 (a: float[,]) : Matrix<float> = DenseMatrix.OfArray a :> Matrix<float>

    /// A dense rows x cols matrix from column-major values (copied).
    let ofColumnMajor (rows: int) (cols: int) (xs: float[]) : Matrix<float> =
        DenseMatrix(rows, cols, Array.copy xs) :> Matrix<float>

    /// An n x 1 column matrix from a vector.
    let column (xs: float[]) : Matrix<float> = ofColumnMajor xs.Length 1 xs

    /// Frobenius inner product `<A, B> = sum_ij A_ij B_ij`.
    let inner (a: Matrix<float>) (b: Matrix<float>) : float =
        let x = values a
        let y = values b
        let mutable s = 0.0
        for i in 0 .. x.Length - 1 do
            s <- s + x.[i] * y.[i]
        s

    /// Frobenius norm.
    let norm (a: Matrix<float>) : float = sqrt (inner a a)

    /// Symmetric part `(A + A^T) / 2`.
    let sym (a: Matrix<float>) : Matrix<float> = (a + a.Transpose()) * 0.5

    /// Skew-symmetric part `(A - A^T) / 2`.
    let skew (a: Matrix<float>) : Matrix<float> = (a - a.Transpose()) * 0.5

    /// Raises `NonFiniteException` ("matrix") when `a` has a NaN or infinite entry. The iterative
    /// decompositions below (MathNet's QL eigensolver and SVD) never converge on such input: they loop
    /// without end on NaN or index out of range on infinities, so every one of them checks first.
    let private requireFinite (a: Matrix<float>) =
        a.Enumerate() |> Seq.iteri (fun i x -> if not (Double.IsFinite x) then raise (NonFiniteException("matrix", i)))

    /// The power of two `c` by which the decompositions divide `a` before they run, and multiply the
    /// eigen- or singular values after: 1 when the largest entry lies within `2^-400 .. 2^400` (results stay
    /// bit-identical), else the power of two nearest the largest entry. MathNet's QL iteration and SVD
    /// square entries internally, so entries beyond about 1e154 overflow there (an IndexOutOfRangeException
    /// or an endless loop); division by a power of two is exact and the vectors do not change.
    let private decompositionScale (a: Matrix<float>) : float =
        let largest = a.Enumerate() |> Seq.fold (fun m x -> max m (abs x)) 0.0
        if largest = 0.0 || (largest < Math.ScaleB(1.0, 400) && largest > Math.ScaleB(1.0, -400)) then 1.0
        else Math.ScaleB(1.0, Math.ILogB largest)

    /// Symmetric eigendecomposition of `sym(A)`: eigenvalues in **descending** order and the matching
    /// orthonormal eigenvectors as columns. Raises `NonFiniteException` ("matrix") when `A` has a NaN or
    /// infinite entry (`requireFinite`); entries of any finite magnitude are fine (`decompositionScale`).
    let eigSymDesc (a: Matrix<float>) : float[] * Matrix<float> =
        let s = sym a
        requireFinite s
        let c = decompositionScale s
        let evd = (if c = 1.0 then s else s / c).Evd(Symmetricity.Symmetric)
        let n = s.RowCount
        let lam = Array.init n (fun i -> evd.EigenValues.[i].Real * c)
        let order = Array.init n id |> Array.sortBy (fun i -> -lam.[i])
        let vecs = evd.EigenVectors
        let v = DenseMatrix.Create(n, n, 0.0)
        order |> Array.iteri (fun j i -> v.SetColumn(j, vecs.Column i))
        order |> Array.map (fun i -> lam.[i]), (v :> Matrix<float>)

    /// Square root of a symmetric positive semi-definite matrix (negative eigenvalues clipped to 0).
    let sqrtPsd (a: Matrix<float>) : Matrix<float> =
        let lam, v = eigSymDesc a
        let d = DenseMatrix.OfDiagonalArray(lam |> Array.map (fun l -> sqrt (max l 0.0)))
        v * d * v.Transpose()

    /// Inverse square root of a symmetric positive definite matrix.
    let invSqrtPd (a: Matrix<float>) : Matrix<float> =
        let lam, v = eigSymDesc a
        let d = DenseMatrix.OfDiagonalArray(lam |> Array.map (fun l -> 1.0 / sqrt l))
        v * d * v.Transpose()

    /// The inverse of a symmetric positive definite matrix by its eigendecomposition, for quantities the theory
    /// needs inverted (never a pseudo-inverse): `RankDeficientException` naming `argument` when the smallest
    /// eigenvalue is `<= relTol * largest` (or the largest is not positive), with the numerical rank.
    let inversePd (argument: string) (relTol: float) (a: Matrix<float>) : Matrix<float> =
        let lam, v = eigSymDesc a
        let n = lam.Length
        if n > 0 && (lam.[0] <= 0.0 || lam.[n - 1] <= relTol * lam.[0]) then
            raise (RankDeficientException(argument, n, lam |> Array.filter (fun l -> l > relTol * lam.[0]) |> Array.length))
        v * DenseMatrix.OfDiagonalArray(lam |> Array.map (fun l -> 1.0 / l)) * v.Transpose()

    /// Matrix exponential by scaling and squaring with a degree-18 Taylor polynomial (the scaled matrix
    /// has norm <= 1/2, so the truncation error is below 1e-20 relative).
    let expm (a: Matrix<float>) : Matrix<float> =
        let n = a.RowCount
        let nrm = a.L1Norm()
        let s = if nrm <= 0.5 then 0 else int (ceil (Math.Log2(nrm / 0.5)))
        let b = a / (2.0 ** float s)
        let mutable term = eye n
        let mutable acc = eye n
        for j in 1 .. 18 do
            term <- term * b / float j
            acc <- acc + term
        for _ in 1 .. s do
            acc <- acc * acc
        acc

    /// Singular values (descending) of a matrix (finite entries required, `requireFinite`).
    let singularValues (a: Matrix<float>) : float[] =
        requireFinite a
        let c = decompositionScale a
        (if c = 1.0 then a else a / c).Svd(false).S.ToArray() |> Array.map (fun x -> x * c)

    /// Numerical rank: the number of singular values above `relTol * s_max` (and above 1e-300).
    let numericalRank (relTol: float) (a: Matrix<float>) : int =
        let s = singularValues a
        if s.Length = 0 then 0
        else
            let cut = max (relTol * s.[0]) 1e-300
            s |> Array.filter (fun x -> x > cut) |> Array.length

    /// The number of singular values above `relTol` times the largest (0 when the largest is negligible).
    let private rankOfSingularValues (relTol: float) (s: float[]) : int =
        if s.Length = 0 || s.[0] <= 1e-300 then 0
        else s |> Array.filter (fun x -> x > relTol * s.[0]) |> Array.length

    /// Orthonormal basis (columns) of the column space of `a`, keeping singular directions above
    /// `relTol * s_max`.
    /// A tall matrix (more than twice as many rows as columns) goes through a thin QR first, `a = Q R`,
    /// `R = U S V^T`, basis `Q U` (the same singular values; memory `O(rows cols)`, no `rows x rows` `U`).
    let rangeBasis (relTol: float) (a: Matrix<float>) : Matrix<float> =
        if a.ColumnCount = 0 then zeros a.RowCount 0
        elif a.RowCount > 2 * a.ColumnCount then
            let qr = a.QR(Factorization.QRMethod.Thin)
            let svd = qr.R.Svd(true)
            let r = rankOfSingularValues relTol (svd.S.ToArray())
            if r = 0 then zeros a.RowCount 0 else qr.Q * svd.U.SubMatrix(0, a.ColumnCount, 0, r)
        else
            requireFinite a
            let svd = (let c = decompositionScale a in if c = 1.0 then a else a / c).Svd(true)
            let r = rankOfSingularValues relTol (svd.S.ToArray())
            if r = 0 then zeros a.RowCount 0 else svd.U.SubMatrix(0, a.RowCount, 0, r)

    /// Orthonormal basis (columns) of the orthogonal complement of the column space of `a`
    /// (singular directions at or below `relTol * s_max` count as complement).
    let complementBasis (relTol: float) (a: Matrix<float>) : Matrix<float> =
        let n = a.RowCount
        if a.ColumnCount = 0 then eye n
        else
            requireFinite a
            let svd = (let c = decompositionScale a in if c = 1.0 then a else a / c).Svd(true)
            let r = rankOfSingularValues relTol (svd.S.ToArray())
            if r = n then zeros n 0 else svd.U.SubMatrix(0, n, r, n - r)

    /// Standard normal draws by Box–Muller from a seeded `System.Random` (reproducible).
    let gaussian (rng: Random) : float =
        let u1 = 1.0 - rng.NextDouble()
        let u2 = rng.NextDouble()
        sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)

    /// A rows x cols matrix of i.i.d. standard normal entries.
    let randn (rng: Random) (rows: int) (cols: int) : Matrix<float> =
        let xs = Array.init (rows * cols) (fun _ -> gaussian rng)
        DenseMatrix(rows, cols, xs) :> Matrix<float>

    /// A vector of i.i.d. standard normal entries.
    let randnVector (rng: Random) (n: int) : float[] = Array.init n (fun _ -> gaussian rng)

    /// A Haar-distributed orthogonal n x n matrix (QR of a Gaussian matrix with the sign fix).
    let randomOrthogonal (rng: Random) (n: int) : Matrix<float> =
        let qr = (randn rng n n).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Full)
        let q = qr.Q.Clone()
        let r = qr.R
        for j in 0 .. n - 1 do
            if r.[j, j] < 0.0 then q.SetColumn(j, q.Column(j).Negate())
        q

    /// An n x k matrix with orthonormal columns, uniformly distributed (first k columns of a Haar matrix).
    let randomStiefel (rng: Random) (n: int) (k: int) : Matrix<float> =
        (randomOrthogonal rng n).SubMatrix(0, n, 0, k)

    /// Solves the symmetric Sylvester (Lyapunov-type) equation `A S + S A^T = C` for `S` (k x k) by
    /// vectorisation: `(I (x) A + A (x) I) vec S = vec C`. Intended for small k.
    let solveSylvester (a: Matrix<float>) (c: Matrix<float>) : Matrix<float> =
        let k = a.RowCount
        let i = eye k
        let big = i.KroneckerProduct(a) + a.KroneckerProduct(i)
        let rhs = DenseVector(Array.copy (values c))
        let sol = big.Solve(rhs)
        DenseMatrix(k, k, sol.ToArray()) :> Matrix<float>

    /// The largest absolute entry (max norm); 0 for an empty matrix.
    let maxAbs (a: Matrix<float>) : float =
        let xs = values a
        if xs.Length = 0 then 0.0 else xs |> Array.map abs |> Array.max

    /// Raises `DimensionMismatchException` unless `a` is rows x cols.
    let checkShape (argument: string) (rows: int) (cols: int) (a: Matrix<float>) =
        if isNull (box a) then raise (InvalidArgumentException(argument, "must not be null"))
        if a.RowCount <> rows || a.ColumnCount <> cols then
            raise (DimensionMismatchException(argument, sprintf "%d x %d" rows cols, sprintf "%d x %d" a.RowCount a.ColumnCount))

    /// Raises `NonFiniteException` if `a` has a NaN or infinite entry.
    let checkFinite (argument: string) (a: Matrix<float>) =
        let xs = values a
        for i in 0 .. xs.Length - 1 do
            if not (Double.IsFinite xs.[i]) then raise (NonFiniteException(argument, i))

    /// Concurrent users of `withSingleThreadedMathNet` share one reference count: the first saves the setting,
    /// the last restores it.
    let private singleThreadGate = obj ()
    let mutable private singleThreadUsers = 0
    let mutable private savedParallelism = 1

    /// Runs `f` with MathNet's own parallelism off (restored afterwards), for callers that are parallel
    /// themselves or do many small products, for which MathNet's per-product `Parallel.For` costs more than the
    /// product. Only the scheduling changes: each product is computed the same way.
    let withSingleThreadedMathNet (f: unit -> 'T) : 'T =
        lock singleThreadGate (fun () ->
            if singleThreadUsers = 0 then
                savedParallelism <- MathNet.Numerics.Control.MaxDegreeOfParallelism
                MathNet.Numerics.Control.MaxDegreeOfParallelism <- 1
            singleThreadUsers <- singleThreadUsers + 1)
        try f ()
        finally
            lock singleThreadGate (fun () ->
                singleThreadUsers <- singleThreadUsers - 1
                if singleThreadUsers = 0 then MathNet.Numerics.Control.MaxDegreeOfParallelism <- savedParallelism)
