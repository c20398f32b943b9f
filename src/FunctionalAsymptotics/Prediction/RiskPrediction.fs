namespace FunctionalAsymptotics.Prediction

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics

/// How a prediction is made: the target sample sizes, the bootstrap and the risk curve.
type PredictionSettings =
    { /// The downstream sample size `n` to predict for (`None`: the labelled file's row count).
      N: int option
      /// The pre-training sample size `m` to predict for (`None`: the unlabelled file's row count).
      M: int option
      /// Bootstrap replicates (0: no uncertainty; then standard errors and intervals are NaN).
      Bootstrap: int
      /// The bootstrap seed.
      Seed: uint64
      /// Confidence level of the intervals (e.g. 0.95).
      Level: float
      /// Worker threads of the bootstrap (<= 0: all cores); results do not depend on it.
      Threads: int
      /// Points of the risk curve (log-spaced in alpha).
      CurvePoints: int
      /// Monte Carlo draws of the predictive law (`PredictiveLaw.draw`; seeded by `Seed`).
      PredictiveDraws: int }

/// One point of the predicted risk curve at `alpha = m/n` (the user's `n`): the predictive law of `n(R - sigma^2)`
/// (`PredictiveLaw`: finite-`n` variance factor and estimation error) and the limit law (Theorem 5.1) at the estimate.
type RiskCurvePoint =
    { /// `alpha = m / n`.
      Alpha: float
      /// The mean of the predictive law.
      Mean: float
      /// The 5% quantile of the predictive law.
      Q05: float
      /// The 95% quantile of the predictive law.
      Q95: float
      /// The mean `sigma^2 d_eff + E||L(Z)||^2 / alpha` of the limit law at the estimate.
      LawMean: float
      /// The 5% quantile of the limit law at the estimate.
      LawQ05: float
      /// The 95% quantile of the limit law at the estimate.
      LawQ95: float
      /// The bootstrap percentile interval of the mean at this alpha.
      MeanLower: float
      /// Upper end of that interval.
      MeanUpper: float }

/// The prediction from data: the estimated limit law of `n(R - sigma^2)` at the user's `n` and `m`, its
/// uncertainty, and the crossover with downstream-only training (docs/predict.md).
type RiskPrediction =
    { /// The model ("factor", or a user model's name).
      Model: string
      /// Rows of the unlabelled data.
      UnlabelledRows: int
      /// Rows of the labelled data.
      LabelledRows: int
      /// The downstream sample size predicted for.
      N: int
      /// The pre-training sample size predicted for.
      M: int
      /// `alpha = m / n`.
      Alpha: float
      /// `d_eff` at the estimate.
      DEff: int
      /// `d_base` at the estimate.
      DBase: int
      /// The estimated chi-square weights `lambda_j` of `||L(Z)||^2`, descending.
      Weights: float[]
      /// The fitted `theta_hat`.
      Theta: float[]
      /// `sigma^2`.
      Sigma2: BootstrapInterval
      /// `E||L(Z)||^2 = sum_j lambda_j`.
      PretrainMean: BootstrapInterval
      /// `alpha_0 = E||L(Z)||^2 / (sigma^2 (d_base - d_eff))` (+infinity when `d_base <= d_eff`).
      Alpha0: BootstrapInterval
      /// `m_0 = alpha_0 n`: the unlabelled sample size at which pre-training pays off on average at `n`.
      UnlabelledToPayOff: BootstrapInterval
      /// The downstream-only baseline `sigma^2 d_base` (limit of `n(R - sigma^2)` without pre-training).
      Baseline: BootstrapInterval
      /// The mean of the limit law of `n(R - sigma^2)` at the estimate, at the user's alpha.
      Mean: BootstrapInterval
      /// Its 5% quantile.
      Q05: BootstrapInterval
      /// Its median.
      Q50: BootstrapInterval
      /// Its 95% quantile.
      Q95: BootstrapInterval
      /// The predictive law of `n(R - sigma^2)` at the user's `n` and `m` (`PredictiveLaw`): the band to expect
      /// the realised risk of one run in.
      Predictive: PredictiveSummary
      /// The predicted risk curve against alpha.
      RiskCurve: RiskCurvePoint[]
      /// Bootstrap replicates asked for.
      Bootstrap: int
      /// Replicates on which the estimator failed (listed in `Failures`); intervals use the others.
      BootstrapFailures: string[]
      /// The bootstrap seed.
      Seed: uint64
      /// The confidence level.
      Level: float }

/// Predictions from data (docs/predict.md).
[<RequireQualifiedAccess>]
module RiskPrediction =

    /// Default settings: the data's own sizes, 200 bootstrap replicates, seed 1, 95% intervals, all cores,
    /// 41 curve points, `PredictiveLaw.DefaultDraws` predictive draws.
    let defaults : PredictionSettings =
        { N = None; M = None; Bootstrap = 200; Seed = 1UL; Level = 0.95; Threads = 0; CurvePoints = 41
          PredictiveDraws = PredictiveLaw.DefaultDraws }

    /// The scalar statistics of one estimate at `alpha` and `n`: `[| sigma^2; E||L||^2; alpha0; m0; baseline;
    /// mean; q05; q50; q95 |]`.
    let statistics (alpha: float) (n: int) (s: AsymptoticSummary) : float[] =
        let law = AsymptoticSummary.limitLaw alpha s
        let a0 = defaultArg (AsymptoticSummary.alpha0 s) Double.PositiveInfinity
        [| s.Sigma2; AsymptoticSummary.pretrainMean s; a0; a0 * float n; s.Sigma2 * float s.DBase
           LimitLaw.mean law; LimitLaw.quantile law 0.05; LimitLaw.quantile law 0.5; LimitLaw.quantile law 0.95 |]

    /// The alpha grid of the curve: `points` log-spaced values over `[min(alpha, alpha0) / 30, max(alpha, alpha0) * 30]`.
    let curveAlphas (points: int) (alpha: float) (alpha0: float) : float[] =
        let a0 = if Double.IsFinite alpha0 && alpha0 > 0.0 then alpha0 else alpha
        let lo, hi = log10 (min alpha a0 / 30.0), log10 (max alpha a0 * 30.0)
        Array.init points (fun i -> 10.0 ** (lo + (hi - lo) * float i / float (max 1 (points - 1))))

    /// Runs `estimator` on the data and `replicateEstimator estimate` (given the estimate on the data) on
    /// `settings.Bootstrap` resamples, and assembles the prediction. Raises `InvalidArgumentException` for bad
    /// settings before any estimation.
    let predictWith (model: string) (estimator: PlugInEstimator) (replicateEstimator: PlugInEstimate -> PlugInEstimator)
                    (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        let m0, n0 = data.Unlabelled.Rows, data.Labelled.Rows
        let n = defaultArg settings.N n0
        let m = defaultArg settings.M m0
        if n < 1 then Check.fail "n" (sprintf "must be >= 1, got %d" n)
        if m < 1 then Check.fail "m" (sprintf "must be >= 1, got %d" m)
        if settings.Bootstrap < 0 then Check.fail "bootstrap" (sprintf "must be >= 0, got %d" settings.Bootstrap)
        if settings.Bootstrap = 1 then Check.fail "bootstrap" "must be 0 (none) or >= 2"
        if not (settings.Level > 0.0 && settings.Level < 1.0) then Check.fail "level" (sprintf "must be in (0, 1), got %g" settings.Level)
        if settings.CurvePoints < 2 then Check.fail "curvePoints" (sprintf "must be >= 2, got %d" settings.CurvePoints)
        if settings.PredictiveDraws < 2 then Check.fail "predictiveDraws" (sprintf "must be >= 2, got %d" settings.PredictiveDraws)
        let alpha = float m / float n
        let estimate = estimator data (Array.create m0 1.0) (Array.create n0 1.0)
        let s = estimate.Summary
        let point = statistics alpha n s
        let t = PredictiveLaw.varianceFactorsOf estimate n settings.Seed settings.Threads
        let again = replicateEstimator estimate
        let replicates = Bootstrap.run settings.Seed settings.Bootstrap settings.Threads m0 n0 (fun wu wl -> (again data wu wl).Summary)
        let ok = replicates |> Array.choose (function Ok r -> Some r | Error _ -> None)
        let failures = replicates |> Array.mapi (fun b r -> match r with Error e -> Some(sprintf "replicate %d: %s" b e) | Ok _ -> None) |> Array.choose id
        let stats = ok |> Array.map (statistics alpha n)
        let interval i = Bootstrap.interval settings.Level point.[i] (stats |> Array.map (fun st -> st.[i]))
        let draws = PredictiveLaw.ofFits estimate ok t settings.PredictiveDraws settings.Seed settings.Threads
        let alphas = curveAlphas settings.CurvePoints alpha point.[2]
        let curve =
            alphas |> Array.map (fun a ->
                let law = AsymptoticSummary.limitLaw a s
                let predictive = PredictiveLaw.at a draws
                let meanAt (r: AsymptoticSummary) = r.Sigma2 * float r.DEff + AsymptoticSummary.pretrainMean r / a
                let band = Bootstrap.interval settings.Level (meanAt s) (ok |> Array.map meanAt)
                { Alpha = a; Mean = predictive.Mean; Q05 = predictive.Q05; Q95 = predictive.Q95
                  LawMean = LimitLaw.mean law; LawQ05 = LimitLaw.quantile law 0.05; LawQ95 = LimitLaw.quantile law 0.95
                  MeanLower = band.Lower; MeanUpper = band.Upper })
        { Model = model; UnlabelledRows = m0; LabelledRows = n0; N = n; M = m; Alpha = alpha
          DEff = s.DEff; DBase = s.DBase; Weights = Array.copy s.Weights; Theta = Array.copy estimate.Theta
          Sigma2 = interval 0; PretrainMean = interval 1; Alpha0 = interval 2; UnlabelledToPayOff = interval 3
          Baseline = interval 4; Mean = interval 5; Q05 = interval 6; Q50 = interval 7; Q95 = interval 8
          Predictive = PredictiveLaw.at alpha draws
          RiskCurve = curve; Bootstrap = settings.Bootstrap; BootstrapFailures = failures
          Seed = settings.Seed; Level = settings.Level }

    /// `predictWith` with the same estimator on the data and on every resample.
    let predict (model: string) (estimator: PlugInEstimator) (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        predictWith model estimator (fun _ -> estimator) settings data

    /// The factor model's prediction with `k` factors (`FactorPlugIn.estimator`).
    let factor (k: int) (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        predict "factor" (FactorPlugIn.estimator k) settings data

    /// Reads the two files (CSV or Parquet, see `DataFile`) and predicts for the factor model with `k` factors.
    let factorFromFiles (k: int) (settings: PredictionSettings) (unlabelledPath: string) (labelledPath: string) : RiskPrediction =
        if k < 1 then Check.fail "k" (sprintf "must be >= 1, got %d" k)
        factor k settings (DataFile.readPair (k + 2) unlabelledPath labelledPath)

    /// The Gaussian mixture's prediction with `k` components (`MixturePlugIn.estimator`, EM settings `o`): the
    /// bootstrap replicates refit EM from the centres fitted to the data (`MixturePlugIn.replicateEstimator`).
    let gmmWith (o: FunctionalAsymptotics.Models.EmOptions) (k: int) (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        predictWith "gmm" (MixturePlugIn.estimator o k) (fun e -> MixturePlugIn.replicateEstimator o e.Representation) settings data

    /// `gmmWith MixturePlugIn.defaultEmOptions`.
    let gmm (k: int) (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        gmmWith MixturePlugIn.defaultEmOptions k settings data

    /// Reads the two files (CSV or Parquet, see `DataFile`) and predicts for the Gaussian mixture with `k`
    /// components (each file needs more than `K^2` rows, the number of features).
    let gmmFromFiles (k: int) (settings: PredictionSettings) (unlabelledPath: string) (labelledPath: string) : RiskPrediction =
        if k < 2 then Check.fail "K" (sprintf "must be >= 2, got %d" k)
        gmm k settings (DataFile.readPair (k * k + 1) unlabelledPath labelledPath)

    /// A user's model (`UserModelPlugIn.estimator spec fit`): `fit rows` returns an empirical minimiser of the
    /// pre-training loss over the unlabelled rows.
    let userModel (spec: FunctionalAsymptotics.Estimation.ModelSpec<float[]>) (fit: float[][] -> MathNet.Numerics.LinearAlgebra.Matrix<float>)
                  (settings: PredictionSettings) (data: PredictionData) : RiskPrediction =
        predict spec.Name (UserModelPlugIn.estimator spec fit) settings data
