namespace FunctionalAsymptotics.Distributions

open System

/// Ruben's (1962) series for `Y = sum_j w_j chi^2_{k_j}(lambda_j)` with all `w_j > 0`:
/// `Y / beta ~ sum_k a_k chi^2_{n + 2k}` with `beta = min_j w_j`, `n = sum_j k_j`, `t_j = 1 - beta / w_j`.
/// The mixing weights have the generating function
/// `A(z) = sum_k a_k z^k = prod_j (beta/w_j)^{k_j/2} (1 - t_j z)^{-k_j/2} exp((lambda_j/2)(z - 1)/(1 - t_j z))`,
/// so `a_0 = prod_j (beta/w_j)^{k_j/2} e^{-lambda_j/2}` and `k a_k = sum_{r<k} a_r g_{k-r}` with
/// `g_i = sum_j [ (k_j/2) t_j^i + (lambda_j/2) i (1 - t_j) t_j^{i-1} ]`. With `beta = min w_j` every `a_k >= 0`
/// and `A(1) = 1`, so the series is a probability mixture, the cdf and the sf are sums of positive terms,
/// and the remainder after K terms is bounded by Cauchy's estimate
/// `sum_{k>=K} a_k <= A(z0) z0^-K / (1 - 1/z0)` for any `1 < z0 < 1 / max t_j`.
module internal Ruben =

    /// Terms with equal weights merged (`chi^2_{k1}(l1) + chi^2_{k2}(l2) = chi^2_{k1+k2}(l1+l2)`).
    type Terms =
        { W: float[]; HalfK: float[]; HalfL: float[] }

    let merge (w: float[]) (k: int[]) (l: float[]) : Terms =
        let groups =
            Array.init w.Length id
            |> Array.groupBy (fun j -> w.[j])
            |> Array.sortBy fst
        { W = groups |> Array.map fst
          HalfK = groups |> Array.map (fun (_, js) -> 0.5 * (js |> Array.sumBy (fun j -> float k.[j])))
          HalfL = groups |> Array.map (fun (_, js) -> 0.5 * (js |> Array.sumBy (fun j -> l.[j]))) }

    let private logA (t: Terms) (beta: float) (z: float) =
        let mutable acc = 0.0
        for j in 0 .. t.W.Length - 1 do
            let tj = 1.0 - beta / t.W.[j]
            let oneMinus = 1.0 - tj * z
            acc <- acc + t.HalfK.[j] * (Math.Log(beta / t.W.[j]) - Math.Log oneMinus) + t.HalfL.[j] * (z - 1.0) / oneMinus
        acc

    /// Number of terms Ruben needs (roughly) for a remainder below `tol`, from the convergence rate `max t_j`.
    let estimatedTerms (t: Terms) (tol: float) =
        let beta = t.W.[0]
        let tmax = 1.0 - beta / t.W.[t.W.Length - 1]
        if tmax <= 0.0 then 50.0 + 4.0 * (t.HalfL |> Array.sum)
        else Math.Log tol / Math.Log tmax + 4.0 * (t.HalfL |> Array.sum)

    /// The point-independent part of the series for one law: the mixture weights `a_k` (which do not
    /// depend on the point) are computed once, extended on demand and shared by every evaluation,
    /// so a quantile search or a grid of points costs O(K) per point after the first O(K^2).
    /// Thread-safe: extension happens under a lock.
    [<Sealed; AllowNullLiteral>]
    type Plan(t: Terms) =
        let beta = t.W.[0]
        let nTerms = t.W.Length
        let halfN = Array.sum t.HalfK
        let tj = Array.init nTerms (fun j -> 1.0 - beta / t.W.[j])
        let radius = if tj.[nTerms - 1] > 0.0 then 1.0 / tj.[nTerms - 1] else Double.PositiveInfinity
        let candidates =
            [| if Double.IsFinite radius then
                   for f in [| 0.1; 0.3; 0.5; 0.7; 0.85; 0.95; 0.99 |] do 1.0 + f * (radius - 1.0)
               for z in [| 1.25; 1.5; 2.0; 4.0; 8.0; 16.0; 64.0; 256.0; 1e3; 1e4; 1e6 |] do
                   if z < radius then z |]
            |> Array.filter (fun z -> z > 1.0 && z < radius)
        // log of the Cauchy bound: log A(z) - log(1 - 1/z) - K log z.
        let boundConst = candidates |> Array.map (fun z -> logA t beta z - ScalarMath.log1p (-1.0 / z))
        let logZ = candidates |> Array.map Math.Log
        let b = ResizeArray<float>(256)
        let g = ResizeArray<float>(256)
        let powers = Array.create nTerms 1.0  // t_j^{k-1}
        let mutable logScale = 0.0
        do
            for j in 0 .. nTerms - 1 do
                logScale <- logScale + t.HalfK.[j] * Math.Log(beta / t.W.[j]) - t.HalfL.[j]
            b.Add 1.0
            g.Add 0.0
        member _.Terms = t
        member _.Beta = beta
        member _.HalfN = halfN
        /// `a_k = exp(LogScale) * B.[k]`.
        member _.LogScale = logScale
        member _.B = b
        member _.Lock = b
        /// log of the bound on `sum_{k >= count} a_k`.
        member _.LogTail(count: int) =
            let mutable best = 0.0
            for i in 0 .. candidates.Length - 1 do
                let v = boundConst.[i] - float count * logZ.[i]
                if v < best then best <- v
            best
        /// Appends `b_k` for k = B.Count (call under `Lock`). Returns the rescale factor applied to all
        /// earlier entries (1 unless `b` had to be scaled down to stay representable).
        member _.Extend() =
            let k = b.Count
            // g_k = sum_j [ (k_j/2) t_j^k + (lambda_j/2) k (1 - t_j) t_j^{k-1} ]
            let mutable gk = 0.0
            for j in 0 .. nTerms - 1 do
                let p = powers.[j]
                gk <- gk + t.HalfK.[j] * p * tj.[j] + t.HalfL.[j] * float k * (1.0 - tj.[j]) * p
                powers.[j] <- p * tj.[j]
            g.Add gk
            let mutable acc = 0.0
            for r in 0 .. k - 1 do
                acc <- acc + b.[r] * g.[k - r]
            let bk = acc / float k
            b.Add bk
            if bk > 1e250 then
                // Keep b representable (a_k <= 1, so this only happens when a_0 underflows).
                for r in 0 .. b.Count - 1 do b.[r] <- b.[r] * 1e-250
                logScale <- logScale + 250.0 * Math.Log 10.0
                1e-250
            else 1.0

    /// The series truncated for one point.
    type Expansion =
        { Beta: float
          HalfN: float
          /// log of the common scale of `b`: `a_k = exp(LogScale) * b_k`.
          LogScale: float
          /// `b_0 .. b_{K-1}` (a snapshot).
          B: float[]
          /// Upper bound on `sum_{k >= K} a_k`.
          TailMass: float }

    /// Truncates the series for the point `y` where the remainder bound is below `relTol` times the
    /// partial upper-tail sum and below `absTol / 100` (and, with `withDensity`, below `relTol` times the
    /// partial density), so that the sf, the cdf (whose remainder is at most `P_K` times the tail mass)
    /// and the density all keep their relative accuracy. `Error bound` when `maxTerms` terms do not suffice, with
    /// `bound` the remainder bound `sum_{k >= maxTerms} a_k` left at that point.
    let expand (plan: Plan) (y: float) (relTol: float) (absTol: float) (withDensity: bool) (maxTerms: int) : Result<Expansion, float> =
        let beta = plan.Beta
        let halfN = plan.HalfN
        // Running partial sums at y (in units of exp(LogScale)): upper tail and density.
        let x = 0.5 * y / beta
        let logX = Math.Log x
        let struct (_, logQ0) = IncompleteGamma.logPQ halfN x
        let mutable q = Math.Exp logQ0
        // d_k and the density terms: by exact ratios in linear space when representable, else in logs.
        let logD0 = IncompleteGamma.logPrefactor halfN x
        let linear = logD0 > -700.0 && logD0 < 700.0
        let mutable d = if linear then Math.Exp logD0 else 0.0
        let mutable logD = logD0
        let logF0 = (halfN - 1.0) * logX - x - MathNet.Numerics.SpecialFunctions.GammaLn halfN - Math.Log(2.0 * beta)
        let linearF = logF0 > -700.0 && logF0 < 700.0
        let mutable f = if linearF then Math.Exp logF0 else 0.0
        let mutable logF = logF0
        let mutable sfPart = 0.0
        let mutable pdfPart = 0.0
        let absFloor = Math.Log(0.01 * absTol)
        let logRel = Math.Log relTol
        lock plan.Lock (fun () ->
            let mutable result = Error nan
            let mutable fin = false
            let mutable k = 0
            while not fin do
                if k >= plan.B.Count then
                    let factor = plan.Extend()
                    sfPart <- sfPart * factor
                    pdfPart <- pdfPart * factor
                let bk = plan.B.[k]
                sfPart <- sfPart + bk * q
                let ak1 = halfN + float k + 1.0
                if linear then
                    q <- q + d
                    d <- d * x / ak1
                else
                    q <- q + Math.Exp logD
                    logD <- logD + logX - Math.Log ak1
                if withDensity then
                    if linearF then
                        pdfPart <- pdfPart + bk * f
                        f <- f * x / (ak1 - 1.0)
                    else
                        pdfPart <- pdfPart + bk * Math.Exp logF
                        logF <- logF + logX - Math.Log(ak1 - 1.0)
                k <- k + 1
                // The stopping test costs a few logs: make it every fourth term.
                if k % 4 = 0 || k >= maxTerms then
                    let logT = plan.LogTail k
                    let sfOk = logT <= logRel + plan.LogScale + Math.Log sfPart && logT <= absFloor
                    let pdfOk = not withDensity || logT - Math.Log(2.0 * beta) <= logRel + plan.LogScale + Math.Log pdfPart
                    // Below 1e-320 everything left is zero in double precision.
                    if (sfOk && pdfOk) || logT < -736.8 then
                        result <- Ok { Beta = beta; HalfN = halfN; LogScale = plan.LogScale; B = plan.B.GetRange(0, k).ToArray(); TailMass = Math.Exp logT }
                        fin <- true
                    elif k >= maxTerms then
                        result <- Error (Math.Exp logT)
                        fin <- true
            result)

    let private peakIndex (halfN: float) (x: float) (count: int) =
        int (Math.Floor(x - halfN)) |> max 0 |> min (count - 1)

    /// `d_k = x^{a_k} e^{-x} / Gamma(a_k + 1)`, `a_k = n/2 + k`, for k < count: computed directly at the
    /// peak `a_k ~ x` and by exact ratios outwards (`d_{k+1} = d_k x / (a_k + 1)`), so every term keeps its
    /// relative accuracy (a running sum of logs would drift by an ulp of a large number per step).
    let private poissonTerms (halfN: float) (x: float) (count: int) =
        let d = Array.zeroCreate count
        let peak = peakIndex halfN x count
        d.[peak] <- Math.Exp(IncompleteGamma.logPrefactor (halfN + float peak) x)
        for k in peak + 1 .. count - 1 do
            d.[k] <- d.[k - 1] * x / (halfN + float k)
        for k in peak - 1 .. -1 .. 0 do
            d.[k] <- d.[k + 1] * (halfN + float k + 1.0) / x
        d

    /// Rounding allowance, relative: the series' length, plus the logarithms that were exponentiated
    /// (a value computed as `exp(L)` carries the rounding of `L`, about `|L|` ulps of 1).
    let private rounding (count: int) (logs: float list) =
        let biggest = logs |> List.fold (fun acc l -> if Double.IsFinite l then max acc (abs l) else acc) 0.0
        (8.0 * float (count + 10) + 4.0 * (biggest + 10.0)) * 2.220446049250313e-16

    /// Evaluates `P(Y <= y)` and `P(Y > y)` from an expansion: returns (cdf, sf, cdfError, sfError).
    let evaluate (e: Expansion) (y: float) =
        let x = 0.5 * y / e.Beta
        let count = e.B.Length
        let scale = Math.Exp e.LogScale
        let d = poissonTerms e.HalfN x count
        // Upper tail: Q_{k+1} = Q_k + d_k (forward; sums of positive terms).
        let struct (_, logQ0) = IncompleteGamma.logPQ e.HalfN x
        let mutable q = Math.Exp logQ0
        let mutable sf = 0.0
        for k in 0 .. count - 1 do
            sf <- sf + e.B.[k] * q
            q <- q + d.[k]
        // Lower tail: P_k = P_{k+1} + d_k, from a direct P_{K-1} downwards (sums of positive terms).
        let aLast = e.HalfN + float (count - 1)
        let struct (logPLast, _) = IncompleteGamma.logPQ aLast x
        let mutable p = Math.Exp logPLast
        let mutable cdf = 0.0
        for k in count - 1 .. -1 .. 0 do
            cdf <- cdf + e.B.[k] * p
            if k > 0 then p <- p + d.[k - 1]
        let cdf = scale * cdf
        let sf = scale * sf
        let logPeak = IncompleteGamma.logPrefactor (e.HalfN + float (peakIndex e.HalfN x count)) x
        let rel = rounding count [ logPeak; logQ0; logPLast ]
        // Remainder: sum_{k>=K} a_k P_k <= P_K * tail; sum_{k>=K} a_k Q_k <= tail.
        let cdfError = Math.Exp logPLast * e.TailMass + rel * cdf
        let sfError = e.TailMass + rel * sf
        // The small side keeps its relative accuracy; the large side is its complement, whose absolute
        // error is then the small side's (a direct sum near 1 would carry the prefactors' rounding).
        if cdf <= sf then struct (cdf, 1.0 - cdf, cdfError, cdfError)
        else struct (1.0 - sf, sf, sfError, sfError)

    /// Density of Y at y: `sum_k a_k f_{chi^2_{n+2k}}(y / beta) / beta`, with an error bound.
    /// `f_{chi^2_{2a}}(2x) / beta = x^{a-1} e^{-x} / (2 beta Gamma(a)) = d_k a_k / (2 beta x)`.
    let density (e: Expansion) (y: float) =
        let x = 0.5 * y / e.Beta
        let count = e.B.Length
        let d = poissonTerms e.HalfN x count
        let mutable acc = 0.0
        for k in 0 .. count - 1 do
            acc <- acc + e.B.[k] * d.[k] * (e.HalfN + float k)
        let value = Math.Exp e.LogScale * acc / (2.0 * e.Beta * x)
        // For nu >= 2 a chi-square density is at most 1/2: remainder <= tail / (2 beta).
        let logPeak = IncompleteGamma.logPrefactor (e.HalfN + float (peakIndex e.HalfN x count)) x
        let err = e.TailMass / (2.0 * e.Beta) + rounding count [ logPeak ] * value
        struct (value, err)
