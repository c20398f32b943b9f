namespace FunctionalAsymptotics.Simulation

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

/// Simulation adapter for the Gaussian-mixture model (Section 6.3, Appendix K): `K` unit-covariance
/// components with centres `U* = beta I_{K,d}`, `theta*` of norm `thetaNorm`, downstream design from the
/// same mixture and `f*(x) = theta*^T psi_{U*}(x)` (6.4).
///
/// Each replicate draws `m` unlabelled samples, fits the centres by EM (k-means++ starts, aligned to `U*`
/// by optimal assignment), builds the features at the fitted `U`, draws the `n`-point design, and computes
/// the exact conditional risk of Proposition B.1 (noise integrated out analytically, as in Appendix K):
/// `n Rep = n min_theta E(f* - theta^T psi_U)^2`, `n Leak = n (theta_n - theta_U)^T Sigma_U (theta_n - theta_U)`
/// and `Var = sigma^2 tr(Sigma_U Sigma_n^-1)`. The features are non-linear, so the population moments at the
/// fitted `U` (`Sigma_U = E psi psi^T`, `E psi f*`, `E f*^2`) come from `populationDraws` seeded draws per
/// replicate; `Rep` is the least-squares residual on that one sample (common random numbers), whose
/// relative Monte Carlo error is about `sqrt(2 / populationDraws)`.
///
/// The features are used in coordinates of their span: `psi_U` lives in `range(P_U)` per block, so with
/// `V_r` the leading `r* = K - 1` eigenvectors of `S(U)` the vector
/// `(pi_i V_r^T (x - u_i), pi_i)_{i <= K}` of dimension `d_eff = K (r* + 1)` is an isometric image of `psi_U`
/// (same Gram, same least-squares fits): the exact solve on the `d_eff`-dimensional span, no ridge.
[<RequireQualifiedAccess>]
module GaussianMixturePipeline =

    /// The projector data of `U` for `compactFeatures`: `V_r` row-major (`d x r*`, entry `(j, a)` at
    /// `j r* + a`), the projected centres `V_r^T u_i` and half their squared norms.
    type private Basis = { Vr: float[]; R: int; Vu: float[][]; HalfNorms: float[] }

    /// Compact features of `psi_U` at one point, written into `phi` (length `K (r + 1)`); `s` receives the
    /// projected responsibilities `pi_i`.
    let private compactFeatures (b: Basis) (x: float[]) (proj: float[]) (s: float[]) (phi: float[]) =
        let r = b.R
        let vr = b.Vr
        for a in 0 .. r - 1 do proj.[a] <- 0.0
        for j in 0 .. x.Length - 1 do
            let xj = x.[j]
            let off = j * r
            for a in 0 .. r - 1 do proj.[a] <- proj.[a] + vr.[off + a] * xj
        let k = b.Vu.Length
        for i in 0 .. k - 1 do
            let mutable acc = -b.HalfNorms.[i]
            let ui = b.Vu.[i]
            for a in 0 .. r - 1 do acc <- acc + ui.[a] * proj.[a]
            s.[i] <- acc
        FunctionalAsymptotics.Kernels.MixtureKernels.SoftmaxInPlace(Span<float>(s))
        for i in 0 .. k - 1 do
            let off = i * (r + 1)
            let ui = b.Vu.[i]
            for a in 0 .. r - 1 do phi.[off + a] <- s.[i] * (proj.[a] - ui.[a])
            phi.[off + r] <- s.[i]

    let private compactBasis (u: Matrix<float>) : Basis =
        let k, d = u.ColumnCount, u.RowCount
        let r = k - 1
        let pr = GaussianMixture.projector r u
        let vr = pr.Eigenvectors.SubMatrix(0, d, 0, r)
        let vu = Array.init k (fun i -> (vr.TransposeThisAndMultiply(u.Column i)).ToArray())
        { Vr = Array.init (d * r) (fun idx -> vr.[idx / r, idx % r]); R = r; Vu = vu
          HalfNorms = vu |> Array.map (fun v -> 0.5 * Array.sumBy (fun t -> t * t) v) }

    /// One Gaussian-mixture draw into `x` (component uniform, identity covariance).
    let private drawInto (centres: float[][]) (rng: ReplicateRng) (x: float[]) =
        let k = centres.Length
        let uc = centres.[min (k - 1) (int (rng.NextDouble() * float k))]
        for j in 0 .. x.Length - 1 do x.[j] <- uc.[j] + rng.NextNormal()

    /// The pipeline model. `thetaNorm`: 1 (paper text) or 10 (the authors' code); `populationDraws`: draws for
    /// the population moments at the fitted centres, per replicate (Appendix K: 2 10^5); `lawOptions`: the
    /// Monte Carlo sizes of the limit law (`GaussianMixturePretraining.estimate`, specialised route).
    let create (k: int) (d: int) (beta: float) (thetaNorm: float) (sigma2: float) (populationDraws: int) (emRestarts: int)
               (lawOptions: MixtureOptions) (alpha: float) : PipelineModel =
        Check.positive "alpha" alpha
        if populationDraws < 1000 then Check.fail "population-draws" (sprintf "must be >= 1000, got %d" populationDraws)
        if emRestarts < 1 then Check.fail "em-restarts" (sprintf "must be >= 1, got %d" emRestarts)
        if not (sigma2 >= 0.0) || Double.IsInfinity sigma2 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
        let uStar = GaussianMixture.uStar k d beta
        let centres = Array.init k (fun i -> uStar.Column(i).ToArray())
        let limit = GaussianMixturePretraining.estimate Specialised k d beta { lawOptions with ThetaNorm = thetaNorm }
        let law = GaussianMixturePretraining.limitLaw sigma2 alpha limit
        // f*(x) = sum_i pi*_i(x) (a_i^T (x - u*_i) + t_i), a_i = P* theta*_i (block i of theta*, first d entries).
        let theta = GaussianMixture.thetaStar k d thetaNorm
        let prStar = GaussianMixture.projector (k - 1) uStar
        let aStar = Array.init k (fun i -> (prStar.P * DenseVector(theta.[i * (d + 1) .. i * (d + 1) + d - 1])).ToArray())
        let tStar = Array.init k (fun i -> theta.[i * (d + 1) + d])
        let starBasis = compactBasis uStar
        let p = GaussianMixture.dEff k (k - 1)
        // a_i^T (x - u*_i) = a_i^T x - a_i^T u*_i.
        let aDotU = Array.init k (fun i -> Array.fold2 (fun acc a u -> acc + a * u) 0.0 aStar.[i] (uStar.Column(i).ToArray()))
        let fStar (x: float[]) (proj: float[]) (s: float[]) (phiStar: float[]) =
            compactFeatures starBasis x proj s phiStar
            let mutable f = 0.0
            for i in 0 .. k - 1 do
                let ai = aStar.[i]
                let mutable dot = -aDotU.[i]
                for j in 0 .. d - 1 do dot <- dot + ai.[j] * x.[j]
                f <- f + s.[i] * (dot + tStar.[i])
            f
        let replicate (ctx: ReplicateContext) : ReplicateOutcome =
            let rng = ctx.Rng
            let random = new StreamRandom(rng)
            // Pre-training: EM on m draws, aligned to U*.
            let z = Array.init ctx.M (fun _ -> let x = Array.zeroCreate d in drawInto centres rng x; x)
            let uHat =
                GaussianMixtureEm.fit { GaussianMixtureEm.defaultOptions with Restarts = emRestarts; Seed = random.Next() } k z
                |> GaussianMixtureEm.align uStar
            let basis = compactBasis uHat
            let x = Array.zeroCreate d
            let proj = Array.zeroCreate (k - 1)
            let s = Array.zeroCreate k
            let phi = Array.zeroCreate p
            let phiStar = Array.zeroCreate p
            let s2 = Array.zeroCreate k
            // Population moments at U by common random numbers.
            let accumulate (count: int) =
                let gram = Array2D.zeroCreate p p
                let cross = Array.zeroCreate p
                let mutable ff = 0.0
                for _ in 1 .. count do
                    drawInto centres rng x
                    compactFeatures basis x proj s phi
                    let f = fStar x proj s2 phiStar
                    ff <- ff + f * f
                    for a in 0 .. p - 1 do
                        let pa = phi.[a]
                        cross.[a] <- cross.[a] + pa * f
                        for b in a .. p - 1 do gram.[a, b] <- gram.[a, b] + pa * phi.[b]
                let c = float count
                let g = DenseMatrix.Create(p, p, fun a b -> (if a <= b then gram.[a, b] else gram.[b, a]) / c)
                g :> Matrix<float>, DenseVector(cross |> Array.map (fun v -> v / c)) :> Vector<float>, ff / c
            let sigmaU, cU, ffU = accumulate populationDraws
            let cholU = sigmaU.Cholesky()
            let thetaU = cholU.Solve cU
            let rep = max 0.0 (ffU - cU.DotProduct thetaU)
            let sigmaN, cN, _ = accumulate ctx.N
            let thetaN = sigmaN.Cholesky().Solve cN
            let dt = thetaN - thetaU
            let leak = dt.DotProduct(sigmaU * dt)
            let var = sigma2 * (sigmaN.Cholesky().Solve sigmaU).Trace()
            let nf = float ctx.N
            { Total = nf * rep + nf * leak + var; Pretrain = nf * rep; Leak = nf * leak; Variance = var }
        { Name = "gmm"
          Law = law
          SigmaSquaredDEff = sigma2 * float limit.DEff
          PopulationMomentError = limit.PretrainMeanStdErr
          Replicate = replicate }

    /// Registry entry `gmm` (parameters K, d, beta, theta-norm, sigma2, population-draws, em-restarts).
    let factory : ModelFactory =
        let asInt (name: string) (x: float) =
            if x <> Math.Round x || x < 1.0 || x > 1e9 then Check.fail name (sprintf "must be a whole number >= 1, got %g" x)
            int x
        { Name = "gmm"
          Summary = "Gaussian mixture with subspace-gated features (Section 6.3), EM pre-training, population moments by per-replicate Monte Carlo"
          Parameters =
            [ { Name = "K"; Default = 4.0; Description = "number of components" }
              { Name = "d"; Default = 20.0; Description = "dimension" }
              { Name = "beta"; Default = 2.0; Description = "centre scale, U* = beta I_{K,d}" }
              { Name = "theta-norm"; Default = 1.0; Description = "norm of theta* (1: paper text; 10: authors' code)" }
              { Name = "sigma2"; Default = 1.0; Description = "downstream noise variance" }
              { Name = "population-draws"; Default = 200000.0; Description = "draws per replicate for the population moments at the fitted centres" }
              { Name = "em-restarts"; Default = 2.0; Description = "k-means++ starts of EM" } ]
          Create =
            fun alpha p ->
                create (asInt "K" p.["K"]) (asInt "d" p.["d"]) p.["beta"] p.["theta-norm"] p.["sigma2"]
                    (asInt "population-draws" p.["population-draws"]) (asInt "em-restarts" p.["em-restarts"])
                    GaussianMixturePretraining.defaultOptions alpha }
