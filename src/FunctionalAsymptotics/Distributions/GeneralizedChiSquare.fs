namespace FunctionalAsymptotics.Distributions

open System
open FunctionalAsymptotics

/// The generalized chi-square law `Q = c + s * sum_j w_j chi^2_{k_j}(lambda_j)` with independent terms:
/// offset `c`, scale `s > 0`, non-zero weights `w_j` of either sign, integer degrees of freedom
/// `k_j >= 1` and noncentralities `lambda_j >= 0`. Theorem 5.1's limit law is of this family.
/// Immutable; construct it with `GeneralizedChiSquare.create`.
[<Sealed>]
type GeneralizedChiSquare internal (weights: float[], dofs: int[], noncentralities: float[], offset: float, scale: float) =
    // Exact scale equivariance: every evaluation works with the normalised law
    // `Y = sum_j (w_j / 2^e) chi^2_{k_j}(lambda_j)`, `2^e` the power of two just above `max |w_j|` (so `|w_j| / 2^e` is
    // in (0, 1] and the division exact), and the point `y = (x - c) / (s 2^e)`, formed as
    // `scaleB((x - c) / m, -(e + f))` with `s = m 2^f`, `m` in [1, 2): no product of scales is ever formed, so
    // nothing over- or underflows for any finite weights and scale.
    let exponent = Math.ILogB(weights |> Array.map abs |> Array.max) + 1
    let scaleExponent = Math.ILogB scale
    let scaleMantissa = Math.ScaleB(scale, -scaleExponent)
    let totalExponent = exponent + scaleExponent
    let normalised = weights |> Array.map (fun w -> Math.ScaleB(w, -exponent))
    let allPositive = weights |> Array.forall (fun w -> w > 0.0)
    let allNegative = weights |> Array.forall (fun w -> w < 0.0)
    // Moments of Y. `varY` overflows only for noncentralities near the largest double; `logVarY` is then
    // formed from terms halved and divided by the count, whose sum cannot overflow.
    let meanY =
        let mutable acc = 0.0
        for j in 0 .. weights.Length - 1 do acc <- acc + normalised.[j] * (float dofs.[j] + noncentralities.[j])
        acc
    let varY =
        let mutable acc = 0.0
        for j in 0 .. weights.Length - 1 do
            acc <- acc + normalised.[j] * normalised.[j] * (float dofs.[j] + 2.0 * noncentralities.[j])
        2.0 * acc
    let logVarY =
        if Double.IsFinite varY then Math.Log varY
        else
            let mutable acc = 0.0
            let n = float weights.Length
            for j in 0 .. weights.Length - 1 do
                let w2 = normalised.[j] * normalised.[j]
                acc <- acc + (0.5 * w2 * float dofs.[j] + w2 * noncentralities.[j]) / n
            Math.Log(4.0 * n) + Math.Log acc
    let logScale = Math.Log scaleMantissa + float totalExponent * Math.Log 2.0
    // Point-independent work, done once per law and shared by all evaluations (thread-safe lazies).
    let rubenTerms = lazy (Ruben.merge (normalised |> Array.map abs) dofs noncentralities)
    let rubenPlan = lazy (Ruben.Plan(rubenTerms.Force()))
    let rubenEstimate = lazy (Ruben.estimatedTerms (rubenTerms.Force()) 1e-14)
    let imhofTerms = lazy (Imhof.create normalised dofs noncentralities)
    /// The weights `w_j` (a copy).
    member _.Weights = Array.copy weights
    /// The degrees of freedom `k_j` (a copy).
    member _.Dofs = Array.copy dofs
    /// The noncentralities `lambda_j` (a copy).
    member _.Noncentralities = Array.copy noncentralities
    /// The offset `c`.
    member _.Offset = offset
    /// The scale `s > 0`.
    member _.Scale = scale
    /// Number of terms.
    member _.Count = weights.Length
    member internal _.W = weights
    member internal _.K = dofs
    member internal _.L = noncentralities
    member internal _.AllPositive = allPositive
    member internal _.AllNegative = allNegative
    /// The normalised weights `w_j / 2^e`, in (0, 1] in absolute value.
    member internal _.NormalisedWeights = normalised
    /// `E Y` and `log Var Y` of the normalised law.
    member internal _.MeanY = meanY
    member internal _.StandardDeviationY = if Double.IsFinite varY then Math.Sqrt varY else Math.Exp(0.5 * logVarY)
    member internal _.VarianceY = varY
    /// The normalised point `y = (x - c) / (s 2^e)`.
    member internal _.ToY(x: float) = Math.ScaleB((x - offset) / scaleMantissa, -totalExponent)
    /// The point `x = c + s 2^e y`.
    member internal _.OfY(y: float) = offset + Math.ScaleB(y * scaleMantissa, totalExponent)
    /// A density of Y at y as one of Q: divided by `s 2^e`.
    member internal _.DensityOfY(f: float) = Math.ScaleB(f / scaleMantissa, -totalExponent)
    /// Ruben's plan on `|w|` (meaningful for same-sign weights only).
    member internal _.RubenPlan = rubenPlan.Force()
    member internal _.RubenEstimatedTerms = rubenEstimate.Force()
    member internal _.ImhofTerms = imhofTerms.Force()
    /// `E Q = c + s sum_j w_j (k_j + lambda_j)`; an infinity (of the right sign) only when `|E Q|` exceeds the
    /// largest double (then `LogAbsMean` gives it).
    member this.Mean = this.OfY meanY
    /// `log |E Q|`: finite whenever `E Q <> 0`, also where `E Q` overflows.
    member this.LogAbsMean =
        let m = this.Mean
        if Double.IsFinite m then Math.Log(abs m)
        else Math.Log(abs meanY) + logScale
    /// `Var Q = 2 s^2 sum_j w_j^2 (k_j + 2 lambda_j)`; `+infinity` only when it exceeds the largest double
    /// (then `LogVariance` gives it), never 0 by underflow unless below the smallest double.
    member _.Variance = Math.ScaleB(varY * scaleMantissa * scaleMantissa, 2 * totalExponent)
    /// `log Var Q`, finite for every law (where `Var Q` itself over- or underflows).
    member _.LogVariance = logVarY + 2.0 * logScale
    /// `sqrt(Var Q)`.
    member _.StandardDeviation =
        if Double.IsFinite varY then Math.ScaleB(Math.Sqrt varY * scaleMantissa, totalExponent)
        else Math.Exp(0.5 * logVarY + logScale)
    /// Skewness `8 sum w^3 (k + 3 lambda) / (2 sum w^2 (k + 2 lambda))^{3/2}` (scale- and offset-free).
    member _.Skewness =
        let mutable k3 = 0.0
        for j in 0 .. weights.Length - 1 do
            let w = normalised.[j]
            k3 <- k3 + w * w * w * (float dofs.[j] + 3.0 * noncentralities.[j])
        8.0 * k3 / (if Double.IsFinite varY then varY ** 1.5 else Math.Exp(1.5 * logVarY))
    override this.ToString() =
        let terms =
            Array.init weights.Length (fun j ->
                if noncentralities.[j] = 0.0 then sprintf "%g chi2_%d" weights.[j] dofs.[j]
                else sprintf "%g chi2_%d(%g)" weights.[j] dofs.[j] noncentralities.[j])
        sprintf "%g + %g * (%s)" offset scale (String.Join(" + ", terms))

/// Functions on `GeneralizedChiSquare` (MathNet style: the type above, the verbs here).
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module GeneralizedChiSquare =

    /// `c + s * sum_j w_j chi^2_{k_j}(lambda_j)`. Raises `InvalidArgumentException` (naming the argument)
    /// for empty or mismatched arrays, a zero or non-finite weight, `k_j < 1`, `lambda_j < 0` or
    /// non-finite, a non-finite offset, or a scale that is not finite and positive.
    let create (weights: float[]) (dofs: int[]) (noncentralities: float[]) (offset: float) (scale: float) =
        Check.nonEmpty "weights" weights
        Check.finiteArray "weights" weights
        if isNull (box dofs) then Check.fail "dofs" "must not be null"
        if isNull (box noncentralities) then Check.fail "noncentralities" "must not be null"
        Check.sameLength "dofs" weights.Length dofs.Length
        Check.sameLength "noncentralities" weights.Length noncentralities.Length
        for j in 0 .. weights.Length - 1 do
            if weights.[j] = 0.0 then Check.fail "weights" (sprintf "must be non-zero, but weights[%d] = 0" j)
            if dofs.[j] < 1 then Check.fail "dofs" (sprintf "must be integers >= 1, but dofs[%d] = %d" j dofs.[j])
        Check.finiteArray "noncentralities" noncentralities
        for j in 0 .. noncentralities.Length - 1 do
            if noncentralities.[j] < 0.0 then
                Check.fail "noncentralities" (sprintf "must be >= 0, but noncentralities[%d] = %g" j noncentralities.[j])
        Check.finite "offset" offset
        Check.positive "scale" scale
        GeneralizedChiSquare(Array.copy weights, Array.copy dofs, Array.copy noncentralities, offset, scale)

    /// `sum_j w_j chi^2_1`: central terms with one degree of freedom, no offset, unit scale.
    let ofWeights (weights: float[]) =
        if isNull (box weights) then Check.fail "weights" "must not be null"
        create weights (Array.create weights.Length 1) (Array.zeroCreate weights.Length) 0.0 1.0

    /// The same law moved by `delta`: `Q + delta`.
    let shift (delta: float) (q: GeneralizedChiSquare) =
        Check.finite "delta" delta
        GeneralizedChiSquare(q.W, q.K, q.L, q.Offset + delta, q.Scale)

    /// The same law scaled by `factor > 0`: `factor * Q`.
    let rescale (factor: float) (q: GeneralizedChiSquare) =
        Check.positive "factor" factor
        let scale = factor * q.Scale
        if not (Double.IsFinite scale && scale > 0.0 && Double.IsFinite(factor * q.Offset)) then
            Check.fail "factor" (sprintf "must keep the scale and the offset finite and the scale positive, but factor * scale = %g and factor * offset = %g" scale (factor * q.Offset))
        GeneralizedChiSquare(q.W, q.K, q.L, factor * q.Offset, scale)

    /// `E Q`.
    let mean (q: GeneralizedChiSquare) = q.Mean
    /// `Var Q`.
    let variance (q: GeneralizedChiSquare) = q.Variance
    /// Skewness of `Q`.
    let skewness (q: GeneralizedChiSquare) = q.Skewness

    // ---- Evaluation -------------------------------------------------------------------------------------

    /// Both tails at one point, in the normalised variable `y = (x - c) / s` of `Y = sum_j w_j chi^2`.
    [<Struct>]
    type internal Tails =
        { Cdf: float; Sf: float; LogCdf: float; LogSf: float; Error: float; Method: ChiSquareMethod }

    let private exactTails cdfIsOne =
        if cdfIsOne then { Cdf = 1.0; Sf = 0.0; LogCdf = 0.0; LogSf = Double.NegativeInfinity; Error = 0.0; Method = Exact }
        else { Cdf = 0.0; Sf = 1.0; LogCdf = Double.NegativeInfinity; LogSf = 0.0; Error = 0.0; Method = Exact }

    let private sameSign (q: GeneralizedChiSquare) = struct (q.AllPositive, q.AllNegative)

    /// The error when Ruben's series needs more than `MaxRubenTerms` terms: the weight ratio that sets
    /// its convergence rate, the law-level term estimate and the remainder bound left after the budget.
    let private rubenTooLong (q: GeneralizedChiSquare) (settings: ChiSquareSettings) (remainder: float) =
        let ws = q.Weights |> Array.map abs
        let ratio = Array.max ws / Array.min ws
        ConvergenceException(
            sprintf "Ruben's series (weight ratio max|w|/min|w| = %.4g, about %.0f terms estimated for the law, more at this point; MaxRubenTerms = %d; use Imhof's integral: Algorithm = UseImhof or Auto)"
                ratio q.RubenEstimatedTerms settings.MaxRubenTerms,
            settings.MaxRubenTerms, remainder, settings.RelativeTolerance)

    /// Ruben on `Y' = sum |w_j| chi^2` at `y'`; `Error remainder` if the series is longer than `maxTerms`.
    let private rubenTails (q: GeneralizedChiSquare) (settings: ChiSquareSettings) (reflected: bool) (y: float) (maxTerms: int) =
        let y' = if reflected then -y else y
        match Ruben.expand q.RubenPlan y' settings.RelativeTolerance settings.AbsoluteTolerance false maxTerms with
        | Error remainder -> Error remainder
        | Ok e ->
            let struct (cdf, sf, cdfErr, sfErr) = Ruben.evaluate e y'
            let cdf = min 1.0 (max 0.0 cdf)
            let sf = min 1.0 (max 0.0 sf)
            let err = max cdfErr sfErr
            if reflected then
                Ok { Cdf = sf; Sf = cdf; LogCdf = Math.Log sf; LogSf = Math.Log cdf; Error = err; Method = Ruben }
            else
                Ok { Cdf = cdf; Sf = sf; LogCdf = Math.Log cdf; LogSf = Math.Log sf; Error = err; Method = Ruben }

    /// The contour abscissa: the saddle point, kept away from the pole at 0 and from the strip's edges.
    let private contourAbscissa (terms: Imhof.Terms) (y: float) =
        let shat = Imhof.saddlepoint terms y
        let struct (mean, var0) = Imhof.derivatives terms 0.0
        let struct (sLo, sHi) = Imhof.strip terms
        let cmin = 0.5 / Math.Sqrt var0
        if abs shat >= cmin then shat
        elif y >= mean then min cmin (0.5 * sHi)
        else max (-cmin) (0.5 * sLo)

    /// Imhof's integral for both tails at y: to `RelativeTolerance` of the small side, or, when
    /// `absoluteSuffices` (a cdf value, whose contract is an absolute error), to the looser of that and
    /// `AbsoluteTolerance / 2` (in the integral's units `pi exp(-(K(c) - c y))`; the reported bound is the same
    /// honest bound either way).
    let private imhofTails (q: GeneralizedChiSquare) (settings: ChiSquareSettings) (absoluteSuffices: bool) (y: float) =
        let terms = q.ImhofTerms
        let c = contourAbscissa terms y
        let absTolScaled =
            if absoluteSuffices then
                let struct (k0, _, _) = Imhof.cumulants terms c
                max 1e-300 (0.5 * settings.AbsoluteTolerance * Math.PI * Math.Exp(-(k0 - c * y)))
            else 1e-300
        let r = Imhof.integrate terms Imhof.Probability c (Imhof.bendFor terms c y) y settings.RelativeTolerance absTolScaled
        if not (Double.IsFinite r.Error && Double.IsFinite r.Integral && Double.IsFinite r.LogScale) then
            // Lost to cancellation (e.g. noncentralities so large that `lambda w s` and `s y` cancel to
            // all digits in the exponent): no honest value, so no value.
            raise (FunctionalAsymptoticsException(
                sprintf "Imhof's integral at y = %g (normalised point) lost all precision (integral %g, error bound %g): the law's noncentralities or degrees of freedom are beyond double precision's reach at this point" y r.Integral r.Error))
        let small = Math.Exp r.LogScale * abs r.Integral / Math.PI
        let logSmall = r.LogScale + Math.Log(abs r.Integral / Math.PI)
        let err = Math.Exp r.LogScale * r.Error / Math.PI
        let small = min 1.0 small
        if c > 0.0 then
            { Cdf = 1.0 - small; Sf = small; LogCdf = ScalarMath.log1mexp logSmall; LogSf = logSmall; Error = err; Method = Imhof }
        else
            { Cdf = small; Sf = 1.0 - small; LogCdf = logSmall; LogSf = ScalarMath.log1mexp logSmall; Error = err; Method = Imhof }

    /// `P(Q > x)` by Imhof's printed formula `1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du` (the
    /// contour through `c = 0`), with its absolute error bound: an independent cross-check of `sf`, with
    /// absolute accuracy `absTol` only (no relative accuracy in the tails).
    let imhofClassic (q: GeneralizedChiSquare) (absTol: float) (x: float) =
        let y = q.ToY x
        let terms = q.ImhofTerms
        let r = Imhof.integrate terms Imhof.Probability 0.0 0.0 y 0.0 (absTol * Math.PI)
        let sf = 0.5 + r.Integral / Math.PI
        struct (sf, r.Error / Math.PI)

    let private rubenBudget (settings: ChiSquareSettings) = min settings.MaxRubenTerms 3000

    /// Both tails of Q at the normalised point `y = (x - c) / (s 2^e)`, by the settings' algorithm.
    let private tailsY (settings: ChiSquareSettings) (absoluteSuffices: bool) (q: GeneralizedChiSquare) (y: float) : Tails =
        let struct (allPositive, allNegative) = sameSign q
        if Double.IsPositiveInfinity y then exactTails true
        elif Double.IsNegativeInfinity y then exactTails false
        elif allPositive && y <= 0.0 then exactTails false
        elif allNegative && y >= 0.0 then exactTails true
        else
            let rubenOk = allPositive || allNegative
            match settings.Algorithm with
            | UseRuben ->
                if not rubenOk then Check.fail "settings" "Ruben's series needs weights of one sign; use Imhof or Auto"
                match rubenTails q settings allNegative y settings.MaxRubenTerms with
                | Ok t -> t
                | Error remainder -> raise (rubenTooLong q settings remainder)
            | UseImhof -> imhofTails q settings absoluteSuffices y
            | Auto ->
                let viaRuben =
                    if rubenOk then
                        if q.RubenEstimatedTerms <= float (rubenBudget settings) then
                            match rubenTails q settings allNegative y (rubenBudget settings) with
                            | Ok t -> Some t
                            | Error _ -> None
                        else None
                    else None
                match viaRuben with
                | Some t -> t
                | None -> imhofTails q settings absoluteSuffices y

    /// Both tails of Q at x, by the settings' algorithm.
    /// `absoluteSuffices`: only the cdf's absolute accuracy is needed (see `imhofTails`).
    let internal tailsWith (settings: ChiSquareSettings) (absoluteSuffices: bool) (q: GeneralizedChiSquare) (x: float) : Tails =
        if Double.IsNaN x then Check.fail "x" "must not be NaN"
        tailsY settings absoluteSuffices q (q.ToY x)

    /// Both tails of Q at x, by the settings' algorithm, the small side to its relative tolerance.
    let internal tails (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : Tails = tailsWith settings false q x

    /// `P(Q <= x)` with the method used and an absolute error bound.
    let cdfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation =
        let fast = tailsWith settings true q x
        // The absolute tolerance is the cheap contract; a lower-tail value so small that its bound is not
        // within the relative tolerance is recomputed to it (the deep lower tail keeps its relative digits).
        let t = if fast.Cdf < 0.5 && fast.Error > settings.RelativeTolerance * fast.Cdf then tailsWith settings false q x else fast
        { Value = t.Cdf; Method = t.Method; ErrorBound = t.Error }

    /// `P(Q > x)`, computed natively (not as 1 - cdf), with the method used and an absolute error bound.
    let sfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation =
        let t = tails settings q x
        { Value = t.Sf; Method = t.Method; ErrorBound = t.Error }

    /// `P(Q <= x)`. Absolute error below 1e-10 (typically 1e-13).
    let cdf (q: GeneralizedChiSquare) (x: float) = (tails ChiSquareSettings.Default q x).Cdf

    /// `P(Q > x)`, with relative accuracy in the upper tail (down to 1e-300 and beyond).
    let sf (q: GeneralizedChiSquare) (x: float) = (tails ChiSquareSettings.Default q x).Sf

    /// `log P(Q > x)`; finite even where `P(Q > x)` underflows (Imhof's integral is scaled by its saddle point).
    let logSf (q: GeneralizedChiSquare) (x: float) =
        let t = tails ChiSquareSettings.Default q x
        if t.Sf > 1e-290 || t.Method = Exact then t.LogSf
        else (tails { ChiSquareSettings.Default with Algorithm = UseImhof } q x).LogSf

    /// `log P(Q <= x)`.
    let logCdf (q: GeneralizedChiSquare) (x: float) =
        let t = tails ChiSquareSettings.Default q x
        if t.Cdf > 1e-290 || t.Method = Exact then t.LogCdf
        else (tails { ChiSquareSettings.Default with Algorithm = UseImhof } q x).LogCdf

    /// Density of Q at x, with the method used and an absolute error bound.
    let pdfWith (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) : ChiSquareEvaluation =
        if Double.IsNaN x then Check.fail "x" "must not be NaN"
        let y = q.ToY x
        let struct (allPositive, allNegative) = sameSign q
        let halfN = q.K |> Array.sumBy float |> (*) 0.5
        let exact v = { Value = v; Method = Exact; ErrorBound = 0.0 }
        if Double.IsInfinity y then exact 0.0
        elif (allPositive && y < 0.0) || (allNegative && y > 0.0) then exact 0.0
        elif (allPositive || allNegative) && y = 0.0 then
            // Right-hand limit at the support's edge: 0 for n > 2, infinite for n < 2, and for n = 2
            // exp(-sum lambda/2) prod (2|w_j|)^{-k_j/2}.
            if halfN > 1.0 then exact 0.0
            elif halfN < 1.0 then exact Double.PositiveInfinity
            else
                let logv = (q.L |> Array.sum) * -0.5 - (Array.map2 (fun w k -> 0.5 * float k * Math.Log(2.0 * abs w)) q.NormalisedWeights q.K |> Array.sum)
                exact (q.DensityOfY(Math.Exp logv))
        else
            let viaRuben maxTerms =
                let reflected = allNegative
                let y' = if reflected then -y else y
                match Ruben.expand q.RubenPlan y' settings.RelativeTolerance settings.AbsoluteTolerance true maxTerms with
                | Ok e ->
                    let struct (v, err) = Ruben.density e y'
                    Ok { Value = q.DensityOfY v; Method = Ruben; ErrorBound = q.DensityOfY err }
                | Error remainder -> Error remainder
            let viaImhof () =
                let terms = q.ImhofTerms
                if halfN > 1.0 || y <> 0.0 then
                    let c = Imhof.saddlepoint terms y
                    let r = Imhof.integrate terms Imhof.Density c (Imhof.bendFor terms c y) y settings.RelativeTolerance 1e-300
                    let scale = Math.Exp r.LogScale / Math.PI
                    { Value = q.DensityOfY(max 0.0 (scale * r.Integral)); Method = Imhof; ErrorBound = q.DensityOfY(scale * r.Error) }
                else
                    // y = 0, n <= 2, mixed signs: no bend is possible and the integral converges only conditionally;
                    // differentiate the cdf (Richardson-extrapolated central differences).
                    let sd = q.StandardDeviation
                    let h = 1e-3 * sd
                    let f x = (tails { settings with Algorithm = UseImhof } q x).Cdf
                    let d h = (f (x + h) - f (x - h)) / (2.0 * h)
                    let d1 = d h
                    let d2 = d (0.5 * h)
                    let v = (4.0 * d2 - d1) / 3.0
                    { Value = max 0.0 v; Method = Imhof; ErrorBound = abs (v - d2) + 1e-9 / h }
            match settings.Algorithm with
            | UseRuben when not (allPositive || allNegative) ->
                Check.fail "settings" "Ruben's series needs weights of one sign; use Imhof or Auto"
            | UseRuben ->
                match viaRuben settings.MaxRubenTerms with
                | Ok e -> e
                | Error remainder -> raise (rubenTooLong q settings remainder)
            | UseImhof -> viaImhof ()
            | Auto ->
                let rubenFirst =
                    (allPositive || allNegative)
                    && q.RubenEstimatedTerms <= float (rubenBudget settings)
                match (if rubenFirst then viaRuben (rubenBudget settings) |> Result.toOption else None) with
                | Some e -> e
                | None -> viaImhof ()

    /// Density of Q at x.
    let pdf (q: GeneralizedChiSquare) (x: float) = (pdfWith ChiSquareSettings.Default q x).Value

    /// Lowest and highest points of the support.
    let private support (q: GeneralizedChiSquare) =
        let struct (allPositive, allNegative) = sameSign q
        struct ((if allPositive then q.Offset else Double.NegativeInfinity), (if allNegative then q.Offset else Double.PositiveInfinity))

    /// Solves `g(y) = 0` for increasing `g` of the normalised point `y` by bracketing from the mean and
    /// Brent's method, to a relative tolerance `xTol` in y; returns the point `x` of Q.
    let private solveIncreasing (q: GeneralizedChiSquare) (g: float -> float) (xTol: float) =
        let struct (allPositive, allNegative) = sameSign q
        let lowEdge = if allPositive then 0.0 else Double.NegativeInfinity
        let highEdge = if allNegative then 0.0 else Double.PositiveInfinity
        let sd = q.StandardDeviationY
        let m = q.MeanY
        // Bracket [a, b] with g(a) < 0 < g(b).
        let mutable a = m
        let mutable b = m
        let mutable ga = g a
        let mutable gb = ga
        let mutable step = sd
        if ga > 0.0 then
            let mutable guard = 0
            while ga > 0.0 && guard < 2000 do
                b <- a
                gb <- ga
                a <- (if Double.IsFinite lowEdge then max (0.5 * (a + lowEdge)) (a - step) |> max lowEdge else a - step)
                if a = lowEdge then a <- lowEdge + 0.5 * (b - lowEdge)
                ga <- g a
                step <- step * 2.0
                guard <- guard + 1
        else
            let mutable guard = 0
            while gb < 0.0 && guard < 2000 do
                a <- b
                ga <- gb
                b <- (if Double.IsFinite highEdge then min (0.5 * (b + highEdge)) (b + step) |> min highEdge else b + step)
                if b = highEdge then b <- highEdge - 0.5 * (highEdge - a)
                gb <- g b
                step <- step * 2.0
                guard <- guard + 1
        let y =
            if ga = 0.0 then a
            elif gb = 0.0 then b
            else
                // Brent's method.
                let mutable c = a
                let mutable fc = ga
                let mutable d = b - a
                let mutable e = d
                let mutable result = nan
                let mutable iter = 0
                while Double.IsNaN result && iter < 1200 do
                    if (gb > 0.0 && fc > 0.0) || (gb < 0.0 && fc < 0.0) then
                        c <- a; fc <- ga; d <- b - a; e <- d
                    if abs fc < abs gb then
                        a <- b; b <- c; c <- a
                        ga <- gb; gb <- fc; fc <- ga
                    let tol1 = 2.0 * 1e-16 * abs b + 0.5 * xTol * abs b + 1e-300
                    let xm = 0.5 * (c - b)
                    if abs xm <= tol1 || gb = 0.0 then result <- b
                    else
                        if abs e >= tol1 && abs ga > abs gb then
                            let s = gb / ga
                            let mutable p = 0.0
                            let mutable qq = 0.0
                            if a = c then
                                p <- 2.0 * xm * s
                                qq <- 1.0 - s
                            else
                                let qa = ga / fc
                                let r = gb / fc
                                p <- s * (2.0 * xm * qa * (qa - r) - (b - a) * (r - 1.0))
                                qq <- (qa - 1.0) * (r - 1.0) * (s - 1.0)
                            if p > 0.0 then qq <- -qq
                            p <- abs p
                            if 2.0 * p < min (3.0 * xm * qq - abs (tol1 * qq)) (abs (e * qq)) then
                                e <- d
                                d <- p / qq
                            else
                                d <- xm; e <- d
                        else
                            d <- xm; e <- d
                        a <- b
                        ga <- gb
                        b <- if abs d > tol1 then b + d else b + (if xm > 0.0 then tol1 else -tol1)
                        gb <- g b
                    iter <- iter + 1
                if Double.IsNaN result then b else result
        q.OfY y

    let private quantileTolerance = 1e-13

    /// The x with `P(Q <= x) = p` (relative accuracy 1e-10 or better). `p = 0` and `p = 1` give the
    /// support's edges (possibly infinite).
    let quantile (q: GeneralizedChiSquare) (p: float) =
        Check.probability "p" p
        let struct (lowEdge, highEdge) = support q
        if p = 0.0 then lowEdge
        elif p = 1.0 then highEdge
        elif p <= 0.5 then
            let lp = Math.Log p
            solveIncreasing q (fun y -> (tailsY ChiSquareSettings.Default false q y).LogCdf - lp) quantileTolerance
        else
            let lp = ScalarMath.log1p (-p)
            solveIncreasing q (fun y -> lp - (tailsY ChiSquareSettings.Default false q y).LogSf) quantileTolerance

    /// The x with `P(Q > x) = p`: the upper-tail quantile, accurate for `p` down to 1e-300.
    let isf (q: GeneralizedChiSquare) (p: float) =
        Check.probability "p" p
        let struct (lowEdge, highEdge) = support q
        if p = 0.0 then highEdge
        elif p = 1.0 then lowEdge
        elif p >= 0.5 then
            let lp = ScalarMath.log1p (-p)
            solveIncreasing q (fun y -> (tailsY ChiSquareSettings.Default false q y).LogCdf - lp) quantileTolerance
        else
            let lp = Math.Log p
            solveIncreasing q (fun y -> lp - (tailsY ChiSquareSettings.Default false q y).LogSf) quantileTolerance

    /// `count` independent draws of Q, reproducible from `seed` (whatever the thread count).
    let sample (seed: uint64) (count: int) (q: GeneralizedChiSquare) : float[] =
        if count < 0 then Check.fail "count" (sprintf "must be >= 0, got %d" count)
        let out = Array.zeroCreate count
        ChiSquareSampler.fill seed q.W q.K q.L out
        for i in 0 .. count - 1 do out.[i] <- q.Offset + q.Scale * out.[i]
        out
