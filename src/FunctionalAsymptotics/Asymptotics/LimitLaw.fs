namespace FunctionalAsymptotics.Asymptotics

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions

/// The limit law of Theorem 5.1 (paper L395–L420, docs/theory.md section 4):
/// `n (R - sigma^2) => E_alpha = sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1`, independent chi-squares.
/// The OLS term `sigma^2 d_eff` is a constant; the pre-training term `||L(Z)||^2 = sum_j lambda_j chi^2_1`
/// is a generalized chi-square with the non-negative weights `lambda_j` (eigenvalues of `V^1/2 G V^1/2`).
[<Sealed>]
type LimitLaw internal (sigma2: float, dEff: int, alpha: float, weights: float[]) =
    let positive = weights |> Array.filter (fun w -> w > 0.0)
    let pretraining =
        if positive.Length = 0 then None else Some(GeneralizedChiSquare.ofWeights positive)
    let total =
        pretraining |> Option.map (fun q -> q |> GeneralizedChiSquare.rescale (1.0 / alpha) |> GeneralizedChiSquare.shift (sigma2 * float dEff))
    /// Noise variance `sigma^2` of the downstream labels.
    member _.Sigma2 = sigma2
    /// Effective dimension `d_eff = rank Sigma(Omega*)`.
    member _.DEff = dEff
    /// Ratio `alpha = m / n` of pre-training to downstream sample sizes.
    member _.Alpha = alpha
    /// The chi-square weights `lambda_j >= 0` of `||L(Z)||^2` (a copy, as given, zeros included).
    member _.Weights = Array.copy weights
    /// The OLS term `sigma^2 d_eff`.
    member _.OlsTerm = sigma2 * float dEff
    /// `E ||L(Z)||^2 = sum_j lambda_j = tr(V G)`.
    member _.PretrainingMean = Array.sum positive
    /// The pre-training term `||L(Z)||^2 = sum_j lambda_j chi^2_1`, or `None` when every weight is zero.
    member _.PretrainingTerm = pretraining
    /// The whole limit `E_alpha` as a generalized chi-square, or `None` when it is the point mass `sigma^2 d_eff`.
    member _.Distribution = total
    /// `E E_alpha = sigma^2 d_eff + alpha^-1 sum_j lambda_j`.
    member this.Mean = this.OlsTerm + this.PretrainingMean / alpha
    /// `Var E_alpha = 2 alpha^-2 sum_j lambda_j^2`.
    member _.Variance = 2.0 * (positive |> Array.sumBy (fun w -> w * w)) / (alpha * alpha)
    override this.ToString() =
        sprintf "E_alpha = %g * %d + (1/%g) * sum_j lambda_j chi2_1, lambda = [%s]" sigma2 dEff alpha
            (String.Join(", ", positive |> Array.map (sprintf "%.6g")))

/// Functions on `LimitLaw`.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module LimitLaw =

    /// The law `sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1` (Theorem 5.1). `sigma2 >= 0`,
    /// `dEff >= 0`, `alpha > 0`, and the weights finite and `>= 0` (zero weights are allowed and dropped).
    let create (sigma2: float) (dEff: int) (alpha: float) (weights: float[]) =
        if not (Double.IsFinite sigma2) || sigma2 < 0.0 then Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
        if dEff < 0 then Check.fail "dEff" (sprintf "must be >= 0, got %d" dEff)
        Check.positive "alpha" alpha
        if isNull (box weights) then Check.fail "weights" "must not be null"
        Check.finiteArray "weights" weights
        weights |> Array.iteri (fun j w -> if w < 0.0 then Check.fail "weights" (sprintf "must be >= 0, but weights[%d] = %g" j w))
        LimitLaw(sigma2, dEff, alpha, Array.copy weights)

    /// `E E_alpha`.
    let mean (law: LimitLaw) = law.Mean
    /// `Var E_alpha`.
    let variance (law: LimitLaw) = law.Variance

    /// `P(E_alpha <= t)`.
    let cdf (law: LimitLaw) (t: float) =
        match law.Distribution with
        | Some q -> GeneralizedChiSquare.cdf q t
        | None -> if t >= law.OlsTerm then 1.0 else 0.0

    /// `P(E_alpha > t)`.
    let sf (law: LimitLaw) (t: float) =
        match law.Distribution with
        | Some q -> GeneralizedChiSquare.sf q t
        | None -> if t >= law.OlsTerm then 0.0 else 1.0

    /// The t with `P(E_alpha <= t) = p`.
    let quantile (law: LimitLaw) (p: float) =
        Check.probability "p" p
        match law.Distribution with
        | Some q -> GeneralizedChiSquare.quantile q p
        | None -> law.OlsTerm

    /// The high-probability bound `t(delta)` with `P(E_alpha >= t(delta)) = delta` (paper L230–L245):
    /// asymptotically, the scaled excess risk exceeds `t(delta)` with probability `delta`.
    let exceedanceThreshold (law: LimitLaw) (delta: float) =
        Check.probability "delta" delta
        match law.Distribution with
        | Some q -> GeneralizedChiSquare.isf q delta
        | None -> law.OlsTerm

    /// `count` independent draws of `E_alpha`, reproducible from `seed`.
    let sample (seed: uint64) (count: int) (law: LimitLaw) =
        match law.Distribution with
        | Some q -> GeneralizedChiSquare.sample seed count q
        | None ->
            if count < 0 then Check.fail "count" (sprintf "must be >= 0, got %d" count)
            Array.create count law.OlsTerm
