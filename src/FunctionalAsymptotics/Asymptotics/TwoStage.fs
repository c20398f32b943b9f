namespace FunctionalAsymptotics.Asymptotics

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation

/// What Theorem 5.1 needs from a model, computed by one route (docs/theory.md section 4).
type AsymptoticSummary =
    { /// The route that produced it ("horizontal", "descriptor", "closed", "paper").
      Route: string
      /// `d_eff = rank Sigma(Omega*)`.
      DEff: int
      /// `d_base`: rank of the downstream-only tangent class (docs/theory.md section 4, L420–L445).
      DBase: int
      /// `sigma^2`.
      Sigma2: float
      /// The Gram `G` of `L` in the route's coordinates (empty for closed forms).
      Gram: Matrix<float>
      /// The limit covariance `V` in the same coordinates (empty for closed forms).
      Covariance: Matrix<float>
      /// The non-zero chi-square weights `lambda_j` of `||L(Z)||^2`, descending.
      Weights: float[] }

/// Functions on `AsymptoticSummary`.
[<RequireQualifiedAccess>]
module AsymptoticSummary =

    /// `E||L(Z)||^2 = sum_j lambda_j = tr(V G)`.
    let pretrainMean (s: AsymptoticSummary) = Array.sum s.Weights

    /// The crossover `alpha_0 = E||L(Z)||^2 / (sigma^2 (d_base - d_eff))` (L420–L445), `None` unless
    /// `d_base > d_eff` and `sigma^2 > 0`.
    let alpha0 (s: AsymptoticSummary) =
        if s.DBase > s.DEff && s.Sigma2 > 0.0 then Some(pretrainMean s / (s.Sigma2 * float (s.DBase - s.DEff))) else None

    /// The limit law `sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1` (Theorem 5.1).
    let limitLaw (alpha: float) (s: AsymptoticSummary) = LimitLaw.create s.Sigma2 s.DEff alpha s.Weights

    /// The largest relative difference between two routes' weights (sorted), or infinity when their
    /// numbers of non-zero weights differ.
    let weightDiscrepancy (a: AsymptoticSummary) (b: AsymptoticSummary) =
        if a.Weights.Length <> b.Weights.Length then Double.PositiveInfinity
        elif a.Weights.Length = 0 then 0.0
        else
            let scale = max (Array.max a.Weights) (Array.max b.Weights)
            Array.map2 (fun x y -> abs (x - y) / scale) a.Weights b.Weights |> Array.max

/// The two generic routes from a model specification to the limit law (docs/theory.md sections 3–4).
[<RequireQualifiedAccess>]
module TwoStage =

    /// Relative threshold for numerical ranks (`d_eff`, `d_base`) and zero weights.
    let rankTolerance = 1e-10

    /// Eigenvalues of `V^{1/2} G V^{1/2}` (the chi-square weights of `||L(Z)||^2`), descending, with
    /// values `<= rankTolerance * max` dropped. A clearly negative eigenvalue (below `-1e-8 * max`) means
    /// `G` or `V` is not PSD and raises `InvalidArgumentException`.
    let weightsOf (v: Matrix<float>) (g: Matrix<float>) : float[] =
        if v.RowCount = 0 then [||]
        else
            let vh = Linalg.sqrtPsd v
            let lam, _ = Linalg.eigSymDesc (vh * g * vh)
            let top = max (abs lam.[0]) 1e-300
            if lam.[lam.Length - 1] < -1e-8 * top then
                Check.fail "G, V" (sprintf "V^1/2 G V^1/2 has a negative eigenvalue %g (largest %g)" lam.[lam.Length - 1] top)
            lam |> Array.filter (fun l -> l > rankTolerance * top)

    /// `Sigma_down^{1/2}`.
    let private whiten (repr: LinearGaussianRepresentation) = Linalg.sqrtPsd repr.DownstreamCovariance

    /// Rows `theta*^T dW(w)[b]` for each direction `b` (so `<theta*, dpsi[b](x)> = row . x`).
    let private derivativeRows (repr: LinearGaussianRepresentation) (w: Matrix<float>) (theta: float[]) (dirs: Matrix<float>[]) =
        let t = Linalg.vector theta
        let k = Linalg.zeros dirs.Length repr.DownstreamCovariance.RowCount
        dirs |> Array.iteri (fun i b -> k.SetRow(i, (repr.FeatureDifferential w b).TransposeThisAndMultiply(t)))
        k

    /// `u(x) = [psi(x, w); <theta, dpsi(x, w)[b_j]>_j]`, whose second moments give `Sigma`, `C` and `E[a a^T]`.
    let sampledFeatureVector (repr: SampledRepresentation) (w: Matrix<float>) (theta: float[]) (dirs: Matrix<float>[]) (x: float[]) : float[] =
        let t = Linalg.vector theta
        Array.append (repr.Features w x) (dirs |> Array.map (fun b -> t.DotProduct(Linalg.vector (repr.FeatureDifferential w x b))))

    /// Seeded Monte Carlo of `E[u u^T]`, `u(x) = [psi(x, w); <theta, dpsi(x, w)[b_j]>_j]` (common random numbers).
    let private sampledMoments (repr: SampledRepresentation) (w: Matrix<float>) (theta: float[]) (dirs: Matrix<float>[]) =
        if repr.Count < 1 then Check.fail "Count" (sprintf "must be >= 1, got %d" repr.Count)
        let rng = Random repr.Seed
        let mutable acc : Matrix<float> option = None
        for _ in 1 .. repr.Count do
            let x = repr.Sample rng
            let uv = Linalg.vector (sampledFeatureVector repr w theta dirs x)
            let o = uv.OuterProduct uv
            acc <- Some(match acc with Some a -> a + o | None -> o)
        Linalg.sym (acc.Value / float repr.Count), theta.Length

    /// `G = S_aa - S_a,psi Sigma^+ S_psi,a` from the second-moment matrix `m = E[u u^T]` of
    /// `u = [psi (p entries); a]`, with `Sigma^+` on the numerical range of `Sigma = S_psi,psi`.
    let gramOfMoments (m: Matrix<float>) (p: int) : Matrix<float> =
        let n = m.RowCount - p
        let sww = m.SubMatrix(0, p, 0, p)
        let swk = m.SubMatrix(0, p, p, n)
        let skk = m.SubMatrix(p, n, p, n)
        let lam, v = Linalg.eigSymDesc sww
        let top = max (abs lam.[0]) 1e-300
        let r0 = lam |> Array.filter (fun l -> l > rankTolerance * top) |> Array.length
        let vr = v.SubMatrix(0, p, 0, r0)
        let half = swk.TransposeThisAndMultiply(vr) * (Linalg.diag (Array.init r0 (fun i -> 1.0 / sqrt lam.[i])))
        Linalg.sym (skk - half * half.Transpose())

    /// `G = E[a a^T] - C Sigma^+ C^T` for `a_j = <theta, dpsi[b_j]>` (docs/theory.md section 4), where `Sigma^+`
    /// enters through the L2 projector `Pi_Omega = T Sigma^+ T^adj` (its definition). Linear-Gaussian: exact,
    /// in whitened form `K S (I - P) S K^T` with `S = Sigma_down^{1/2}` and `P` the projector onto
    /// `range(S W^T)`. Sampled: from the Monte Carlo second moments, with `Sigma^+` on its numerical range.
    let gram (repr: Representation) (w: Matrix<float>) (theta: float[]) (dirs: Matrix<float>[]) : Matrix<float> =
        match repr with
        | LinearGaussian r ->
            let k = derivativeRows r w theta dirs
            let s = whiten r
            let q = Linalg.rangeBasis rankTolerance (s * r.FeatureMatrix(w).Transpose())
            let ks = k * s
            let resid = ks - (ks * q) * q.Transpose()
            Linalg.sym (resid * resid.Transpose())
        | Sampled r ->
            let m, p = sampledMoments r w theta dirs
            gramOfMoments m p

    /// `d_eff = rank Sigma(w)` (`rank(W Sigma_down W^T)`, or the numerical rank of the Monte Carlo `Sigma`).
    let effectiveDimension (repr: Representation) (w: Matrix<float>) =
        match repr with
        | LinearGaussian r -> Linalg.numericalRank rankTolerance (whiten r * r.FeatureMatrix(w).Transpose())
        | Sampled r -> let m, _ = sampledMoments r w [||] [||] in Linalg.numericalRank rankTolerance m

    /// `d_base`: the rank in `L2(mu_down)` of `(dtheta, dw) -> <dtheta, psi(., w*)> + <theta*, dpsi[dw]>`,
    /// i.e. of the span of the features and of `<theta*, dpsi[e_j]>` over a basis `e_j` of `R^{q0}`.
    let baselineDimension (repr: Representation) (w: Matrix<float>) (theta: float[]) =
        let q0 = w.RowCount * w.ColumnCount
        let dirs = Array.init q0 (fun j -> let e = Linalg.zeros w.RowCount w.ColumnCount in e.[j % w.RowCount, j / w.RowCount] <- 1.0; e)
        match repr with
        | LinearGaussian r ->
            let k = derivativeRows r w theta dirs
            let stacked = r.FeatureMatrix(w).Stack(k)
            Linalg.numericalRank rankTolerance (whiten r * stacked.Transpose())
        | Sampled r -> let m, _ = sampledMoments r w theta dirs in Linalg.numericalRank rankTolerance m

    /// `Sigma(w)` and, per direction `b`, `E[dpsi[b] dpsi[b]^T]` (feature space).
    let private featureMoments (repr: Representation) (w: Matrix<float>) (dirs: Matrix<float>[]) =
        match repr with
        | LinearGaussian r ->
            let wm = r.FeatureMatrix w
            Linalg.sym (wm * r.DownstreamCovariance * wm.Transpose()),
            dirs |> Array.map (fun b -> let dw = r.FeatureDifferential w b in Linalg.sym (dw * r.DownstreamCovariance * dw.Transpose()))
        | Sampled r ->
            let rng = Random r.Seed
            let xs = Array.init r.Count (fun _ -> r.Sample rng)
            let second (f: float[] -> float[]) =
                xs |> Array.map (fun x -> let v = (Linalg.vector (f x)) in v.OuterProduct v) |> Array.reduce (+) |> fun m -> Linalg.sym (m / float r.Count)
            second (r.Features w), dirs |> Array.map (fun b -> second (fun x -> r.FeatureDifferential w x b))

    /// Irregular-case detection (docs/theory.md section 4): with `N0` an orthonormal basis of the null space of
    /// `Sigma(w*)` in feature space, `u^T Sigma(w* + t b) u = t^2 E[(u^T dpsi[b])^2] + O(t^3)` for `u in N0`.
    /// The activation form `A = sum_b N0^T E[dpsi[b] dpsi[b]^T] N0` over an orthonormal horizontal basis is
    /// zero iff no null direction is activated (`B0 = {0}`, the regular case). Raises
    /// `IrregularCaseException` naming the activated directions otherwise.
    let checkRegular (spec: ModelSpec<'Z>) =
        let w = spec.WStar
        let basis = GroupAction.horizontalBasis spec.Action w
        let sigma, derivs = featureMoments spec.Representation w basis
        let p = sigma.RowCount
        let lam, vecs = Linalg.eigSymDesc sigma
        let top = max (abs lam.[0]) 1e-300
        let nullIdx = [| for i in 0 .. p - 1 do if lam.[i] <= rankTolerance * top then yield i |]
        if nullIdx.Length > 0 then
            let n0 = Linalg.init p nullIdx.Length (fun r c -> vecs.[r, nullIdx.[c]])
            let act = derivs |> Array.fold (fun (acc: Matrix<float>) dd -> acc + n0.Transpose() * dd * n0) (Linalg.zeros nullIdx.Length nullIdx.Length)
            let scale = max top (derivs |> Array.sumBy (fun dd -> dd.Trace()))
            let al, av = Linalg.eigSymDesc act
            let activated = [| for i in 0 .. al.Length - 1 do if al.[i] > 1e-10 * scale then yield i |]
            if activated.Length > 0 then
                let dirs = activated |> Array.map (fun i -> (n0 * av.Column(i)).ToArray())
                raise (IrregularCaseException(dirs, activated |> Array.map (fun i -> al.[i])))

    /// The horizontal-lift route (docs/theory.md section 3, steps 1–5, and section 4): `V_h` from the given
    /// sandwich, `a(x) = B^T J_psi(x)^T theta*`, `G = E[a a^T] - C Sigma^+ C^T`, weights = eigenvalues of
    /// `V_h^{1/2} G V_h^{1/2}` (Theorem 5.1, eq. (6.1)). Checks the regular case first.
    let horizontalWith (sandwich: Sandwich) (spec: ModelSpec<'Z>) : AsymptoticSummary =
        checkRegular spec
        let w = spec.WStar
        let g = gram spec.Representation w spec.ThetaStar sandwich.Basis
        { Route = "horizontal"
          DEff = effectiveDimension spec.Representation w
          DBase = baselineDimension spec.Representation w spec.ThetaStar
          Sigma2 = spec.Sigma2
          Gram = g
          Covariance = sandwich.Covariance
          Weights = weightsOf sandwich.Covariance g }

    /// The horizontal-lift route with the closed-form population moments, reporting progress lines. For a
    /// linear-Gaussian representation with non-singular `Sigma(w*)` (always regular) it is the matrix-free
    /// `LowRankRoute`: then `Gram` is the identity and `Covariance` is `R V_h R^T` in the r coordinates
    /// `y = R v` of `G = R^T R` (so `tr(V G)` and the weights are unchanged). Otherwise the irregular case is
    /// detected first and the dense sandwich (`Sandwich.population`) is used, in horizontal-basis coordinates.
    /// Once `cancel` is set the computation stops with `OperationCanceledException`.
    let horizontalCancellable (cancel: System.Threading.CancellationToken) (progress: string -> unit) (spec: ModelSpec<'Z>) : AsymptoticSummary =
        match LowRankRoute.tryCompute cancel progress spec with
        | Some sol ->
            let gram = Linalg.eye sol.Projected.RowCount
            { Route = "horizontal"
              DEff = sol.DEff
              DBase = sol.DBase
              Sigma2 = spec.Sigma2
              Gram = gram
              Covariance = sol.Projected
              Weights = weightsOf sol.Projected gram }
        | None ->
            checkRegular spec
            horizontalWith (Sandwich.population spec) spec

    /// `horizontalCancellable` without cancellation.
    let horizontalWithProgress (progress: string -> unit) (spec: ModelSpec<'Z>) : AsymptoticSummary =
        horizontalCancellable System.Threading.CancellationToken.None progress spec

    /// The horizontal-lift route with the closed-form population moments (`horizontalWithProgress`
    /// without progress lines).
    let horizontal (spec: ModelSpec<'Z>) : AsymptoticSummary = horizontalWithProgress ignore spec

/// The pre-training problem written on an explicit descriptor manifold (paper Section 6, Appendices H–I):
/// the population loss `F(Omega)` with its Euclidean gradient and Hessian in the ambient space, the
/// exact Riemannian score covariance, and a local section.
type DescriptorModel =
    { /// The descriptor manifold (e.g. `FixedRankPsd(d, k)`).
      Manifold: Manifold
      /// `Omega* = D(w*)`.
      OmegaStar: Matrix<float>
      /// Euclidean gradient of a smooth extension of `F` at a point.
      EuclideanGradient: Matrix<float> -> Matrix<float>
      /// Euclidean Hessian-vector product of the extension: arguments `Omega z`.
      EuclideanHessianVector: Matrix<float> -> Matrix<float> -> Matrix<float>
      /// `E[<t_i, grad l><t_j, grad l>]` for tangent vectors `t_i` at `Omega*` (exact): the Riemannian
      /// score covariance in that basis (`<t, P_T egrad> = <t, egrad>` for tangent `t`).
      ScoreCovariance: Matrix<float>[] -> Matrix<float>
      /// A local section `s` with `D(s(Omega)) = Omega`, `s(Omega*) = w*`.
      Section: Matrix<float> -> Matrix<float> }

/// The descriptor-manifold route (docs/theory.md section 3: `grad f = P_T(nabla f)`, `Hess f[v] = P_T(D nabla
/// f[v]) +` Weingarten term; paper Section 4.1, Appendix D): `V = H^-1 Sigma H^-1` on `T_{Omega*} M` with the
/// Riemannian Hessian, and `G` from the intrinsic features `phi(x, Omega) = psi(x, s(Omega))`, whose
/// derivative along a tangent `t` is `dpsi(w*)[ds(Omega*)[t]]`, the section derivative taken by Richardson
/// finite differences along the retraction.
[<RequireQualifiedAccess>]
module DescriptorRoute =

    /// Step of the section derivative (along `Retract Omega* (h t)`, unit `t`).
    let defaultSectionStep = 1e-2

    /// The largest descriptor-manifold dimension for which the route is offered. The route is dense by
    /// design (an explicit tangent basis, the Riemannian Hessian as a matrix, finite-difference section
    /// derivatives per basis element, the model's score covariance in that basis); it is an independent
    /// check at moderate sizes, and `TwoStage.horizontal` is the route at real dimensions. Measured
    /// (docs/two-stage-engine.md): spectral `d = 16, k = 4` (dimension 58) takes about 9 s of CPU time.
    let maxDimension = 60

    /// Why the route is not offered for `model` (`None` when it is): its manifold dimension exceeds
    /// `maxDimension`.
    let notOffered (model: DescriptorModel) : string option =
        let n = model.Manifold.Dimension
        if n > maxDimension then
            Some(sprintf "the descriptor route is offered up to manifold dimension %d, got %d (use the horizontal route)" maxDimension n)
        else None

    /// The route; raises `InvalidArgumentException` above `maxDimension` (before any work) or if
    /// `s(Omega*)` is not `w*`, `NotIdentifiableException`
    /// if the Riemannian Hessian is singular, `IrregularCaseException` in the irregular case.
    let compute (spec: ModelSpec<'Z>) (model: DescriptorModel) : AsymptoticSummary =
        match notOffered model with
        | Some reason -> raise (InvalidArgumentException("model.Manifold", reason))
        | None -> ()
        TwoStage.checkRegular spec
        let m = model.Manifold
        let omega = model.OmegaStar
        Manifold.checkPoint m "OmegaStar" omega
        let w = spec.WStar
        let s0 = model.Section omega
        if Linalg.norm (s0 - w) > 1e-8 * max 1.0 (Linalg.norm w) then
            Check.fail "model.Section" "must map Omega* to spec.WStar (anchor the section at w*)"
        let basis = m.TangentBasis omega
        let egrad = model.EuclideanGradient omega
        let hR = Manifold.hessianMatrix m omega egrad (model.EuclideanHessianVector omega)
        let sigmaR = model.ScoreCovariance basis
        let sandwich = Sandwich.ofMatrices basis hR sigmaR
        let repr = spec.Representation
        // The section derivative ds(Omega*)[t] (a parameter-space direction), by Richardson finite
        // differences along the retraction; then dphi[t] = dpsi(w*)[ds[t]].
        let dirs = basis |> Array.map (fun b -> FiniteDifference.alongCurve defaultSectionStep (fun h -> model.Section(m.Retract omega (b * h))))
        let g = TwoStage.gram repr w spec.ThetaStar dirs
        { Route = "descriptor"
          DEff = TwoStage.effectiveDimension repr w
          DBase = TwoStage.baselineDimension repr w spec.ThetaStar
          Sigma2 = spec.Sigma2
          Gram = g
          Covariance = sandwich.Covariance
          Weights = TwoStage.weightsOf sandwich.Covariance g }
