namespace FunctionalAsymptotics.Asymptotics

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation

/// What the matrix-free horizontal route computes (see `LowRankRoute`).
type LowRankSolution =
    { /// `d_eff = rank Sigma(w*)`.
      DEff: int
      /// `d_base` (docs/theory.md section 4).
      DBase: int
      /// `R V_h R^T` (r x r), whose eigenvalues are the chi-square weights, with `G = R^T R` on `Hor(w*)`.
      Projected: Matrix<float>
      /// The most conjugate-gradient iterations one solve needed.
      Iterations: int
      /// Ritz estimate of the condition number of the block-Jacobi-preconditioned horizontal Hessian.
      ConditionEstimate: float }

/// The solves of the matrix-free horizontal route (see `LowRankRoute.trySolve`): everything before the
/// score second moments.
type LowRankSolves =
    { /// `d_eff = rank Sigma(w*)`.
      DEff: int
      /// `d_base` (docs/theory.md section 4).
      DBase: int
      /// The columns of `X = H_h^-1 R^T` as parameter-space directions (r of them), with `G = R^T R` on
      /// `Hor(w*)`: the weights are the eigenvalues of `X^T Sigma X` (`Sigma` the score second moments).
      Solutions: Matrix<float>[]
      /// The most conjugate-gradient iterations one solve needed.
      Iterations: int
      /// Ritz estimate of the condition number of the block-Jacobi-preconditioned horizontal Hessian.
      ConditionEstimate: float
      /// The largest diagonal entry of the horizontal Hessian (a lower bound on its largest eigenvalue).
      HessianScale: float }

/// The horizontal-lift route of Theorem 5.1 at real dimensions, for a linear-Gaussian
/// representation with closed-form population moments. The weights are the eigenvalues of
/// `V_h^1/2 G V_h^1/2`; `G` has rank `r <= d - d_eff`, `G = R^T R` with `R = Q^T S K^T P_Hor` (`S =
/// Sigma_down^1/2`, `Q` an orthonormal basis of `range(S W(w*)^T)^perp`, rows of `K` the derivatives
/// `theta*^T dW[e_j]`), so the weights are the eigenvalues of the r x r matrix
/// `R V_h R^T = X^T Sigma X`, `X = H_h^-1 R^T` (paper eq. (6.1), docs/two-stage-engine.md). `V_h` is only
/// needed on `r` directions: `r` solves with the horizontal Hessian by block-Jacobi-preconditioned conjugate
/// gradients on Hessian-vector products (projected onto `Hor(w*)` by `GroupAction.horizontalProjector`),
/// then the score second moments among the `r` solutions only (`PopulationMoments.ScoreCovariance`).
/// Memory `O(q0 (r + dim G) + d^2)`, no `q0 x q0` matrix (`q0` the number of parameters).
[<RequireQualifiedAccess>]
module LowRankRoute =

    /// Relative threshold for numerical ranks.
    let rankTolerance = 1e-10

    /// Relative residual `||H_h x - b|| / ||b||` at which a conjugate-gradient solve stops.
    let solverTolerance = 1e-13

    /// `H_h` counts as singular when its smallest Ritz value is `<= identifiabilityTolerance` times its
    /// largest (block-Jacobi-preconditioned spectrum; the dense route uses the same threshold on `H_h` itself).
    let identifiabilityTolerance = 1e-10

    let private unit (rows: int) (cols: int) (j: int) =
        let e = Linalg.zeros rows cols
        e.[j % rows, j / rows] <- 1.0
        e

    /// The numerical rank of a wide matrix `B` (d x n, `n >> d`) from GEMM-sized work only: eigenvectors
    /// `u_i` of `B B^T`, then the singular values recomputed as `||B^T u_i||` (for a zero singular value
    /// the eigenvector error `~ eps kappa^2` leaves `||B^T u_i|| ~ eps kappa s_max`, far below the threshold
    /// `relTol s_max` unless the non-zero singular values spread over more than `~1e5`).
    let private numericalRankWide (relTol: float) (b: Matrix<float>) =
        let _, u = Linalg.eigSymDesc (Linalg.sym (b.TransposeAndMultiply b))
        let s = (u.TransposeThisAndMultiply b).RowNorms(2.0).ToArray()
        let top = Array.max s
        if top <= 1e-300 then 0 else s |> Array.filter (fun x -> x > relTol * top) |> Array.length

    /// Extreme eigenvalues of the Lanczos tridiagonal matrix built from the CG coefficients (Saad, Iterative
    /// Methods for Sparse Linear Systems, section 6.7.3): `T_jj = 1/alpha_j + beta_{j-1}/alpha_{j-1}`,
    /// `T_{j,j+1} = sqrt(beta_j) / alpha_j`.
    let private ritzRange (alphas: ResizeArray<float>) (betas: ResizeArray<float>) =
        let m = alphas.Count
        if m = 0 then 1.0, 1.0
        else
            let t = DenseMatrix.Create(m, m, 0.0)
            for j in 0 .. m - 1 do
                t.[j, j] <- 1.0 / alphas.[j] + (if j > 0 then betas.[j - 1] / alphas.[j - 1] else 0.0)
                if j < m - 1 then
                    let o = sqrt betas.[j] / alphas.[j]
                    t.[j, j + 1] <- o
                    t.[j + 1, j] <- o
            let lam, _ = Linalg.eigSymDesc t
            lam.[m - 1], lam.[0]

    /// Preconditioned conjugate gradients for `A x = b` (`A` symmetric positive definite on the subspace
    /// holding `b`, `precond` its symmetric positive definite preconditioner on it). Returns the solution,
    /// the iterations and the Ritz range (smallest, largest). Raises `NotIdentifiableException` on
    /// non-positive curvature and `ConvergenceException` after `maxIterations`.
    let private pcg (op: Vector<float> -> Vector<float>) (precond: Vector<float> -> Vector<float>) (maxIterations: int) (b: Vector<float>) =
        let x = DenseVector.Create(b.Count, 0.0) :> Vector<float>
        let bnorm = b.L2Norm()
        let alphas = ResizeArray()
        let betas = ResizeArray()
        if bnorm = 0.0 then x, 0, (1.0, 1.0)
        else
            let r = b.Clone()
            let mutable z = precond r
            let p = z.Clone()
            let mutable rz = r.DotProduct z
            let mutable it = 0
            let mutable res = bnorm
            while res > solverTolerance * bnorm && it < maxIterations do
                let ap = op p
                let pap = p.DotProduct ap
                if not (pap > 0.0) then
                    raise (NotIdentifiableException([||], [| pap / p.DotProduct p |], 0.0))
                let alpha = rz / pap
                x.Add(p * alpha, x)
                r.Subtract(ap * alpha, r)
                z <- precond r
                let rzNew = r.DotProduct z
                let beta = rzNew / rz
                p.Multiply(beta, p)
                p.Add(z, p)
                rz <- rzNew
                alphas.Add alpha
                betas.Add beta
                res <- r.L2Norm()
                it <- it + 1
            if res > solverTolerance * bnorm then
                let lo, hi = ritzRange alphas betas
                if lo <= identifiabilityTolerance * hi then
                    raise (NotIdentifiableException([||], [| lo |], identifiabilityTolerance * hi))
                raise (ConvergenceException("conjugate gradients on the horizontal Hessian", it, res / bnorm, solverTolerance))
            x, it, ritzRange alphas betas

    /// The solves `X = H_h^-1 R^T` (steps 1-2 of the route, docs/two-stage-engine.md), or `None` when the
    /// route does not apply: a sampled representation, no closed-form population Hessian-vector product, or a
    /// singular `Sigma(w*)` (then null directions may be activated and the dense route with its
    /// irregular-case check is used). `progress` receives short status lines; once `cancel` is set it stops
    /// at its next step or solve with `OperationCanceledException`. Raises `NotIdentifiableException` if
    /// `H_h` is singular (no offending directions are computed here).
    let trySolve (cancel: CancellationToken) (progress: string -> unit) (spec: ModelSpec<'Z>) : LowRankSolves option =
        let progress (line: string) =
            cancel.ThrowIfCancellationRequested()
            progress line
        match spec.Representation, spec.Population with
        | LinearGaussian repr, Some pop ->
            let w = spec.WStar
            let rows, cols = w.RowCount, w.ColumnCount
            let q0 = rows * cols
            let wm = repr.FeatureMatrix w
            let p, d = wm.RowCount, wm.ColumnCount
            let s = Linalg.sqrtPsd repr.DownstreamCovariance
            let swt = s * wm.Transpose()
            let dEff = Linalg.numericalRank rankTolerance swt
            if dEff < p then None
            else
                // K^T: column j is dW[e_j]^T theta* (d x q0).
                progress (sprintf "derivatives of the features along %d parameter directions" q0)
                let theta = DenseVector(spec.ThetaStar)
                let fd = repr.FeatureDifferential w
                let kt = DenseMatrix.Create(d, q0, 0.0)
                Linalg.withSingleThreadedMathNet (fun () ->
                    for j in 0 .. q0 - 1 do
                        if j % 256 = 0 then cancel.ThrowIfCancellationRequested()
                        kt.SetColumn(j, (fd (unit rows cols j)).TransposeThisAndMultiply(theta)))
                let skt = s * kt
                let dBase = numericalRankWide rankTolerance (swt.Append(skt))
                let q = Linalg.complementBasis 1e-12 swt
                let r = q.ColumnCount
                let project = GroupAction.horizontalProjector spec.Action w
                let rhs = project (skt.TransposeThisAndMultiply q)
                // Block-Jacobi preconditioner: the k x k diagonal blocks of the Hessian (in the standard basis)
                // grouping the entries that share the index of the larger dimension (a row of a d x k
                // parameter, a column of a k x d one), read off the q0 unit Hessian-vector products.
                progress (sprintf "diagonal blocks of the Hessian (%d Hessian-vector products)" q0)
                let hv = pop.HessianVector w
                let byRow = rows >= cols
                let blocks, size = (if byRow then rows, cols else cols, rows)
                let index b t = if byRow then b + rows * t else t + rows * b
                let diagBlocks = Array.init blocks (fun _ -> DenseMatrix.Create(size, size, 0.0))
                Linalg.withSingleThreadedMathNet (fun () ->
                    for b in 0 .. blocks - 1 do
                        for t in 0 .. size - 1 do
                            let col = Linalg.values (hv (unit rows cols (index b t)))
                            for u in 0 .. size - 1 do
                                diagBlocks.[b].[u, t] <- col.[index b u])
                let top = diagBlocks |> Array.map (fun m -> m.Diagonal().Maximum()) |> Array.max
                let floor = if top > 0.0 then 1e-8 * top else 1.0
                let inverses =
                    diagBlocks |> Array.map (fun m ->
                        let m = Linalg.sym m + Linalg.eye size * floor
                        try m.Cholesky().Solve(Linalg.eye size)
                        with _ -> DenseMatrix.OfDiagonalArray(m.Diagonal().ToArray() |> Array.map (fun x -> 1.0 / max x floor)) :> Matrix<float>)
                let frame = GroupAction.verticalFrame spec.Action w
                let projectVector (v: Vector<float>) =
                    if frame.ColumnCount = 0 then v else v - frame * frame.TransposeThisAndMultiply(v)
                let op (v: Vector<float>) =
                    projectVector (DenseVector(Linalg.values (hv (Linalg.ofColumnMajor rows cols (v.ToArray())))))
                let inverseValues = inverses |> Array.map Linalg.values
                let precond (v: Vector<float>) =
                    let src = v.ToArray()
                    let out = Array.zeroCreate q0
                    for b in 0 .. blocks - 1 do
                        let inv = inverseValues.[b]
                        for u in 0 .. size - 1 do
                            let mutable acc = 0.0
                            for t in 0 .. size - 1 do
                                acc <- acc + inv.[u + size * t] * src.[index b t]
                            out.[index b u] <- acc
                    projectVector (DenseVector(out))
                let maxIterations = min (q0 + 10) 5000
                // Identifiability: the Ritz range of a solve from a seeded random horizontal vector.
                let probe =
                    let rng = RngStream(0x5CA1EUL, 0UL, 0UL)
                    projectVector (DenseVector(Array.init q0 (fun _ -> rng.NextNormal())))
                let _, _, (lo, hi) = Linalg.withSingleThreadedMathNet (fun () -> pcg op precond maxIterations probe)
                if lo <= identifiabilityTolerance * hi then
                    raise (NotIdentifiableException([||], [| lo |], identifiabilityTolerance * hi))
                progress (sprintf "%d solves with the horizontal Hessian (%d parameters)" r q0)
                let done' = ref 0
                let solutions =
                  try
                  Linalg.withSingleThreadedMathNet (fun () ->
                    Array.Parallel.init r (fun i ->
                        cancel.ThrowIfCancellationRequested()
                        let res = pcg op precond maxIterations (rhs.Column(i))
                        let n = Interlocked.Increment(&done'.contents)
                        if n % max 1 (r / 10) = 0 then progress (sprintf "  solved %d of %d" n r)
                        res))
                  with :? AggregateException as e when e.InnerExceptions.Count >= 1 ->
                      // A solve's own exception (cancellation included) is raised as itself.
                      Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions.[0]).Throw()
                      Unchecked.defaultof<_>
                Some
                    { DEff = dEff
                      DBase = dBase
                      Solutions = solutions |> Array.map (fun (x, _, _) -> Linalg.ofColumnMajor rows cols (x.ToArray()))
                      Iterations = if r = 0 then 0 else solutions |> Array.map (fun (_, it, _) -> it) |> Array.max
                      ConditionEstimate = hi / lo
                      HessianScale = top }
        | _ -> None

    /// The route, or `None` when it does not apply (`trySolve`): the solves, then the exact score second
    /// moments among the `r` solutions (`PopulationMoments.ScoreCovariance`). Exceptions as `trySolve`.
    let tryCompute (cancel: CancellationToken) (progress: string -> unit) (spec: ModelSpec<'Z>) : LowRankSolution option =
        trySolve cancel progress spec
        |> Option.map (fun sol ->
            cancel.ThrowIfCancellationRequested()
            progress (sprintf "score second moments among %d directions" sol.Solutions.Length)
            { DEff = sol.DEff
              DBase = sol.DBase
              Projected = Linalg.sym (spec.Population.Value.ScoreCovariance spec.WStar sol.Solutions)
              Iterations = sol.Iterations
              ConditionEstimate = sol.ConditionEstimate })
