namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// One term `c * prod_i (xi^T Q_i xi)` of a polynomial in Gaussian quadratic forms, `xi ~ N(0, I_n)`,
/// each `Q_i` symmetric n x n. An empty `Forms` array is the constant `c`.
type QuadraticTerm =
    { /// The coefficient `c`.
      Coefficient: float
      /// The symmetric matrices `Q_i` of the factors `xi^T Q_i xi`.
      Forms: Matrix<float>[] }

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
