namespace FunctionalAsymptotics.Estimation

open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics

/// One term `c * prod_i (xi^T Q_i xi)` of a polynomial in Gaussian quadratic forms, `xi ~ N(0, I_n)`,
/// each `Q_i` symmetric n x n. An empty `Forms` array is the constant `c`.
type QuadraticTerm =
    { /// The coefficient `c`.
      Coefficient: float
      /// The symmetric matrices `Q_i` of the factors `xi^T Q_i xi`.
      Forms: Matrix<float>[] }

/// A d x d matrix `diag(Diagonal) + Left Right^T` (`Left`, `Right` d x m), applied in `O(d m)` per column
/// instead of `O(d^2)`: the fixed matrices of the structured moment formulas (diagonal covariances and
/// products through a rank-k parameter).
type DiagonalPlusLowRank =
    { /// The diagonal part (length d).
      Diagonal: float[]
      /// `Left` (d x m).
      Left: Matrix<float>
      /// `Right` (d x m).
      Right: Matrix<float> }

/// Operations on `DiagonalPlusLowRank`.
[<RequireQualifiedAccess>]
module DiagonalPlusLowRank =

    /// `diag(a)`.
    let diagonal (a: float[]) : DiagonalPlusLowRank =
        { Diagonal = Array.copy a; Left = Linalg.zeros a.Length 0; Right = Linalg.zeros a.Length 0 }

    /// `L R^T` (no diagonal part).
    let lowRank (left: Matrix<float>) (right: Matrix<float>) : DiagonalPlusLowRank =
        Linalg.checkShape "right" left.RowCount left.ColumnCount right
        { Diagonal = Array.zeroCreate left.RowCount; Left = left; Right = right }

    /// A dense matrix `X` as `0 + X I` (no saving; for matrices without structure).
    let dense (x: Matrix<float>) : DiagonalPlusLowRank = lowRank x (Linalg.eye x.RowCount)

    /// `X^T`.
    let transpose (x: DiagonalPlusLowRank) = { x with Left = x.Right; Right = x.Left }

    /// `X U` for a d x n matrix `U`.
    let apply (x: DiagonalPlusLowRank) (u: Matrix<float>) : Matrix<float> =
        let d = x.Diagonal.Length
        Linalg.checkShape "u" d u.ColumnCount u
        let src = Linalg.values u
        let out = DenseMatrix.Create(d, u.ColumnCount, 0.0)
        let dst = out.Values
        for j in 0 .. u.ColumnCount - 1 do
            let o = j * d
            for i in 0 .. d - 1 do
                dst.[o + i] <- x.Diagonal.[i] * src.[o + i]
        if x.Left.ColumnCount > 0 then out.Add(x.Left * x.Right.TransposeThisAndMultiply u, out)
        out :> Matrix<float>

/// Exact moments of polynomials in quadratic forms of a standard Gaussian vector (Isserlis' theorem in
/// cumulant form). Used for exact population score covariances (docs/theory.md section 3, step 4): the
/// per-sample gradients of the spectral and factor models are such polynomials (docs/case-studies.md §1–2).
[<RequireQualifiedAccess>]
module GaussianMoments =

    /// The joint cumulant of `q_i = xi^T Q_i xi`, `xi ~ N(0, I)`, `Q_i` symmetric:
    /// `kappa(q_1, ..., q_r) = 2^(r-1) sum_sigma tr(Q_1 Q_sigma(2) ... Q_sigma(r))`, the sum over the
    /// `(r-1)!` orderings of `2..r` (r = 1: `tr Q_1`; r = 2: `2 tr(Q_1 Q_2)`; r = 3: `8 tr(Q_1 Q_2 Q_3)`).
    let cumulant (forms: Matrix<float>[]) : float =
        let r = forms.Length
        if r = 0 then 0.0
        elif r = 1 then forms.[0].Trace()
        else
            let rec perms (xs: int list) : int list list =
                match xs with
                | [] -> [ [] ]
                | _ -> xs |> List.collect (fun x -> perms (List.filter ((<>) x) xs) |> List.map (fun p -> x :: p))
            let total =
                perms [ 1 .. r - 1 ]
                |> List.sumBy (fun p -> (p |> List.fold (fun (acc: Matrix<float>) i -> acc * forms.[i]) forms.[0]).Trace())
            2.0 ** float (r - 1) * total

    /// All set partitions of `0 .. r-1` (Bell(r) of them).
    let rec private partitions (xs: int list) : int list list list =
        match xs with
        | [] -> [ [] ]
        | x :: rest ->
            partitions rest
            |> List.collect (fun p ->
                let asNew = [ x ] :: p
                let inserted = p |> List.mapi (fun i block -> p |> List.mapi (fun j b -> if i = j then x :: b else b))
                asNew :: inserted)

    /// `E[prod_i xi^T Q_i xi]` exactly, as the sum over set partitions of products of joint cumulants
    /// (moment–cumulant formula). Exact up to rounding; cost grows like Bell(r), fine for r <= 6.
    let momentOfProduct (forms: Matrix<float>[]) : float =
        if forms.Length = 0 then 1.0
        else
            partitions [ 0 .. forms.Length - 1 ]
            |> List.sumBy (fun p -> p |> List.fold (fun acc block -> acc * cumulant (block |> List.map (fun i -> forms.[i]) |> Array.ofList)) 1.0)

    /// `E[p]` for a polynomial `p = sum_t c_t prod_i q_{t,i}`.
    let expectation (p: QuadraticTerm list) : float =
        p |> List.sumBy (fun t -> t.Coefficient * momentOfProduct t.Forms)

    /// `E[p1 p2]` for two polynomials in quadratic forms (exact).
    let expectationOfProduct (p1: QuadraticTerm list) (p2: QuadraticTerm list) : float =
        p1 |> List.sumBy (fun t1 ->
            p2 |> List.sumBy (fun t2 -> t1.Coefficient * t2.Coefficient * momentOfProduct (Array.append t1.Forms t2.Forms)))

    /// The uncentred second-moment matrix `E[p_i p_j]` of a family of polynomials (exact, symmetric).
    let secondMoments (ps: QuadraticTerm list[]) : Matrix<float> =
        let n = ps.Length
        let m = Linalg.zeros n n
        for i in 0 .. n - 1 do
            for j in i .. n - 1 do
                let v = expectationOfProduct ps.[i] ps.[j]
                m.[i, j] <- v
                m.[j, i] <- v
        m

    /// The symmetric matrix of the bilinear form `u^T N v` written in `xi` with `u = P_u xi`, `v = P_v xi`:
    /// `sym(P_u^T N P_v)`, so that `u^T N v = xi^T (that matrix) xi`.
    let bilinear (pu: Matrix<float>) (n: Matrix<float>) (pv: Matrix<float>) : Matrix<float> =
        Linalg.sym (pu.Transpose() * n * pv)

    /// The Gram-type matrix `T[e, f] = sum_t c_t tr(N_e X_t N_f Y_t)` over a family of symmetric matrices
    /// of rank `<= 2k`, `N_e = U_e V^T + V U_e^T` (`U_e`, `V` d x k), without forming any d x d product.
    /// Expanding the four products, with `P_t = V^T X_t V`, `P'_t = V^T Y_t V`:
    /// `tr(N_e X N_f Y) = tr((V^T X U_f)(V^T Y U_e)) + <U_e, Y^T U_f P^T + X U_f P'> + tr((U_e^T X V)(U_f^T Y V))`,
    /// so the whole matrix is two pairings of k x k blocks and one pairing of d x k blocks (all terms
    /// merged): `O(n k (d k + terms * (d + k^2)) + n^2 d k)` time and `O(n d k)` memory for `n` matrices,
    /// instead of `O(n^2 d^3)` for dense products. The Isserlis second moments of quadratic forms reduce to
    /// such traces: `Cov(x^T N_e x, x^T N_f x) = 2 tr(N_e S N_f S)` for `x ~ N(0, S)`.
    let symmetricLowRankTraces (v: Matrix<float>) (us: Matrix<float>[]) (terms: (float * DiagonalPlusLowRank * DiagonalPlusLowRank)[]) : Matrix<float> =
        let n = us.Length
        let d, k = v.RowCount, v.ColumnCount
        us |> Array.iteri (fun i u -> Linalg.checkShape (sprintf "us[%d]" i) d k u)
        // Column-major storage: block e (U_e, d x k) is the contiguous slice [e d k, (e + 1) d k), so the
        // same array is the d x nk matrix [U_1 ... U_n] and the dk x n matrix of the vec(U_e).
        let stacked = DenseMatrix.Create(d, n * k, 0.0)
        us |> Array.iteri (fun e u -> Array.blit (Linalg.values (u.Clone())) 0 stacked.Values (e * d * k) (d * k))
        // The d n x k matrix with rows (i, e) (blocks stacked vertically), and back.
        let toVertical (m: Matrix<float>) =
            let src = Linalg.values m
            let out = DenseMatrix.Create(d * n, k, 0.0)
            let dst = out.Values
            for e in 0 .. n - 1 do
                for a in 0 .. k - 1 do
                    Array.blit src (e * d * k + a * d) dst (a * d * n + e * d) d
            out
        let addFromVertical (scale: float) (m: Matrix<float>) (target: float[]) =
            let src = Linalg.values m
            for e in 0 .. n - 1 do
                for a in 0 .. k - 1 do
                    let so = a * d * n + e * d
                    let to' = e * d * k + a * d
                    for i in 0 .. d - 1 do
                        target.[to' + i] <- target.[to' + i] + scale * src.[so + i]
        // n x k^2 matrices of the blocks of a k x nk matrix: rows vec(B_e) or vec(B_e^T).
        let blocks (transposeBlocks: bool) (m: Matrix<float>) =
            let src = Linalg.values m
            DenseMatrix.Create(n, k * k, fun e j ->
                let a, b = j % k, j / k
                if transposeBlocks then src.[b + k * a + k * k * e] else src.[a + k * b + k * k * e])
        let vt = v.Transpose()
        let z = Array.zeroCreate (d * n * k)
        let mutable small = DenseMatrix.Create(n, n, 0.0) :> Matrix<float>
        for c, x, y in terms do
            let xu = DiagonalPlusLowRank.apply x stacked
            let ytu = DiagonalPlusLowRank.apply (DiagonalPlusLowRank.transpose y) stacked
            let p = vt * DiagonalPlusLowRank.apply x v
            let p2 = vt * DiagonalPlusLowRank.apply y v
            // <U_e, c (X U_f P' + Y^T U_f P^T)>
            addFromVertical c (toVertical xu * p2) z
            addFromVertical c (toVertical ytu * p.Transpose()) z
            // tr(alpha_f beta_e), alpha_f = V^T X U_f, beta_e = V^T Y U_e
            let alpha = vt * xu
            let beta = vt * DiagonalPlusLowRank.apply y stacked
            small <- small + (blocks true beta).TransposeAndMultiply(blocks false alpha) * c
            // tr(gamma_e delta_f), gamma_e = (V^T X^T U_e)^T, delta_f = (V^T Y^T U_f)^T
            let gamma = vt * DiagonalPlusLowRank.apply (DiagonalPlusLowRank.transpose x) stacked
            let delta = vt * ytu
            small <- small + (blocks false gamma).TransposeAndMultiply(blocks true delta) * c
        let left = DenseMatrix(d * k, n, stacked.Values)
        let right = DenseMatrix(d * k, n, z)
        left.TransposeThisAndMultiply(right) + small
