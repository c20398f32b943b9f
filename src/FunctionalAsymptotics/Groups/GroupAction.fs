namespace FunctionalAsymptotics.Groups

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// A compact matrix group `G` acting on a parameter space `R^{PointRows x PointCols}` (paper Section 4,
/// Appendix E.1; docs/theory.md section 2). Group elements are `ElementSize x ElementSize` orthogonal matrices
/// (orthogonal matrices for `O(k)`, permutation matrices for `S_K`): composition is the matrix product,
/// the identity is `I`, the inverse is the transpose. `Act` is a **left** action,
/// `Act (g h) w = Act g (Act h w)`; right multiplication is written as the left action `g . A = A g^T`.
///
/// The action is a value (geomstats' habit): it carries its Lie-algebra generators, its representation
/// `rho` on features, and its alignment, so quotient-aware code asks the action and never
/// special-cases a group.
type GroupAction =
    { /// A readable name, e.g. "O(2) on R^{2x5} from the left".
      Name: string
      /// Rows of a parameter point `w`.
      PointRows: int
      /// Columns of a parameter point `w`.
      PointCols: int
      /// Size of the group-element matrices.
      ElementSize: int
      /// Dimension `p` of the feature space on which `Rho` acts.
      FeatureDimension: int
      /// The action `g . w`.
      Act: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// The homomorphism `rho: G -> O(p)` with `psi(x, g.w) = rho(g) psi(x, w)`.
      Rho: Matrix<float> -> Matrix<float>
      /// An orthonormal (Frobenius) basis of the Lie algebra; empty for a finite group.
      Generators: Matrix<float>[]
      /// The infinitesimal action `xi . w = d/dt exp(t xi) . w` at `t = 0`: arguments `xi w`.
      Infinitesimal: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// Alignment within the orbit: arguments `w reference`, returns `g` minimising `||g.w - reference||_F`.
      Align: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// A random group element (Haar for `O(k)`, uniform for `S_K`).
      RandomElement: Random -> Matrix<float>
      /// How far a matrix is from being a group element (0 for members).
      ElementResidual: Matrix<float> -> float }

/// The result of aligning a point to a reference within its orbit.
type Alignment =
    { /// The optimal group element `g*`.
      Element: Matrix<float>
      /// The aligned representative `g* . w`.
      Aligned: Matrix<float>
      /// `||g* . w - reference||_F`.
      Distance: float }

/// Constructors and fibre-bundle operations for `GroupAction` values.
[<RequireQualifiedAccess>]
module GroupAction =

    /// Relative tolerance used to decide the rank of the vertical space.
    let verticalRankTolerance = 1e-10

    /// Orthonormal basis `(E_ij - E_ji)/sqrt 2`, `i < j`, of the skew-symmetric k x k matrices `so(k)`.
    let skewBasis (k: int) : Matrix<float>[] =
        [| for i in 0 .. k - 1 do
               for j in i + 1 .. k - 1 do
                   let e = Linalg.zeros k k
                   e.[i, j] <- 1.0 / sqrt 2.0
                   e.[j, i] <- -1.0 / sqrt 2.0
                   yield e |]

    /// The orthogonal Procrustes solution: the orthogonal `Q` maximising `tr(Q^T M)`, i.e. `Q = U V^T`
    /// for the SVD `M = U Sigma V^T` (Schönemann 1966).
    let procrustes (m: Matrix<float>) : Matrix<float> =
        let svd = m.Svd(true)
        svd.U * svd.VT

    let private orthogonalResidual (k: int) (g: Matrix<float>) =
        if g.RowCount <> k || g.ColumnCount <> k then Double.PositiveInfinity
        else Linalg.norm (g.TransposeThisAndMultiply g - Linalg.eye k)

    let private positive name (x: int) =
        if x < 1 then raise (InvalidArgumentException(name, sprintf "must be >= 1, got %d" x))

    /// `O(k)` acting on `A in R^{k x d}` from the left, `g . A = g A` (the spectral model, paper
    /// Section 6.1): `rho(g) = g` on features `psi = A x in R^k`; infinitesimal action `xi A`; alignment by
    /// orthogonal Procrustes, `g* = U V^T` for `reference A^T = U Sigma V^T`.
    let orthogonalLeft (k: int) (d: int) : GroupAction =
        positive "k" k
        positive "d" d
        { Name = sprintf "O(%d) on R^{%dx%d} from the left" k k d
          PointRows = k
          PointCols = d
          ElementSize = k
          FeatureDimension = k
          Act = fun g a -> g * a
          Rho = fun g -> g.Clone()
          Generators = skewBasis k
          Infinitesimal = fun xi a -> xi * a
          Align = fun a reference -> procrustes (reference * a.Transpose())
          RandomElement = fun rng -> Linalg.randomOrthogonal rng k
          ElementResidual = orthogonalResidual k }

    /// The action on transposed points, `g . A = (g . A^T)^T`, with the infinitesimal action and the
    /// alignment transposed likewise (same group, elements and `rho`).
    let private onTransposed (name: string) (inner: GroupAction) : GroupAction =
        { inner with
            Name = name
            PointRows = inner.PointCols
            PointCols = inner.PointRows
            Act = fun g a -> (inner.Act g (a.Transpose())).Transpose()
            Infinitesimal = fun xi a -> (inner.Infinitesimal xi (a.Transpose())).Transpose()
            Align = fun a reference -> inner.Align (a.Transpose()) (reference.Transpose()) }

    /// `O(k)` acting on `A in R^{d x k}` from the right (the factor model, paper Section 6.2), written as
    /// the left action `g . A = A g^T`. Features with `psi(x, A Q) = Q^T psi(x, A)` (e.g.
    /// `A^T (I + A A^T)^-1 x`) satisfy `psi(x, g.A) = g psi(x, A)`, so `rho(g) = g`. Infinitesimal action
    /// `A xi^T = -A xi`; alignment `g* = (U V^T)^T` for `A^T reference = U Sigma V^T`. It is
    /// `orthogonalLeft` on `A^T`: `(g A^T)^T = A g^T`, and the alignment of `A^T` to `reference^T` is the
    /// polar factor of `reference^T A = (A^T reference)^T`.
    let orthogonalRight (d: int) (k: int) : GroupAction =
        positive "d" d
        positive "k" k
        onTransposed (sprintf "O(%d) on R^{%dx%d} from the right" k d k) (orthogonalLeft k d)

    /// A uniformly random permutation matrix (Fisher–Yates).
    let randomPermutation (rng: Random) (k: int) : Matrix<float> =
        let perm = Array.init k id
        for i in k - 1 .. -1 .. 1 do
            let j = rng.Next(i + 1)
            let t = perm.[i]
            perm.[i] <- perm.[j]
            perm.[j] <- t
        let g = Linalg.zeros k k
        perm |> Array.iteri (fun i j -> g.[i, j] <- 1.0)
        g

    /// The permutation matrix `g` with `g.[j, sigma.[j]] = 1`.
    let permutationMatrix (sigma: int[]) : Matrix<float> =
        let k = sigma.Length
        let g = Linalg.zeros k k
        sigma |> Array.iteri (fun j s -> g.[j, s] <- 1.0)
        g

    /// `S_K` permuting the K columns (blocks) of `U = (u_1, ..., u_K) in R^{d x K}` (the mixture model,
    /// paper Section 6.3): `g . U = U g^T`, so column `j` of `g . U` is `u_{sigma(j)}` when
    /// `g.[j, sigma(j)] = 1`. Features made of K blocks of length `featureBlock`, one per column, move the
    /// same way: `rho(g) = g (x) I_featureBlock`. No Lie algebra (vertical space `{0}`). Alignment is an
    /// exact optimal assignment (Hungarian algorithm) of the columns to the reference's columns with cost
    /// `||reference_j - u_i||^2`: polynomial, never a search over the K! permutations.
    let permutationBlocks (d: int) (kBlocks: int) (featureBlock: int) : GroupAction =
        positive "d" d
        positive "K" kBlocks
        positive "featureBlock" featureBlock
        { Name = sprintf "S_%d permuting the columns of R^{%dx%d}" kBlocks d kBlocks
          PointRows = d
          PointCols = kBlocks
          ElementSize = kBlocks
          FeatureDimension = kBlocks * featureBlock
          Act = fun g u -> u * g.Transpose()
          Rho = fun g -> g.KroneckerProduct(Linalg.eye featureBlock)
          Generators = [||]
          Infinitesimal = fun _ u -> Linalg.zeros u.RowCount u.ColumnCount
          Align =
            fun u reference ->
                let cost = Array2D.init kBlocks kBlocks (fun j i -> (reference.Column(j) - u.Column(i)).L2Norm() ** 2.0)
                permutationMatrix (Assignment.hungarian cost)
          RandomElement = fun rng -> randomPermutation rng kBlocks
          ElementResidual =
            fun g ->
                if g.RowCount <> kBlocks || g.ColumnCount <> kBlocks then Double.PositiveInfinity
                else
                    let binary = Linalg.values g |> Array.sumBy (fun x -> min (abs x) (abs (x - 1.0)))
                    binary + orthogonalResidual kBlocks g }

    /// The trivial group `{e}` on `R^{rows x cols}` with features of dimension `featureDimension`: for a
    /// model whose population minimiser is unique (identifiable without a quotient). The element is the
    /// 1 x 1 identity, `rho(e) = I`, the vertical space is `{0}` and alignment is the identity.
    let trivial (rows: int) (cols: int) (featureDimension: int) : GroupAction =
        positive "rows" rows
        positive "cols" cols
        positive "featureDimension" featureDimension
        { Name = sprintf "the trivial group on R^{%dx%d}" rows cols
          PointRows = rows
          PointCols = cols
          ElementSize = 1
          FeatureDimension = featureDimension
          Act = fun _ w -> w.Clone()
          Rho = fun _ -> Linalg.eye featureDimension
          Generators = [||]
          Infinitesimal = fun _ w -> Linalg.zeros w.RowCount w.ColumnCount
          Align = fun _ _ -> Linalg.eye 1
          RandomElement = fun _ -> Linalg.eye 1
          ElementResidual = fun g -> if g.RowCount <> 1 || g.ColumnCount <> 1 then Double.PositiveInfinity else abs (g.[0, 0] - 1.0) }

    let private checkPointShape (action: GroupAction) (argument: string) (w: Matrix<float>) =
        Linalg.checkShape argument action.PointRows action.PointCols w
        Linalg.checkFinite argument w

    /// Raises `InvalidArgumentException` unless `g` is a group element (residual <= `tolerance`).
    let checkElement (action: GroupAction) (tolerance: float) (g: Matrix<float>) =
        Linalg.checkShape "g" action.ElementSize action.ElementSize g
        let r = action.ElementResidual g
        if not (r <= tolerance) then raise (InvalidArgumentException("g", sprintf "must be an element of %s (residual %.3g)" action.Name r))

    /// The action `g . w`, with checks.
    let act (action: GroupAction) (g: Matrix<float>) (w: Matrix<float>) =
        checkElement action 1e-8 g
        checkPointShape action "w" w
        action.Act g w

    /// `rho(g)`, with checks.
    let rho (action: GroupAction) (g: Matrix<float>) =
        checkElement action 1e-8 g
        action.Rho g

    let private stackColumns (rows: int) (ms: Matrix<float>[]) =
        let m = Linalg.zeros rows ms.Length
        ms |> Array.iteri (fun j a -> m.SetColumn(j, Linalg.values a))
        m

    let private unstack (r: int) (c: int) (basis: Matrix<float>) =
        Array.init basis.ColumnCount (fun j -> Linalg.ofColumnMajor r c (basis.Column(j).ToArray()))

    /// An orthonormal (Frobenius) basis of the vertical space `Ver(w) = span { xi . w : xi in g }`, the
    /// tangent space of the orbit at `w` (docs/theory.md section 3, step 2). Empty for a finite group. Its
    /// dimension is `dim G` minus the dimension of the stabiliser (rank decided with
    /// `verticalRankTolerance`).
    let verticalBasis (action: GroupAction) (w: Matrix<float>) : Matrix<float>[] =
        checkPointShape action "w" w
        if action.Generators.Length = 0 then [||]
        else
            let vs = action.Generators |> Array.map (fun xi -> action.Infinitesimal xi w)
            Linalg.rangeBasis verticalRankTolerance (stackColumns (w.RowCount * w.ColumnCount) vs)
            |> unstack w.RowCount w.ColumnCount

    /// An orthonormal basis of the horizontal space `Hor(w) = Ver(w)^perp` in `R^{q0}` (docs/theory.md
    /// section 3, step 3).
    let horizontalBasis (action: GroupAction) (w: Matrix<float>) : Matrix<float>[] =
        let ver = verticalBasis action w
        let q0 = w.RowCount * w.ColumnCount
        if ver.Length = 0 then
            Array.init q0 (fun j ->
                let e = Linalg.zeros w.RowCount w.ColumnCount
                e.[j % w.RowCount, j / w.RowCount] <- 1.0
                e)
        else
            Linalg.complementBasis 1e-12 (stackColumns q0 ver) |> unstack w.RowCount w.ColumnCount

    /// The vertical space as one matrix: its orthonormal basis stacked as the columns of a `q0 x dim Ver`
    /// matrix (column-major vectorisation of each direction). Memory `O(q0 dim G)`.
    let verticalFrame (action: GroupAction) (w: Matrix<float>) : Matrix<float> =
        stackColumns (w.RowCount * w.ColumnCount) (verticalBasis action w)

    /// The horizontal projector `P_Hor = I - F F^T` (`F = verticalFrame`) applied to the columns of a
    /// `q0 x n` matrix of vectorised directions: the matrix-free alternative to `horizontalBasis` (no
    /// `q0 x q0` basis; `O(q0 dim G)` per column).
    let horizontalProjector (action: GroupAction) (w: Matrix<float>) : Matrix<float> -> Matrix<float> =
        let f = verticalFrame action w
        fun x -> if f.ColumnCount = 0 then x.Clone() else x - f * f.TransposeThisAndMultiply x

    /// Orthogonal projection of a direction `v` at `w` onto the vertical space.
    let verticalProject (action: GroupAction) (w: Matrix<float>) (v: Matrix<float>) =
        checkPointShape action "v" v
        verticalBasis action w |> Array.fold (fun (acc: Matrix<float>) b -> acc + b * Linalg.inner b v) (Linalg.zeros v.RowCount v.ColumnCount)

    /// Orthogonal projection of a direction `v` at `w` onto the horizontal space: `v - P_Ver v`.
    let horizontalProject (action: GroupAction) (w: Matrix<float>) (v: Matrix<float>) =
        v - verticalProject action w v

    /// Aligns `w` to `reference` within its orbit: `g* = argmin_g ||g.w - reference||_F` (orthogonal
    /// Procrustes for `O(k)`, optimal assignment for `S_K`).
    let align (action: GroupAction) (w: Matrix<float>) (reference: Matrix<float>) : Alignment =
        checkPointShape action "w" w
        checkPointShape action "reference" reference
        let g = action.Align w reference
        let aligned = action.Act g w
        { Element = g; Aligned = aligned; Distance = Linalg.norm (aligned - reference) }
