namespace FunctionalAsymptotics.Asymptotics

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups
open FunctionalAsymptotics.Estimation

/// A Monte Carlo estimate with its jackknife standard error and confidence interval
/// `Value -/+ t_{B-1, (1+c)/2} StandardError` (docs/your-own-model.md, "Error bars").
type Estimate =
    { /// The pooled estimate.
      Value: float
      /// The jackknife standard error over batches.
      StandardError: float
      /// Lower end of the confidence interval.
      Lower: float
      /// Upper end of the confidence interval.
      Upper: float }

/// A quantile of the limit law `E_alpha` with its error bars.
type QuantileEstimate =
    { /// The probability `p` of the quantile.
      Probability: float
      /// `F^-1(p)` of `E_alpha`.
      Estimate: Estimate }

/// Options of the Monte Carlo law (`SpecLaw.monteCarlo`).
type MonteCarloLawOptions =
    { /// Seed of the pre-training Monte Carlo (`System.Random`).
      Seed: int
      /// Number of batches `B` of the jackknife (>= 2; default 20).
      Batches: int
      /// Pre-training samples (the initial sample when `TargetRelativeError` is set).
      Samples: int
      /// Grow the sample until the relative standard error of `E||L(Z)||^2` is at most this.
      TargetRelativeError: float option
      /// The cap of the sequential sample (`ConvergenceException` if reached before the target).
      MaxSamples: int
      /// Confidence level of the intervals (default 0.95).
      Confidence: float
      /// `alpha = m / n` for the quantiles of `E_alpha` (none: no quantiles).
      Alpha: float option
      /// Probabilities of the quantiles of `E_alpha`.
      Probabilities: float[]
      /// Validation of the specification (on by default).
      Validation: ValidationOptions
      /// Cancels the computation (`OperationCanceledException`, checked every 256 pre-training draws).
      Cancellation: System.Threading.CancellationToken
      /// Receives the pre-training draws done against the current target (every 256 draws).
      Progress: IProgress<WorkProgress> }

/// The limit law of a model by Monte Carlo, every number with error bars.
type MonteCarloLaw =
    { /// The pooled point estimates (route "horizontal (Monte Carlo)").
      Summary: AsymptoticSummary
      /// Pre-training samples used.
      Samples: int
      /// Batches of the jackknife.
      Batches: int
      /// The chi-square weights `lambda_j` (as many as `Summary.Weights`), descending.
      Weights: Estimate[]
      /// `E||L(Z)||^2 = sum_j lambda_j`.
      PretrainMean: Estimate
      /// The crossover `alpha_0`, when defined (`d_base > d_eff`, `sigma^2 > 0`).
      Alpha0: Estimate option
      /// Quantiles of `E_alpha` (empty unless `Alpha` is set).
      Quantiles: QuantileEstimate[]
      /// What the validation measured (none when it was switched off).
      Validation: ValidationReport option }

/// The limit law of a model with closed-form population moments.
type ExactLaw =
    { /// The horizontal route's summary.
      Summary: AsymptoticSummary
      /// What the validation measured (none when it was switched off).
      Validation: ValidationReport option }

/// The law of Theorem 5.1 for any model specification, validated first (docs/your-own-model.md): exact
/// with closed-form population moments, or by seeded Monte Carlo with jackknife error bars.
[<RequireQualifiedAccess>]
module SpecLaw =

    /// Seed 1, 20 batches, 20000 samples, no target (cap 10^6), 95% intervals, no quantiles (probabilities
    /// 0.5, 0.9, 0.95, 0.99 when `Alpha` is set), validation on, not cancellable, no progress reports.
    let defaultOptions =
        { Seed = 1; Batches = 20; Samples = 20000; TargetRelativeError = None; MaxSamples = 1_000_000; Confidence = 0.95
          Alpha = None; Probabilities = [| 0.5; 0.9; 0.95; 0.99 |]; Validation = Validation.defaultOptions
          Cancellation = System.Threading.CancellationToken.None; Progress = LongRun.none }

    let private eigenDirections (basis: Matrix<float>[]) (v: Matrix<float>) (idx: int[]) =
        idx |> Array.map (fun i -> basis |> Array.mapi (fun j b -> b * v.[j, i]) |> Array.reduce (+))

    /// The exact law: validation (shapes, symmetry, supplied derivatives including the population
    /// Hessian-vector product, `||grad L_pre(w*)||` at rounding level, the horizontal Hessian positive
    /// definite), then the horizontal route with the closed-form sandwich (`Sandwich.population`).
    /// Raises `InvalidArgumentException` when `spec.Population` is `None`.
    let exact (validation: ValidationOptions) (spec: ModelSpec<'Z>) : ExactLaw =
        if not validation.Enabled then { Summary = TwoStage.horizontal spec; Validation = None }
        else
            let inv, eqv, ders = Validation.checkSpecification validation spec
            let pop =
                match spec.Population with
                | Some p -> p
                | None -> Check.fail "spec.Population" "is None: the exact law needs closed-form population moments (use SpecLaw.monteCarlo)"
            let w = spec.WStar
            let basis = GroupAction.horizontalBasis spec.Action w
            let hH = Sandwich.inBasis basis (pop.HessianVector w)
            let lam, _ = Linalg.eigSymDesc hH
            let threshold = Validation.roundingThreshold validation lam w
            let gradNorm = Validation.checkCritical (pop.Gradient w) threshold Double.NaN
            TwoStage.checkRegular spec
            let sandwich = Sandwich.ofMatrices basis hH (pop.ScoreCovariance w basis)
            { Summary = TwoStage.horizontalWith sandwich spec
              Validation =
                Some { Invariance = inv; Equivariance = eqv; Derivatives = ders; GradientNorm = gradNorm
                       GradientThreshold = threshold; GradientStandardError = Double.NaN; HessianEigenvalues = lam
                       SmallestEigenvalueStandardError = Double.NaN } }

    /// Per-batch sums of the pre-training Monte Carlo on `Hor(w*)` (samples assigned round-robin).
    type private Sums =
        { Score: Vector<float>[]; ScoreOuter: Matrix<float>[]; Hessian: Matrix<float>[]; Counts: int[] }

    let private total (xs: Matrix<float>[]) = xs |> Array.reduce (+)

    /// The pooled mean of per-batch sums, leaving batch `leave` out (`-1`: all batches).
    let private pooled (sums: Matrix<float>[]) (tot: Matrix<float>) (counts: int[]) (leave: int) =
        let n = Array.sum counts
        if leave < 0 then tot / float n else (tot - sums.[leave]) / float (n - counts.[leave])

    let internal jackknife (confidence: float) (value: float) (replicates: float[]) =
        let b = float replicates.Length
        let m = Array.average replicates
        let se = sqrt ((b - 1.0) / b * (replicates |> Array.sumBy (fun r -> (r - m) * (r - m))))
        let t = MathNet.Numerics.Distributions.StudentT.InvCDF(0.0, 1.0, b - 1.0, 0.5 + confidence / 2.0)
        { Value = value; StandardError = se; Lower = value - t * se; Upper = value + t * se }

    let internal checkOptions (o: MonteCarloLawOptions) =
        if o.Batches < 2 then Check.fail "Batches" (sprintf "must be >= 2, got %d" o.Batches)
        if o.Samples < o.Batches then Check.fail "Samples" (sprintf "must be >= Batches = %d, got %d" o.Batches o.Samples)
        if o.MaxSamples < o.Samples then Check.fail "MaxSamples" (sprintf "must be >= Samples = %d, got %d" o.Samples o.MaxSamples)
        if not (o.Confidence > 0.0 && o.Confidence < 1.0) then Check.fail "Confidence" (sprintf "must be in (0, 1), got %g" o.Confidence)
        match o.TargetRelativeError with
        | Some t when not (t > 0.0 && Double.IsFinite t) -> Check.fail "TargetRelativeError" (sprintf "must be finite and > 0, got %g" t)
        | _ -> ()
        match o.Alpha with
        | Some a -> Check.positive "Alpha" a
        | None -> ()
        for p in o.Probabilities do
            if not (p > 0.0 && p < 1.0) then Check.fail "Probabilities" (sprintf "must lie in (0, 1), got %g" p)

    /// The sequential sample of `monteCarlo`: with `TargetRelativeError`, grows the sample (`drawTo`, by the
    /// factor `1.2 (se / target)^2` clamped to [1.25, 16]) until the relative standard error of
    /// `meanEstimate ()` meets the target, or raises `ConvergenceException` at `MaxSamples`. Returns the
    /// final estimate of `E||L(Z)||^2`.
    let internal growToTarget (options: MonteCarloLawOptions) (drawn: unit -> int) (drawTo: int -> unit) (meanEstimate: unit -> Estimate) : Estimate =
        let mutable meanEst = meanEstimate ()
        match options.TargetRelativeError with
        | Some target ->
            let rel (e: Estimate) = if e.Value = 0.0 then Double.PositiveInfinity else e.StandardError / abs e.Value
            while rel meanEst > target && drawn () < options.MaxSamples do
                let ratio = rel meanEst / target
                // The standard error falls like 1/sqrt(N): ratio^2 is the growth needed; 20% margin, at least
                // 25% and at most 16-fold per step.
                let next = float (drawn ()) * (1.2 * ratio * ratio |> max 1.25 |> min 16.0)
                drawTo (int (min (float options.MaxSamples) next))
                meanEst <- meanEstimate ()
            if rel meanEst > target then
                raise (ConvergenceException("Monte Carlo law (relative standard error of E||L(Z)||^2)", drawn (), rel meanEst, target))
        | None -> ()
        meanEst

    /// The law of `monteCarlo` from its pooled summary, the weights of the leave-one-batch-out replicates
    /// (`replicateWeights i`, batch `i` left out), the sample size, the estimate of `E||L(Z)||^2` and the
    /// validation report: jackknife error bars of the weights, `alpha_0` and the quantiles of `E_alpha`.
    let internal assemble (options: MonteCarloLawOptions) (summary: AsymptoticSummary) (replicateWeights: int -> float[])
                          (drawn: int) (meanEst: Estimate) (validation: ValidationReport option) : MonteCarloLaw =
        let weights = summary.Weights
        let repWeights =
            Array.init options.Batches (fun i ->
                let r = replicateWeights i
                Array.init weights.Length (fun j -> if j < r.Length then r.[j] else 0.0))
        let alpha0 =
            match AsymptoticSummary.alpha0 summary with
            | None -> None
            | Some a ->
                let factor = a / AsymptoticSummary.pretrainMean summary
                Some(jackknife options.Confidence a (repWeights |> Array.map (fun r -> factor * Array.sum r)))
        let quantiles =
            match options.Alpha with
            | None -> [||]
            | Some alpha ->
                let lawOf (wts: float[]) = LimitLaw.create summary.Sigma2 summary.DEff alpha (wts |> Array.filter (fun x -> x > 0.0))
                let point = lawOf weights
                let reps = repWeights |> Array.map lawOf
                options.Probabilities |> Array.map (fun pr ->
                    { Probability = pr
                      Estimate = jackknife options.Confidence (LimitLaw.quantile point pr) (reps |> Array.map (fun l -> LimitLaw.quantile l pr)) })
        { Summary = summary
          Samples = drawn
          Batches = options.Batches
          Weights = Array.init weights.Length (fun j -> jackknife options.Confidence weights.[j] (repWeights |> Array.map (fun r -> r.[j])))
          PretrainMean = meanEst
          Alpha0 = alpha0
          Quantiles = quantiles
          Validation = validation }

    /// The law by seeded Monte Carlo (docs/your-own-model.md). Pre-training samples `z_1, z_2, ...` from
    /// `Random(Seed)` (common random numbers: the same seed gives the same samples for any model) are
    /// assigned round-robin to `B` batches; per sample the score and Hessian on `Hor(w*)` (analytic, or
    /// `Derivatives.scoreAndHessian`). A sampled representation's `L2(mu_down)` moments are batched the same
    /// way over its own draws. Every number is a smooth function of the pooled means; its standard error is
    /// the jackknife over leave-one-batch-out pooled estimates, its interval uses Student's t with `B - 1`
    /// degrees of freedom. Only pooled Hessians are inverted. With `TargetRelativeError` the sample grows
    /// (by the factor `1.2 (se / target)^2`, clamped to [1.25, 16]) until the relative standard error of `E||L(Z)||^2` meets it, or raises
    /// `ConvergenceException` at `MaxSamples` with the error reached. Validation (on by default) runs the
    /// specification checks first, then tests `w*` as a critical point (`||mean score|| <= k se + rounding`)
    /// and the pooled horizontal Hessian (a negative eigenvalue `k` standard errors below 0:
    /// `NotLocalMinimiserException`; one within `k` standard errors of 0: `NotIdentifiableException`).
    let monteCarlo (options: MonteCarloLawOptions) (spec: ModelSpec<'Z>) : MonteCarloLaw =
        checkOptions options
        let vopts = options.Validation
        let specChecks = if vopts.Enabled then Some(Validation.checkSpecification vopts spec) else None
        TwoStage.checkRegular spec
        let w = spec.WStar
        let basis = GroupAction.horizontalBasis spec.Action w
        let n = basis.Length
        let bCount = options.Batches
        let sums =
            { Score = Array.init bCount (fun _ -> DenseVector(n) :> Vector<float>)
              ScoreOuter = Array.init bCount (fun _ -> DenseMatrix(n, n) :> Matrix<float>)
              Hessian = Array.init bCount (fun _ -> DenseMatrix(n, n) :> Matrix<float>)
              Counts = Array.zeroCreate bCount }
        let rng = Random options.Seed
        let mutable drawn = 0
        let drawTo (target: int) =
            while drawn < target do
                if drawn % 256 = 0 then
                    options.Cancellation.ThrowIfCancellationRequested()
                    options.Progress.Report { Completed = drawn; Total = target }
                let b = drawn % bCount
                let z = spec.Pretraining.Sample rng
                let g, h = Derivatives.scoreAndHessian spec.Pretraining w basis z
                let gv = DenseVector(g)
                sums.Score.[b].Add(gv, sums.Score.[b])
                sums.ScoreOuter.[b].Add(gv.OuterProduct gv, sums.ScoreOuter.[b])
                sums.Hessian.[b].Add(h, sums.Hessian.[b])
                sums.Counts.[b] <- sums.Counts.[b] + 1
                drawn <- drawn + 1
        // Downstream moments: exact Gram (linear-Gaussian) or batched second moments of u(x).
        let p = spec.ThetaStar.Length
        let gramAt : int -> Matrix<float> =
            match spec.Representation with
            | LinearGaussian _ ->
                let g = TwoStage.gram spec.Representation w spec.ThetaStar basis
                fun _ -> g
            | Sampled r ->
                let down = Array.init bCount (fun _ -> DenseMatrix(p + n, p + n) :> Matrix<float>)
                let counts = Array.zeroCreate bCount
                let drng = Random r.Seed
                for i in 0 .. r.Count - 1 do
                    let u = DenseVector(TwoStage.sampledFeatureVector r w spec.ThetaStar basis (r.Sample drng))
                    down.[i % bCount].Add(u.OuterProduct u, down.[i % bCount])
                    counts.[i % bCount] <- counts.[i % bCount] + 1
                if Array.contains 0 counts then
                    Check.fail "spec.Representation.Count" (sprintf "must be >= Batches = %d, got %d" bCount r.Count)
                let tot = total down
                fun leave -> TwoStage.gramOfMoments (Linalg.sym (pooled down tot counts leave)) p
        let hessianAt leave = Linalg.sym (pooled sums.Hessian (total sums.Hessian) sums.Counts leave)
        let sandwichAt leave =
            Sandwich.ofMatrices basis (hessianAt leave) (Linalg.sym (pooled sums.ScoreOuter (total sums.ScoreOuter) sums.Counts leave))
        let weightsAt leave =
            let s = sandwichAt leave
            let g = gramAt leave
            s, g, TwoStage.weightsOf s.Covariance g
        let replicates f = Array.init bCount f
        let meanEstimate () =
            let _, _, wts = weightsAt -1
            jackknife options.Confidence (Array.sum wts) (replicates (fun i -> let _, _, r = weightsAt i in Array.sum r))
        drawTo options.Samples
        // Critical point and Hessian within the Monte Carlo error (before any growth of the sample).
        let pointChecks =
            if not vopts.Enabled then None
            else
                let k = vopts.StandardErrors
                let nTot = float drawn
                let mean = (sums.Score |> Array.reduce (+)) / nTot
                let second = Linalg.sym (total sums.ScoreOuter / nTot)
                let cov = second - mean.OuterProduct mean
                let se = sqrt (max 0.0 (cov.Trace()) / nTot)
                let lam, vecs = Linalg.eigSymDesc (hessianAt -1)
                let threshold = k * se + Validation.roundingThreshold vopts lam w
                let gradient = Array.fold2 (fun (acc: Matrix<float>) (b: Matrix<float>) c -> acc + b * c) (Linalg.zeros w.RowCount w.ColumnCount) basis (mean.ToArray())
                let gradNorm = Validation.checkCritical gradient threshold se
                let lamMinSe =
                    if n = 0 then Double.NaN
                    else (jackknife options.Confidence lam.[n - 1] (replicates (fun i -> let l, _ = Linalg.eigSymDesc (hessianAt i) in l.[n - 1]))).StandardError
                if n > 0 then
                    let cut = Sandwich.defaultIdentifiabilityTolerance * (lam |> Array.map abs |> Array.max)
                    let negative = [| for i in 0 .. n - 1 do if lam.[i] < -(max cut (k * lamMinSe)) then yield i |]
                    if negative.Length > 0 then
                        raise (NotLocalMinimiserException(eigenDirections basis vecs negative, negative |> Array.map (fun i -> lam.[i])))
                    let flat = max cut (k * lamMinSe)
                    let zero = [| for i in 0 .. n - 1 do if lam.[i] <= flat then yield i |]
                    if zero.Length > 0 then
                        raise (NotIdentifiableException(eigenDirections basis vecs zero, zero |> Array.map (fun i -> lam.[i]), flat))
                Some(gradNorm, threshold, se, lam, lamMinSe)
        let meanEst = growToTarget options (fun () -> drawn) drawTo meanEstimate
        let sandwich, g, weights = weightsAt -1
        let summary =
            { Route = "horizontal (Monte Carlo)"
              DEff = TwoStage.effectiveDimension spec.Representation w
              DBase = TwoStage.baselineDimension spec.Representation w spec.ThetaStar
              Sigma2 = spec.Sigma2
              Gram = g
              Covariance = sandwich.Covariance
              Weights = weights }
        let validation =
            match specChecks, pointChecks with
            | Some (inv, eqv, ders), Some (gn, th, se, lam, lse) ->
                Some { Invariance = inv; Equivariance = eqv; Derivatives = ders; GradientNorm = gn; GradientThreshold = th
                       GradientStandardError = se; HessianEigenvalues = lam; SmallestEigenvalueStandardError = lse }
            | _ -> None
        assemble options summary (fun i -> let _, _, r = weightsAt i in r) drawn meanEst validation
