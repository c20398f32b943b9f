namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// EM produced a degenerate mixture: a component that collapsed (lost almost all its mass) or two coincident centres.
type DegenerateMixtureException(reason: string) =
    inherit FunctionalAsymptoticsException(sprintf "degenerate mixture fit: %s" reason)
    /// What degenerated, in words.
    member _.Reason = reason

/// EM settings for the equal-weight, identity-covariance mixture.
type EmOptions =
    { /// Independent k-means++ starts; the fit with the largest log-likelihood wins.
      Restarts: int
      /// Iteration cap per start (`ConvergenceException` when reached).
      MaxIterations: int
      /// Stop when the change of the mean log-likelihood is at most `Tolerance`.
      Tolerance: float
      /// A component whose share `sum_s gamma_si / m` falls below this has collapsed.
      MinMass: float
      /// Centres closer than this (Euclidean) are coincident.
      MinSeparation: float
      /// Seed of the starts.
      Seed: int
      /// SQUAREM extrapolation between plain EM steps (Varadhan and Roland 2008, scheme S3, with the monotone
      /// safeguard); the stopping rule and the fixed point are the plain iteration's.
      Accelerated: bool }

/// The pre-training MLE of the centres by EM (paper Section 6.3; docs/case-studies.md §3).
[<RequireQualifiedAccess>]
module GaussianMixtureEm =

    /// Defaults: 5 starts, 1000 iterations (E-step passes), tolerance 1e-10 on the mean log-likelihood, SQUAREM on.
    let defaultOptions = { Restarts = 5; MaxIterations = 1000; Tolerance = 1e-10; MinMass = 1e-3; MinSeparation = 1e-6; Seed = 1; Accelerated = true }

    /// Mean log-likelihood `(1/m) sum_s log((1/K) sum_i phi(z_s - u_i))` of the samples (rows of `z`).
    let meanLogLikelihood (u: Matrix<float>) (z: float[][]) : float =
        z |> Array.averageBy (fun x -> -(GaussianMixtureLoss.loss u x))

    /// k-means++ start: the first centre a uniform sample, each next one a sample drawn with probability
    /// proportional to its squared distance to the nearest chosen centre (distances kept and updated, O(m K d)).
    let kMeansPlusPlus (k: int) (z: float[][]) (rng: Random) : Matrix<float> =
        let d = z.[0].Length
        let u = Linalg.zeros d k
        let first = z.[rng.Next z.Length]
        u.SetColumn(0, first)
        let w = z |> Array.map (fun x -> let mutable s = 0.0 in (for r in 0 .. d - 1 do let t = x.[r] - first.[r] in s <- s + t * t); s)
        for i in 1 .. k - 1 do
            let total = Array.sum w
            let target = rng.NextDouble() * total
            let mutable acc = 0.0
            let mutable pick = z.Length - 1
            let mutable found = false
            for s in 0 .. z.Length - 1 do
                if not found then
                    acc <- acc + w.[s]
                    if acc >= target && w.[s] > 0.0 then pick <- s; found <- true
            let c = z.[pick]
            u.SetColumn(i, c)
            if i < k - 1 then
                for s in 0 .. z.Length - 1 do
                    let x = z.[s]
                    let mutable q = 0.0
                    for r in 0 .. d - 1 do let t = x.[r] - c.[r] in q <- q + t * t
                    if q < w.[s] then w.[s] <- q
        u

    /// The samples (rows of `z`) in the row-block layout of `Kernels.EmKernels` (8 samples a block).
    let private pack (z: float[][]) : float[] =
        let d = z.[0].Length
        let blocked = Array.zeroCreate (FunctionalAsymptotics.Kernels.EmKernels.BlockedLength(z.Length, d))
        for s in 0 .. z.Length - 1 do
            if z.[s].Length <> d then Check.fail "z" (sprintf "every sample must have dimension %d; sample %d has %d" d s z.[s].Length)
            FunctionalAsymptotics.Kernels.EmKernels.PackRow(ReadOnlySpan z.[s], s, Span blocked)
        blocked

    let private fitPacked (o: EmOptions) (start: Matrix<float>) (blocked: float[]) (rows: int) : Matrix<float> * float =
        let d, k = start.RowCount, start.ColumnCount
        let m = float rows
        // Centres centre-major: centre i at [i*d .. i*d + d - 1].
        let mutable u = Array.init (k * d) (fun j -> start.[j % d, j / d])
        let sums = Array.zeroCreate (k * d)
        let mass = Array.zeroCreate k
        let constant = -log (float k) - 0.5 * float d * log (2.0 * Math.PI)
        // One fused E-step pass at `u` (SIMD kernel): sums and masses for the M-step, mean log-likelihood at `u`.
        let pass (u: float[]) =
            FunctionalAsymptotics.Kernels.EmKernels.EStep(ReadOnlySpan blocked, rows, d, ReadOnlySpan u, Span sums, Span mass) / m + constant
        // The EM map from the sums of the last pass: u_i = sums_i / mass_i.
        let mStep () =
            let next = Array.zeroCreate (k * d)
            for i in 0 .. k - 1 do
                if mass.[i] / m < o.MinMass then
                    raise (DegenerateMixtureException(sprintf "component %d collapsed (share %.3g < %.3g)" (i + 1) (mass.[i] / m) o.MinMass))
                for r in 0 .. d - 1 do next.[i * d + r] <- sums.[i * d + r] / mass.[i]
            next
        let mutable ll = pass u
        let mutable change = infinity
        // the change of the last plain step (what a ConvergenceException reports)
        let mutable lastChange = infinity
        let mutable it = 0
        if not o.Accelerated then
            while change > o.Tolerance && it < o.MaxIterations do
                u <- mStep ()
                let llNext = pass u
                change <- abs (llNext - ll)
                lastChange <- change
                ll <- llNext
                it <- it + 1
        else
            // SQUAREM cycle from u0 (ll = ll(u0), sums of the pass at u0 in hand): u1 = F(u0), u2 = F(u1),
            // r = u1 - u0, v = u2 - 2 u1 + u0, alpha = -min(|r| / |v|, ...) <= -1, u' = u0 - 2 alpha r + alpha^2 v;
            // the next u0 is F(u') when ll(u') >= ll(u1) (monotone safeguard), else u2. Stop as the plain iteration
            // does: when one plain step u0 -> u1 changes the mean log-likelihood by at most the tolerance (return u1).
            while change > o.Tolerance && it < o.MaxIterations do
                let u0 = u
                let u1 = mStep ()
                let ll1 = pass u1
                it <- it + 1
                change <- abs (ll1 - ll)
                lastChange <- change
                u <- u1
                ll <- ll1
                if change > o.Tolerance && it < o.MaxIterations then
                    let u2 = mStep ()
                    let mutable rr = 0.0
                    let mutable vv = 0.0
                    for j in 0 .. u0.Length - 1 do
                        let rj = u1.[j] - u0.[j]
                        let vj = u2.[j] - 2.0 * u1.[j] + u0.[j]
                        rr <- rr + rj * rj
                        vv <- vv + vj * vj
                    let alpha = if vv > 0.0 then min -1.0 (-(sqrt (rr / vv))) else -1.0
                    let ext = Array.init u0.Length (fun j -> u0.[j] - 2.0 * alpha * (u1.[j] - u0.[j]) + alpha * alpha * (u2.[j] - 2.0 * u1.[j] + u0.[j]))
                    let llExt = if alpha = -1.0 then nan else pass ext
                    if alpha <> -1.0 then it <- it + 1
                    if alpha <> -1.0 && llExt >= ll1 && Double.IsFinite llExt then
                        // accept: the sums of the pass at u' give F(u')
                        u <- mStep ()
                    else
                        // alpha = -1 gives u' = u2; or the extrapolation lowered the likelihood: fall back to u2
                        u <- u2
                    ll <- pass u
                    it <- it + 1
                    // the next cycle's u0 = u, with ll(u) and the sums at u in hand; its first step applies the rule
                    change <- infinity
        if change > o.Tolerance then raise (ConvergenceException("EM (Gaussian mixture)", it, lastChange, o.Tolerance))
        let result = Linalg.init d k (fun r i -> u.[i * d + r])
        for i in 0 .. k - 1 do
            for j in i + 1 .. k - 1 do
                if (result.Column(i) - result.Column(j)).L2Norm() < o.MinSeparation then
                    raise (DegenerateMixtureException(sprintf "centres %d and %d coincide" (i + 1) (j + 1)))
        result, ll

    /// EM from a start: E-step `gamma_si = softmax_i(-|z_s - u_i|^2 / 2)`, M-step `u_i = sum_s gamma_si z_s / sum_s gamma_si`,
    /// until the mean log-likelihood changes by at most `o.Tolerance`; returns the centres and their mean
    /// log-likelihood. Raises `ConvergenceException` at the iteration cap and `DegenerateMixtureException` for a
    /// collapsed component or coincident centres. Each iteration is one fused pass of the SIMD kernel
    /// `Kernels.EmKernels.EStep` (E-step, log-likelihood and M-step sums together) over the samples packed once.
    let fitFrom (o: EmOptions) (start: Matrix<float>) (z: float[][]) : Matrix<float> * float =
        if isNull (box z) || z.Length < start.ColumnCount then Check.fail "z" (sprintf "must hold at least K = %d samples" start.ColumnCount)
        if z.[0].Length <> start.RowCount then Check.fail "start" (sprintf "must have d = %d rows (the sample dimension), got %d" z.[0].Length start.RowCount)
        fitPacked o start (pack z) z.Length

    /// The best of `o.Restarts` k-means++ starts (largest mean log-likelihood). Failed starts are skipped;
    /// if every start fails, the last error is raised.
    let fit (o: EmOptions) (k: int) (z: float[][]) : Matrix<float> =
        if k < 2 then Check.fail "K" (sprintf "must be >= 2, got %d" k)
        if isNull (box z) || z.Length < k then Check.fail "z" (sprintf "must hold at least K = %d samples" k)
        if o.Restarts < 1 then Check.fail "Restarts" "must be >= 1"
        let rng = Random(o.Seed)
        let mutable best : (Matrix<float> * float) option = None
        let mutable lastError : exn option = None
        let blocked = pack z
        for _ in 1 .. o.Restarts do
            let start = kMeansPlusPlus k z rng
            try
                let u, ll = fitPacked o start blocked z.Length
                match best with
                | Some(_, b) when b >= ll -> ()
                | _ -> best <- Some(u, ll)
            with
            | :? ConvergenceException as e -> lastError <- Some(e :> exn)
            | :? DegenerateMixtureException as e -> lastError <- Some(e :> exn)
        match best, lastError with
        | Some(u, _), _ -> u
        | None, Some e -> raise e
        | None, None -> raise (InvalidOperationException "unreachable: no start ran")

    /// Relabel the columns of `u` to match `reference` by the optimal assignment (Hungarian algorithm) of the
    /// squared distances: column `i` of the result is the centre of `u` assigned to `reference`'s centre `i`.
    let align (reference: Matrix<float>) (u: Matrix<float>) : Matrix<float> =
        Linalg.checkShape "u" reference.RowCount reference.ColumnCount u
        let k = u.ColumnCount
        let cost = Array2D.init k k (fun i j -> let t = reference.Column(i) - u.Column(j) in t.DotProduct(t))
        let assign = Assignment.hungarian cost
        let out = Linalg.zeros u.RowCount k
        for i in 0 .. k - 1 do out.SetColumn(i, u.Column(assign.[i]))
        out
