namespace FunctionalAsymptotics.Asymptotics

open FunctionalAsymptotics.Distributions

/// The limit law of Theorem 5.1 (paper L395–L420, docs/theory.md section 4):
/// `n (R - sigma^2) => E_alpha = sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1`, independent chi-squares.
/// The OLS term `sigma^2 d_eff` is a constant; the pre-training term `||L(Z)||^2 = sum_j lambda_j chi^2_1`
/// is a generalized chi-square with the non-negative weights `lambda_j` (eigenvalues of `V^1/2 G V^1/2`).
[<Sealed>]
type LimitLaw =
    /// Noise variance `sigma^2` of the downstream labels.
    member Sigma2: float
    /// Effective dimension `d_eff = rank Sigma(Omega*)`.
    member DEff: int
    /// Ratio `alpha = m / n` of pre-training to downstream sample sizes.
    member Alpha: float
    /// The chi-square weights `lambda_j >= 0` of `||L(Z)||^2` (a copy, as given, zeros included).
    member Weights: float[]
    /// The OLS term `sigma^2 d_eff`.
    member OlsTerm: float
    /// `E ||L(Z)||^2 = sum_j lambda_j = tr(V G)`.
    member PretrainingMean: float
    /// The pre-training term `||L(Z)||^2 = sum_j lambda_j chi^2_1`, or `None` when every weight is zero.
    member PretrainingTerm: GeneralizedChiSquare option
    /// The whole limit `E_alpha` as a generalized chi-square, or `None` when it is the point mass
    /// `sigma^2 d_eff`.
    member Distribution: GeneralizedChiSquare option
    /// `E E_alpha = sigma^2 d_eff + alpha^-1 sum_j lambda_j`.
    member Mean: float
    /// `Var E_alpha = 2 alpha^-2 sum_j lambda_j^2`.
    member Variance: float
    /// A one-line description of the law.
    override ToString: unit -> string

/// Functions on `LimitLaw`.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module LimitLaw =

    /// The law `sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1` (Theorem 5.1). `sigma2 >= 0`,
    /// `dEff >= 0`, `alpha > 0`, and the weights finite and `>= 0` (zero weights are allowed and dropped).
    /// Bad input raises `InvalidArgumentException` naming the argument.
    val create: sigma2: float -> dEff: int -> alpha: float -> weights: float[] -> LimitLaw

    /// `E E_alpha`.
    val mean: law: LimitLaw -> float
    /// `Var E_alpha`.
    val variance: law: LimitLaw -> float
    /// `P(E_alpha <= t)`.
    val cdf: law: LimitLaw -> t: float -> float
    /// `P(E_alpha > t)`.
    val sf: law: LimitLaw -> t: float -> float
    /// The t with `P(E_alpha <= t) = p`.
    val quantile: law: LimitLaw -> p: float -> float
    /// The high-probability bound `t(delta)` with `P(E_alpha >= t(delta)) = delta` (paper L230–L245):
    /// asymptotically, the scaled excess risk exceeds `t(delta)` with probability `delta`.
    val exceedanceThreshold: law: LimitLaw -> delta: float -> float
    /// `count` independent draws of `E_alpha`, reproducible from `seed`.
    val sample: seed: uint64 -> count: int -> law: LimitLaw -> float[]
