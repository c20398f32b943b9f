namespace FunctionalAsymptotics.Groups

open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry

/// A descriptor `D: R^{q0} -> R^q`, constant on orbits and locally separating them, with its differential
/// and a local section (paper Appendix E.1–E.2; docs/theory.md section 2). The section `s` satisfies
/// `D(s(Omega)) = Omega` and is smooth near `D(Reference)`; intrinsic features are
/// `phi(x, Omega) = psi(x, s(Omega))`.
type Descriptor =
    { /// A readable name.
      Name: string
      /// Shape of a parameter point (rows).
      PointRows: int
      /// Shape of a parameter point (columns).
      PointCols: int
      /// Shape of a descriptor value (rows).
      ValueRows: int
      /// Shape of a descriptor value (columns).
      ValueCols: int
      /// `D(w)`.
      Map: Matrix<float> -> Matrix<float>
      /// `dD(w)[dw]`: arguments `w dw`.
      Differential: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// The local section `s(Omega)`, smooth near `D(Reference)`.
      Section: Matrix<float> -> Matrix<float>
      /// The representative the section is anchored at.
      Reference: Matrix<float> }

/// Descriptor constructors (Gram descriptors for `O(k)`, canonical ordering for `S_K`).
[<RequireQualifiedAccess>]
module Descriptor =

    let private requireFullRank (argument: string) (k: int) (a: Matrix<float>) =
        let r = Linalg.numericalRank 1e-10 a
        if r < k then raise (RankDeficientException(argument, k, r))

    /// Top-k eigen-factor `(V_k, sqrt Lambda_k)` of a rank-k PSD matrix, checked on `FixedRankPsd(d,k)`.
    let private psdFactor (manifold: Manifold) (k: int) (omega: Matrix<float>) =
        Manifold.checkPoint manifold "omega" omega
        let lam, v = Linalg.eigSymDesc omega
        v.SubMatrix(0, omega.RowCount, 0, k), (Linalg.diag (Array.sub lam 0 k |> Array.map sqrt))

    /// The Gram descriptor of `O(k)` acting from the left on `A in R^{k x d}` (spectral model):
    /// `D(A) = A^T A` on `FixedRankPsd(d,k)`, `dD(A)[dA] = dA^T A + A^T dA`. Section: with
    /// `Omega = V Lambda V^T` (top k), `F = Lambda^{1/2} V^T`, and `s(Omega) = Q F` where `Q` is the
    /// Procrustes alignment of `F` to the reference; `s` is smooth wherever `reference F^T` is invertible
    /// (the polar factor is smooth there, and the eigenvector sign/rotation ambiguity of `F` cancels).
    /// The reference must have full row rank k (`RankDeficientException` otherwise).
    let gramLeft (reference: Matrix<float>) : Descriptor =
        let k, d = reference.RowCount, reference.ColumnCount
        if k > d then raise (InvalidArgumentException("reference", sprintf "k = %d must be <= d = %d" k d))
        Linalg.checkFinite "reference" reference
        requireFullRank "reference" k reference
        let manifold = FixedRankPsd.create d k
        let reference = reference.Clone()
        { Name = sprintf "Gram A -> A^T A on R^{%dx%d}" k d
          PointRows = k
          PointCols = d
          ValueRows = d
          ValueCols = d
          Map = fun a -> Linalg.sym (a.TransposeThisAndMultiply a)
          Differential = fun a da -> let t = da.TransposeThisAndMultiply a in t + t.Transpose()
          Section =
            fun omega ->
                let v, sl = psdFactor manifold k omega
                let f = sl * v.Transpose()
                GroupAction.procrustes (reference * f.Transpose()) * f
          Reference = reference }

    /// The descriptor on transposed points, `D'(A) = D(A^T)`, `dD'(A)[dA] = dD(A^T)[dA^T]`,
    /// `s'(Omega) = s(Omega)^T`: a right action written through the left one.
    let private onTransposed (name: string) (inner: Descriptor) : Descriptor =
        { inner with
            Name = name
            PointRows = inner.PointCols
            PointCols = inner.PointRows
            Map = fun a -> inner.Map(a.Transpose())
            Differential = fun a da -> inner.Differential (a.Transpose()) (da.Transpose())
            Section = fun omega -> inner.Section(omega).Transpose()
            Reference = inner.Reference.Transpose() }

    /// The Gram descriptor of `O(k)` acting from the right on `A in R^{d x k}` (factor model):
    /// `D(A) = A A^T`, `dD(A)[dA] = dA A^T + A dA^T`; section `s(Omega) = V Lambda^{1/2} R` with `R` the
    /// Procrustes alignment to the reference (smooth where `(V Lambda^{1/2})^T reference` is invertible).
    /// It is `gramLeft` on `A^T`: `(A^T)^T A^T = A A^T`, and the transposed section aligns
    /// `(Lambda^{1/2} V^T)^T = V Lambda^{1/2}` by the transposed polar factor.
    let gramRight (reference: Matrix<float>) : Descriptor =
        let d, k = reference.RowCount, reference.ColumnCount
        onTransposed (sprintf "Gram A -> A A^T on R^{%dx%d}" d k) (gramLeft (reference.Transpose()))

    /// The lexicographic order of the columns of `u` (ties broken by later rows).
    let columnOrder (u: Matrix<float>) : int[] =
        let cols = Array.init u.ColumnCount (fun j -> u.Column(j).ToArray())
        Array.init u.ColumnCount id
        |> Array.sortWith (fun a b ->
            let ca = cols.[a]
            let cb = cols.[b]
            let mutable r = 0
            let mutable i = 0
            while r = 0 && i < ca.Length do
                r <- compare ca.[i] cb.[i]
                i <- i + 1
            if r = 0 then compare a b else r)

    let private permuteColumns (order: int[]) (u: Matrix<float>) =
        let m = Linalg.zeros u.RowCount u.ColumnCount
        order |> Array.iteri (fun j i -> m.SetColumn(j, u.Column(i)))
        m

    /// The canonical-ordering descriptor for `S_K` permuting the columns of `U in R^{d x K}`:
    /// `D(U)` = the columns sorted lexicographically. It is orbit-constant, and locally separating (and
    /// locally linear, `dD(U)[dU]` = `dU` with the same column order) at points with distinct columns
    /// (Assumption 6.5). Section: `s(Omega)` = `Omega` with its columns optimally assigned to the
    /// reference's (Hungarian); locally constant permutation, hence smooth, and `D(s(Omega)) = Omega` for
    /// every sorted `Omega`.
    let canonicalOrdering (reference: Matrix<float>) : Descriptor =
        Linalg.checkFinite "reference" reference
        let d, kBlocks = reference.RowCount, reference.ColumnCount
        let action = GroupAction.permutationBlocks d kBlocks 1
        let reference = reference.Clone()
        { Name = sprintf "canonical column ordering on R^{%dx%d}" d kBlocks
          PointRows = d
          PointCols = kBlocks
          ValueRows = d
          ValueCols = kBlocks
          Map = fun u -> permuteColumns (columnOrder u) u
          Differential = fun u du -> permuteColumns (columnOrder u) du
          Section = fun omega -> (GroupAction.align action omega reference).Aligned
          Reference = reference }

    /// `D(w)` with shape checks.
    let map (descriptor: Descriptor) (w: Matrix<float>) =
        Linalg.checkShape "w" descriptor.PointRows descriptor.PointCols w
        Linalg.checkFinite "w" w
        descriptor.Map w

    /// `s(Omega)` with shape checks.
    let section (descriptor: Descriptor) (omega: Matrix<float>) =
        Linalg.checkShape "omega" descriptor.ValueRows descriptor.ValueCols omega
        Linalg.checkFinite "omega" omega
        descriptor.Section omega
