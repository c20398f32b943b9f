namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics

/// Assumption 6.5 (paper L670) failed at the given centres: distinct centres, an eigengap of `S(U)` at
/// `r*`, and `rank E[psi psi^T] = K (r* + 1)`.
type MixtureAssumptionException(condition: string) =
    inherit FunctionalAsymptoticsException(sprintf "Assumption 6.5 fails: %s" condition)
    /// The failed condition, in words.
    member _.Condition = condition

/// The Gaussian-mixture case study (paper Section 6.3, eqs. (6.3)–(6.4); Appendix J; Appendix K).
/// Centres `U = (u_1, ..., u_K)` are the columns of a `d x K` matrix; a flattened parameter is
/// `vec(U)` column-major, so index `i d + r` is coordinate `r` of centre `i` (dimension `Kd`).
[<RequireQualifiedAccess>]
module GaussianMixture =

    /// `U* = beta I_{K,d}` as a `d x K` matrix: centre `i` is `beta e_i` (Appendix K, L6730). Needs `d >= K >= 2`.
    let uStar (k: int) (d: int) (beta: float) : Matrix<float> =
        if k < 2 then Check.fail "K" (sprintf "must be >= 2, got %d" k)
        if d < k then Check.fail "d" (sprintf "must be >= K = %d, got %d" k d)
        Check.positive "beta" beta
        let u = Linalg.zeros d k
        for i in 0 .. k - 1 do u.[i, i] <- beta
        u

    /// `theta*` proportional to `(1_{d+1}, (1/2) 1_{d+1}, ..., (1/K) 1_{d+1})` in `R^{K(d+1)}`
    /// (Appendix K, L6737), scaled to Euclidean norm `thetaNorm` (1 in the paper text, 10 in the authors' code).
    let thetaStar (k: int) (d: int) (thetaNorm: float) : float[] =
        Check.positive "thetaNorm" thetaNorm
        let raw = Array.init (k * (d + 1)) (fun j -> 1.0 / float (j / (d + 1) + 1))
        let nrm = sqrt (Array.sumBy (fun t -> t * t) raw)
        raw |> Array.map (fun t -> thetaNorm * t / nrm)

    /// One draw `(label, z)` of the mixture `(1/K) sum_i N(u_i, I_d)` from a seeded generator.
    let sample (u: Matrix<float>) (rng: Random) : int * float[] =
        let i = rng.Next(u.ColumnCount)
        i, Array.init u.RowCount (fun r -> u.[r, i] + Linalg.gaussian rng)

    let private softmaxInPlace (s: float[]) = FunctionalAsymptotics.Kernels.MixtureKernels.SoftmaxInPlace(Span<float>(s))

    /// Full posterior `gamma_i(z) = softmax_i(-|z - u_i|^2 / 2)` of the mixture.
    let posterior (u: Matrix<float>) (z: float[]) : float[] =
        let d, k = u.RowCount, u.ColumnCount
        Check.sameLength "z" d z.Length
        let s = Array.init k (fun i -> let mutable a = 0.0 in (for r in 0 .. d - 1 do let t = z.[r] - u.[r, i] in a <- a + t * t); -0.5 * a)
        softmaxInPlace s
        s

    /// Score of the per-sample loss `l(U; z) = -log((1/K) sum_i phi(z - u_i))`:
    /// `d l / d u_i = -gamma_i(z) (z - u_i)`, flattened (length `Kd`).
    let score (u: Matrix<float>) (z: float[]) : float[] =
        let d, k = u.RowCount, u.ColumnCount
        let g = posterior u z
        Array.init (k * d) (fun j -> let i, r = j / d, j % d in -g.[i] * (z.[r] - u.[r, i]))

    /// Hessian of the per-sample loss: block `(i, j)` is
    /// `delta_ij gamma_i I - gamma_i (delta_ij - gamma_j) (z - u_i)(z - u_j)^T` (`Kd x Kd`).
    let hessian (u: Matrix<float>) (z: float[]) : Matrix<float> =
        let d, k = u.RowCount, u.ColumnCount
        let g = posterior u z
        DenseMatrix.Create(k * d, k * d, fun a b ->
            let i, r = a / d, a % d
            let j, s = b / d, b % d
            let dij = if i = j then 1.0 else 0.0
            (if a = b then g.[i] else 0.0) - g.[i] * (dij - g.[j]) * (z.[r] - u.[r, i]) * (z.[s] - u.[s, j]))
        :> Matrix<float>

    /// The eigen-data of `S(U) = sum_i (u_i - ubar)(u_i - ubar)^T` behind `P_U` (Section 6.3):
    /// eigenvalues (descending), eigenvectors (columns), `r*`, the projector `P = V_r V_r^T`, and the
    /// centred centres `C = U (I - 1 1^T / K)`.
    type Projector =
        { /// Eigenvalues of `S(U)`, descending.
          Eigenvalues: float[]
          /// Orthonormal eigenvectors of `S(U)` as columns, in the order of `Eigenvalues`.
          Eigenvectors: Matrix<float>
          /// Rank of the projector.
          RStar: int
          /// `P_U`, the projector onto the leading `r*` eigenvectors.
          P: Matrix<float>
          /// Centred centres `C` (`d x K`), `S = C C^T`.
          Centred: Matrix<float> }

    /// Relative eigengap below which Assumption 6.5 (ii) is taken to fail: `(lambda_r - lambda_{r+1}) / lambda_1`.
    let defaultGapTolerance = 1e-8

    /// `P_U` and its eigen-data. Raises `MixtureAssumptionException` when two centres coincide (relative
    /// distance below `gapTol`) or the eigengap at `r*` is below `gapTol * lambda_1`.
    let projectorWith (gapTol: float) (rStar: int) (u: Matrix<float>) : Projector =
        let d, k = u.RowCount, u.ColumnCount
        if rStar < 1 || rStar > d then Check.fail "rStar" (sprintf "must be in [1, %d], got %d" d rStar)
        Linalg.checkFinite "U" u
        let scale = max 1e-300 (u.FrobeniusNorm())
        for i in 0 .. k - 1 do
            for j in i + 1 .. k - 1 do
                if (u.Column(i) - u.Column(j)).L2Norm() <= gapTol * scale then
                    raise (MixtureAssumptionException(sprintf "(i) centres %d and %d coincide" (i + 1) (j + 1)))
        let ubar = u.RowSums() / float k
        let c = u.Clone()
        for i in 0 .. k - 1 do c.SetColumn(i, u.Column(i) - ubar)
        let lam, v = Linalg.eigSymDesc (c * c.Transpose())
        let next = if rStar < d then lam.[rStar] else 0.0
        if lam.[0] <= 0.0 || (lam.[rStar - 1] - next) <= gapTol * lam.[0] then
            raise (MixtureAssumptionException(sprintf "(ii) no eigengap of S(U) at r* = %d (eigenvalues %g, %g)" rStar lam.[rStar - 1] next))
        let vr = v.SubMatrix(0, d, 0, rStar)
        { Eigenvalues = lam; Eigenvectors = v; RStar = rStar; P = vr * vr.Transpose(); Centred = c }

    /// `projectorWith defaultGapTolerance`.
    let projector (rStar: int) (u: Matrix<float>) : Projector = projectorWith defaultGapTolerance rStar u

    /// Directional derivative of the spectral projector: with `dS = dC C^T + C dC^T`, `dC = dU (I - 1 1^T/K)`,
    /// `dP = W + W^T`, `W = sum_{a <= r*, b > r*} v_b v_a^T (v_b^T dS v_a) / (lambda_a - lambda_b)` (first-order
    /// perturbation of an isolated eigenspace).
    let projectorDerivative (pr: Projector) (du: Matrix<float>) : Matrix<float> =
        let d, k = du.RowCount, du.ColumnCount
        let dbar = du.RowSums() / float k
        let dc = du.Clone()
        for i in 0 .. k - 1 do dc.SetColumn(i, du.Column(i) - dbar)
        let ds = dc * pr.Centred.Transpose() + pr.Centred * dc.Transpose()
        let v = pr.Eigenvectors
        let r = pr.RStar
        let w = (Linalg.zeros d d)
        if r < d then
            let vr = v.SubMatrix(0, d, 0, r)
            let vp = v.SubMatrix(0, d, r, d - r)
            let m = vp.Transpose() * ds * vr
            for b in 0 .. d - r - 1 do
                for a in 0 .. r - 1 do
                    m.[b, a] <- m.[b, a] / (pr.Eigenvalues.[a] - pr.Eigenvalues.[r + b])
            w.SetSubMatrix(0, 0, vp * m * vr.Transpose())
        w + w.Transpose()

    let private respFrom (p: Matrix<float>) (u: Matrix<float>) (x: Vector<float>) =
        let px = p * x
        let s = Array.init u.ColumnCount (fun i -> let pu = p * u.Column(i) in pu.DotProduct(px) - 0.5 * pu.DotProduct(pu))
        softmaxInPlace s
        s

    /// Projected responsibilities (6.3): `pi_i(x; U) = softmax_i(<P u_i, P x> - |P u_i|^2 / 2)`.
    let responsibilities (pr: Projector) (u: Matrix<float>) (x: float[]) : float[] =
        Check.sameLength "x" u.RowCount x.Length
        respFrom pr.P u (Linalg.vector x)

    /// Features (6.4): `psi_U(x) = (pi_1 P(x - u_1), pi_1, ..., pi_K P(x - u_K), pi_K) in R^{K(d+1)}`.
    let features (pr: Projector) (u: Matrix<float>) (x: float[]) : float[] =
        Check.sameLength "x" u.RowCount x.Length
        let xv = Linalg.vector x
        let pis = respFrom pr.P u xv
        [| for i in 0 .. u.ColumnCount - 1 do
               yield! ((pr.P * (xv - u.Column(i))) * pis.[i]).ToArray()
               yield pis.[i] |]

    /// Forward directional derivative `D psi_U(x)[dU]` (6.4) through the projector derivative
    /// (`projectorDerivative`) and the responsibility derivative `d pi_i = pi_i (d s_i - sum_j pi_j d s_j)`,
    /// `d s_i = u_i^T dP x - u_i^T dP u_i / 2 + du_i^T P (x - u_i)`.
    let rec featureDerivative (pr: Projector) (u: Matrix<float>) (x: float[]) (du: Matrix<float>) : float[] =
        let d, k = u.RowCount, u.ColumnCount
        Check.sameLength "x" d x.Length
        Linalg.checkShape "dU" d k du
        featureDerivativeGiven pr (projectorDerivative pr du) u x du

    /// `featureDerivative` with the projector derivative `dP = projectorDerivative pr dU` precomputed.
    and featureDerivativeGiven (pr: Projector) (dp: Matrix<float>) (u: Matrix<float>) (x: float[]) (du: Matrix<float>) : float[] =
        let d, k = u.RowCount, u.ColumnCount
        let xv = (Linalg.vector x)
        let p = pr.P
        let pis = respFrom p u xv
        let ds = Array.init k (fun i ->
            let ui = u.Column(i)
            ui.DotProduct(dp * xv) - 0.5 * ui.DotProduct(dp * ui) + du.Column(i).DotProduct(p * (xv - ui)))
        let mean = Array.fold2 (fun acc a b -> acc + a * b) 0.0 pis ds
        let dpi = Array.init k (fun i -> pis.[i] * (ds.[i] - mean))
        [| for i in 0 .. k - 1 do
               let ri = xv - u.Column(i)
               let block = (p * ri) * dpi.[i] + (dp * ri - p * du.Column(i)) * pis.[i]
               yield! block.ToArray()
               yield dpi.[i] |]

    /// Precomputed data for the reverse-mode (adjoint) feature gradient at fixed `U` and `theta`.
    type Adjoint =
        internal
            { D: int; K: int; R: int
              /// eigenvectors, row-major d x d (column a = eigenvector a)
              V: float[]
              Lam: float[]
              /// rotated centres: ut[i*d + a] = v_a^T u_i
              Ut: float[]
              /// rotated theta blocks: tt[i*d + a] = v_a^T theta_i
              Tt: float[]
              B: float[]
              /// rotated centred centres: ct[a*K + i] = v_a^T c_i
              Ct: float[] }

    /// Prepare the adjoint for `theta = (theta_1, b_1, ..., theta_K, b_K)` (length `K(d+1)`).
    let adjoint (pr: Projector) (u: Matrix<float>) (theta: float[]) : Adjoint =
        let d, k = u.RowCount, u.ColumnCount
        Check.sameLength "theta" (k * (d + 1)) theta.Length
        let v = pr.Eigenvectors
        let rot (w: Vector<float>) = (v.TransposeThisAndMultiply(w)).ToArray()
        let tt = Array.init k (fun i -> rot (Linalg.vector (theta.[i * (d + 1) .. i * (d + 1) + d - 1]))) |> Array.concat
        let ct = Array.init (d * k) (fun j -> let a, i = j / k, j % k in v.Column(a).DotProduct(pr.Centred.Column(i)))
        { D = d; K = k; R = pr.RStar
          V = Array.init (d * d) (fun j -> v.[j / d, j % d])
          Lam = pr.Eigenvalues
          Ut = Array.init k (fun i -> rot (u.Column(i))) |> Array.concat
          Tt = tt
          B = Array.init k (fun i -> theta.[i * (d + 1) + d])
          Ct = ct }

    /// Reverse-mode gradient `a(x) = J_psi(x)^T theta = grad_U <theta, psi_U(x)>` (flattened, length `Kd`),
    /// computed in the eigenbasis of `S(U)` where `P = diag(I_r, 0)`: with `g_i = theta_i^T P (x - u_i) + b_i`,
    /// `f = sum_i pi_i g_i` and `c_i = pi_i (g_i - f)`,
    /// `grad_{u_i} = -pi_i P theta_i + c_i P (x - u_i) + [(Q + Q^T) C]_i`, where `Q = V_perp N V_r^T`,
    /// `N_ba = (V_perp^T (Gamma + Gamma^T) V_r)_ba / (lambda_a - lambda_b)` and
    /// `Gamma = sum_i pi_i theta_i (x - u_i)^T + c_i u_i (x - u_i/2)^T` (the adjoint of `dU -> dP`).
    /// `rotateBack = false` leaves the gradient in the eigenbasis, `(I_K (x) V^T) a(x)`.
    /// Also writes `psi` coordinates on the feature span: `phi = (pi_1 V_r^T (x - u_1), pi_1, ...)` (length `K(r+1)`).
    /// `scratch` needs `adjointScratchLength adj = d + K(d+3) + d*d + (2K+1) r*` elements.
    [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)>]
    let rec adjointGradientIn (rotateBack: bool) (adj: Adjoint) (x: ReadOnlySpan<float>) (grad: Span<float>) (phi: Span<float>) (scratch: float[]) =
        let d = adj.D
        let v = adj.V
        // xt = V^T x
        let xt = Span<float>(scratch, 0, d)
        for a in 0 .. d - 1 do
            let mutable s = 0.0
            for q in 0 .. d - 1 do s <- s + v.[q * d + a] * x.[q]
            xt.[a] <- s
        adjointGradientOfRotated rotateBack adj grad phi scratch

    /// `adjointGradientIn` from the rotated point `xt = V^T x`, already in `scratch.[0 .. d-1]`.
    and [<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)>]
        private adjointGradientOfRotated (rotateBack: bool) (adj: Adjoint) (grad: Span<float>) (phi: Span<float>) (scratch: float[]) =
        let d, k, r = adj.D, adj.K, adj.R
        let v = adj.V
        let xt = Span<float>(scratch, 0, d)
        let pis = Span<float>(scratch, d, k)
        let g = Span<float>(scratch, d + k, k)
        for i in 0 .. k - 1 do
            let mutable s = 0.0
            let mutable gi = adj.B.[i]
            for a in 0 .. r - 1 do
                let ua = adj.Ut.[i * d + a]
                s <- s + ua * (xt.[a] - 0.5 * ua)
                gi <- gi + adj.Tt.[i * d + a] * (xt.[a] - ua)
            pis.[i] <- s
            g.[i] <- gi
        FunctionalAsymptotics.Kernels.MixtureKernels.SoftmaxInPlace(pis)
        let mutable f = 0.0
        for i in 0 .. k - 1 do f <- f + pis.[i] * g.[i]
        let c = Span<float>(scratch, d + 2 * k, k)
        for i in 0 .. k - 1 do c.[i] <- pis.[i] * (g.[i] - f)
        // rotated gradient gt (K blocks of d), then N ((d-r) x r), all in rotated coordinates
        let gt = Span<float>(scratch, d + 3 * k, k * d)
        let nMat = Span<float>(scratch, d + 3 * k + k * d, d * d)
        for i in 0 .. k - 1 do
            let pi, ci = pis.[i], c.[i]
            for a in 0 .. d - 1 do
                gt.[i * d + a] <- if a < r then -pi * adj.Tt.[i * d + a] + ci * (xt.[a] - adj.Ut.[i * d + a]) else 0.0
        // Gamma = sum_i pi_i theta_i (x - u_i)^T + c_i u_i (x - u_i / 2)^T; N[b, a] = (Gamma + Gamma^T)[b, a] for
        // b >= r, a < r (rotated indices), collected by the vectors it combines:
        // N[b, a] = sum_i Tt[i, b] alpha_ia + sum_i Ut[i, b] beta_ia + xt[b] gamma_a, with
        // alpha_ia = pi_i (xt_a - Ut_ia), beta_ia = c_i (xt_a - Ut_ia) - pi_i Tt_ia, gamma_a = sum_i pi_i Tt_ia + c_i Ut_ia
        // (stored after nMat).
        let coefficients = d + 3 * k + k * d + d * d
        let alpha = Span<float>(scratch, coefficients, k * r)
        let beta = Span<float>(scratch, coefficients + k * r, k * r)
        let gamma = Span<float>(scratch, coefficients + 2 * k * r, r)
        gamma.Clear()
        for i in 0 .. k - 1 do
            let pi, ci = pis.[i], c.[i]
            for a in 0 .. r - 1 do
                let ua, ta = adj.Ut.[i * d + a], adj.Tt.[i * d + a]
                alpha.[i * r + a] <- pi * (xt.[a] - ua)
                beta.[i * r + a] <- ci * (xt.[a] - ua) - pi * ta
                gamma.[a] <- gamma.[a] + pi * ta + ci * ua
        for b in r .. d - 1 do
            let xb = xt.[b]
            for a in 0 .. r - 1 do
                let mutable s = xb * gamma.[a]
                for i in 0 .. k - 1 do s <- s + adj.Tt.[i * d + b] * alpha.[i * r + a] + adj.Ut.[i * d + b] * beta.[i * r + a]
                nMat.[b * d + a] <- s / (adj.Lam.[a] - adj.Lam.[b])
        // (Q + Q^T) C in rotated coordinates: rows a < r get sum_b N[b,a] Ct[b,i]; rows b >= r get sum_a N[b,a] Ct[a,i]
        for i in 0 .. k - 1 do
            for a in 0 .. r - 1 do
                let mutable s = 0.0
                for b in r .. d - 1 do s <- s + nMat.[b * d + a] * adj.Ct.[b * k + i]
                gt.[i * d + a] <- gt.[i * d + a] + s
            for b in r .. d - 1 do
                let mutable s = 0.0
                for a in 0 .. r - 1 do s <- s + nMat.[b * d + a] * adj.Ct.[a * k + i]
                gt.[i * d + b] <- gt.[i * d + b] + s
        // rotate back: grad_i = V gt_i (or leave it in the eigenbasis of S(U))
        if rotateBack then
            for i in 0 .. k - 1 do
                for q in 0 .. d - 1 do
                    let mutable s = 0.0
                    for a in 0 .. d - 1 do s <- s + v.[q * d + a] * gt.[i * d + a]
                    grad.[i * d + q] <- s
        else
            for j in 0 .. k * d - 1 do grad.[j] <- gt.[j]
        for i in 0 .. k - 1 do
            for a in 0 .. r - 1 do phi.[i * (r + 1) + a] <- pis.[i] * (xt.[a] - adj.Ut.[i * d + a])
            phi.[i * (r + 1) + r] <- pis.[i]

    /// The reduced adjoint at a rotated point `xt = V^T x` (eigenbasis of `S(U)`), for integrating the mixture's
    /// moments in closed form along the directions `b >= r*` (docs/gmm/README.md, "The quadrature route"). Writes
    /// `(I_K (x) V^T) a(x)` into `grad` and the span coordinates `phi` as `adjointGradientIn false` does, and into
    /// `slope.[i]` (length `K`) the coefficient `e_i = sum_{a < r*} (C_ai / lambda_a) sum_j (pi_j theta_ja + c_j u_ja)`
    /// (rotated coordinates) of `xt_b` in every entry `(i, b)`, `b >= r*`: the rotated gradient is affine in the
    /// coordinates `xt_b`, `b >= r*`, with that slope, and no other entry depends on them (the centred centres lie in
    /// the span, `C_bi = 0`, and `lambda_b = 0` for `b >= r*`, so the slope is taken with `lambda_a - lambda_b = lambda_a`).
    let adjointGradientRotated (adj: Adjoint) (xt: ReadOnlySpan<float>) (grad: Span<float>) (phi: Span<float>) (slope: Span<float>) (scratch: float[]) =
        let d, k, r = adj.D, adj.K, adj.R
        xt.CopyTo(Span<float>(scratch, 0, d))
        adjointGradientOfRotated false adj grad phi scratch
        // pis at scratch[d ..], c at scratch[d + 2K ..] (layout of adjointGradientOfRotated)
        for i in 0 .. k - 1 do slope.[i] <- 0.0
        for a in 0 .. r - 1 do
            let mutable gamma = 0.0
            for j in 0 .. k - 1 do gamma <- gamma + scratch.[d + j] * adj.Tt.[j * d + a] + scratch.[d + 2 * k + j] * adj.Ut.[j * d + a]
            let q = gamma / adj.Lam.[a]
            for i in 0 .. k - 1 do slope.[i] <- slope.[i] + adj.Ct.[a * k + i] * q

    /// `adjointGradientIn true`: the gradient in the original coordinates.
    let adjointGradient (adj: Adjoint) (x: ReadOnlySpan<float>) (grad: Span<float>) (phi: Span<float>) (scratch: float[]) =
        adjointGradientIn true adj x grad phi scratch

    /// The eigenvectors of `S(U)` behind an adjoint: `adjointGradientIn false` returns `(I_K (x) V^T) a(x)`.
    let adjointBasis (adj: Adjoint) : Matrix<float> = (Linalg.init adj.D adj.D (fun i j -> adj.V.[i * adj.D + j]))

    /// Scratch length needed by `adjointGradient`.
    let adjointScratchLength (adj: Adjoint) = adj.D + 3 * adj.K + adj.K * adj.D + adj.D * adj.D + (2 * adj.K + 1) * adj.R

    /// `a(x) = J_psi(x)^T theta` by the adjoint (convenience wrapper of `adjointGradient`).
    let featureGradient (pr: Projector) (u: Matrix<float>) (theta: float[]) (x: float[]) : float[] =
        let adj = adjoint pr u theta
        let grad = Array.zeroCreate (adj.K * adj.D)
        let phi = Array.zeroCreate (adj.K * (adj.R + 1))
        adjointGradient adj (ReadOnlySpan x) (Span grad) (Span phi) (Array.zeroCreate (adjointScratchLength adj))
        grad

    /// `d_eff = K (r* + 1)` (Assumption 6.5 (iii)).
    let dEff (k: int) (rStar: int) = k * (rStar + 1)
