namespace FunctionalAsymptotics.Distributions

open System
open System.Collections.Generic
open System.Numerics.Tensors
open FunctionalAsymptotics.Kernels

/// Imhof's (1961) inversion integral for `Y = sum_j w_j chi^2_{k_j}(lambda_j)` (weights of any sign),
/// evaluated on the vertical contour `s = c + i t` of the Laplace inversion
/// `P(Y > y) = (1 / 2 pi i) int_{c - i inf}^{c + i inf} M(s) e^{-s y} ds / s` (c > 0), which for `c < 0`
/// gives `-P(Y <= y)` and for `c = 0` (principal value) is Imhof's printed formula
/// `P(Y > y) = 1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du`. By default `c` is the saddle point
/// `K'(c) = y`, so the integrand is a bell of width `K''(c)^-1/2` whose size is that of the answer: the
/// small side of the distribution keeps its relative accuracy in both tails, for any signs. The integral
/// over `t in [0, inf)` is done by globally adaptive Gauss–Kronrod (7/15) on doubling panels, plus a
/// rigorous bound on the part beyond the last panel; the error bound is the sum of the Kronrod–Gauss
/// differences and that tail bound.
module internal Imhof =

    /// The terms, and the same terms split for the integrand: the central ones grouped by their degrees of
    /// freedom (`CentralHalfK.[g]`, `CentralW.[g]`: each group's `K` is one complex product, see
    /// `CumulantKernels.LogProductOnContour`) and the noncentral ones (`NoncentralW`, `NoncentralHalfK`,
    /// `NoncentralL`: a logarithm and an arctangent each).
    type Terms =
        { W: float[]; HalfK: float[]; L: float[]; HasNoncentrality: bool
          CentralHalfK: float[]; CentralW: float[][]
          NoncentralW: float[]; NoncentralHalfK: float[]; NoncentralL: float[]
          /// `sum_j (k_j / 2) log(2 |w_j|)`, in the tail bound.
          LogTwoAbsWDotHalfK: float }

    let create (w: float[]) (k: int[]) (l: float[]) =
        let central = [| 0 .. w.Length - 1 |] |> Array.filter (fun j -> l.[j] = 0.0)
        let groups = central |> Array.groupBy (fun j -> k.[j]) |> Array.sortBy fst
        let noncentral = [| 0 .. w.Length - 1 |] |> Array.filter (fun j -> l.[j] <> 0.0)
        { W = Array.copy w
          HalfK = k |> Array.map (fun d -> 0.5 * float d)
          L = Array.copy l
          HasNoncentrality = l |> Array.exists (fun v -> v > 0.0)
          CentralHalfK = groups |> Array.map (fun (d, _) -> 0.5 * float d)
          CentralW = groups |> Array.map (fun (_, js) -> js |> Array.map (fun j -> w.[j]))
          NoncentralW = noncentral |> Array.map (fun j -> w.[j])
          NoncentralHalfK = noncentral |> Array.map (fun j -> 0.5 * float k.[j])
          NoncentralL = noncentral |> Array.map (fun j -> l.[j])
          LogTwoAbsWDotHalfK = Array.fold2 (fun acc wj kj -> acc + 0.5 * float kj * Math.Log(2.0 * abs wj)) 0.0 w k }

    /// `K(sRe.[p] + i t.[p])` at eight points (`re`, `im`; all arrays of length 8): the central groups by
    /// `CumulantKernels.LogProductOnContourBatch` (the points in the SIMD lanes), the noncentral terms point by point.
    let cumulantOnContourBatch (t: Terms) (sRe: float[]) (tt: float[]) (re: float[]) (im: float[]) (logModulus: float[]) (argument: float[]) =
        for p in 0 .. 7 do
            re.[p] <- 0.0
            im.[p] <- 0.0
            if t.NoncentralW.Length > 0 then
                let mutable r = 0.0
                let mutable i = 0.0
                CumulantKernels.EvaluateOnContour(t.NoncentralW, t.NoncentralHalfK, t.NoncentralL, sRe.[p], tt.[p], true, &r, &i)
                re.[p] <- r
                im.[p] <- i
        for g in 0 .. t.CentralW.Length - 1 do
            CumulantKernels.LogProductOnContourBatch(ReadOnlySpan t.CentralW.[g], ReadOnlySpan sRe, ReadOnlySpan tt, Span logModulus, Span argument)
            for p in 0 .. 7 do
                re.[p] <- re.[p] - t.CentralHalfK.[g] * logModulus.[p]
                im.[p] <- im.[p] - t.CentralHalfK.[g] * argument.[p]

    /// Open strip `(sLo, sHi)` where `1 - 2 w_j s > 0` for every j.
    let strip (t: Terms) =
        let mutable lo = Double.NegativeInfinity
        let mutable hi = Double.PositiveInfinity
        for w in t.W do
            let b = 0.5 / w
            if w > 0.0 then hi <- min hi b else lo <- max lo b
        struct (lo, hi)

    /// `K(s)`, `K'(s)`, `K''(s)` for real s in the strip.
    let cumulants (t: Terms) (s: float) =
        let mutable k0 = 0.0
        let mutable k1 = 0.0
        let mutable k2 = 0.0
        for j in 0 .. t.W.Length - 1 do
            let w = t.W.[j]
            let a = 1.0 - 2.0 * w * s
            let h = t.HalfK.[j]
            let l = t.L.[j]
            k0 <- k0 - h * Math.Log a + l * w * s / a
            k1 <- k1 + 2.0 * h * w / a + l * w / (a * a)
            k2 <- k2 + 4.0 * h * w * w / (a * a) + 4.0 * l * w * w / (a * a * a)
        struct (k0, k1, k2)

    /// `K'(s)`, `K''(s)` for real s in the strip (no logarithms: the saddle point's Newton steps).
    let derivatives (t: Terms) (s: float) =
        let mutable k1 = 0.0
        let mutable k2 = 0.0
        for j in 0 .. t.W.Length - 1 do
            let w = t.W.[j]
            let r = w / (1.0 - 2.0 * w * s)
            let h = t.HalfK.[j]
            let l = t.L.[j]
            k1 <- k1 + r * (2.0 * h + l / (1.0 - 2.0 * w * s))
            k2 <- k2 + r * r * (4.0 * h + 4.0 * l / (1.0 - 2.0 * w * s))
        struct (k1, k2)

    /// Solves `K'(s) = y` inside the strip (K' is increasing). Returns the saddle point.
    let saddlepoint (t: Terms) (y: float) =
        let struct (sLo, sHi) = strip t
        let k1 s = let struct (d, _) = derivatives t s in d
        // Bracket.
        let mutable lo = if Double.IsFinite sLo then sLo else -1.0
        let mutable hi = if Double.IsFinite sHi then sHi else 1.0
        if not (Double.IsFinite sLo) then
            let mutable step = 1.0
            while k1 lo > y && step < 1e300 do
                step <- step * 2.0
                lo <- -step
        if not (Double.IsFinite sHi) then
            let mutable step = 1.0
            while k1 hi < y && step < 1e300 do
                step <- step * 2.0
                hi <- step
        // Safeguarded Newton in the open bracket.
        let mutable s = if lo < 0.0 && hi > 0.0 then 0.0 else 0.5 * (lo + hi)
        let mutable iter = 0
        let mutable fin = false
        while not fin && iter < 200 do
            let struct (d1, d2) = derivatives t s
            let f = d1 - y
            if f > 0.0 then hi <- s else lo <- s
            if abs f <= 1e-12 * (abs y + abs d1) + 1e-300 then fin <- true
            else
                let newton = s - f / d2
                s <- if newton > lo && newton < hi && Double.IsFinite newton then newton else 0.5 * (lo + hi)
                if hi - lo <= 1e-15 * (abs lo + abs hi) then fin <- true
            iter <- iter + 1
        s

    // Gauss–Kronrod 7/15 nodes and weights on [-1, 1].
    let private xgk =
        [| 0.991455371120812639206854697526329; 0.949107912342758524526189684047851; 0.864864423359769072789712788640926
           0.741531185599394439863864773280788; 0.586087235467691130294144845693013; 0.405845151377397166906606412076961
           0.207784955007898467600689403773245; 0.0 |]
    let private wgk =
        [| 0.022935322010529224963732008058970; 0.063092092629978553290700663189204; 0.104790010322250183839876322541518
           0.140653259715525918745189590510238; 0.169004726639267902826583426598550; 0.190350578064785409913256402421014
           0.204432940075298892414161999234649; 0.209482141084727828012999174891714 |]
    let private wg =
        [| 0.129484966168869693270611432679082; 0.279705391489276667901467771423780; 0.381830050505118944950369775488975
           0.417959183673469387755102040816327 |]

    /// One Gauss–Kronrod panel: (Kronrod estimate, error estimate). The error estimate is QUADPACK's
    /// (Piessens et al. 1983, qk15): `resasc * min(1, (200 |K - G| / resasc)^1.5)`, floored by the rounding
    /// allowance `50 eps` times the integral of |f|. A panel marked `unresolved` (wider than half a period
    /// of an oscillating integrand, where the 15 nodes cannot resolve it and `|K - G|` can be small by
    /// accident) reports at least `resasc`, the integral of `|f - mean|` over the panel.
    let private gk15 (f: float[] -> float[] -> unit) (xs: float[]) (ys: float[]) (a: float) (b: float) (unresolved: bool) =
        let center = 0.5 * (a + b)
        let half = 0.5 * (b - a)
        // The 15 nodes: the centre, then the pairs centre -+ half x_j.
        xs.[0] <- center
        for j in 0 .. 6 do
            xs.[1 + 2 * j] <- center - half * xgk.[j]
            xs.[2 + 2 * j] <- center + half * xgk.[j]
        f xs ys
        let fc = ys.[0]
        let fv1 = Array.zeroCreate 7
        let fv2 = Array.zeroCreate 7
        let mutable resK = fc * wgk.[7]
        let mutable resG = fc * wg.[3]
        let mutable resAbs = abs fc * wgk.[7]
        for j in 0 .. 6 do
            let f1 = ys.[1 + 2 * j]
            let f2 = ys.[2 + 2 * j]
            fv1.[j] <- f1
            fv2.[j] <- f2
            resK <- resK + wgk.[j] * (f1 + f2)
            resAbs <- resAbs + wgk.[j] * (abs f1 + abs f2)
            if j % 2 = 1 then resG <- resG + wg.[j / 2] * (f1 + f2)
        let reskh = 0.5 * resK
        let mutable resAsc = wgk.[7] * abs (fc - reskh)
        for j in 0 .. 6 do
            resAsc <- resAsc + wgk.[j] * (abs (fv1.[j] - reskh) + abs (fv2.[j] - reskh))
        let h = abs half
        let resAbs = resAbs * h
        let resAsc = resAsc * h
        let mutable err = abs ((resK - resG) * half)
        if resAsc <> 0.0 && err <> 0.0 then err <- resAsc * min 1.0 (Math.Pow(200.0 * err / resAsc, 1.5))
        err <- max err (50.0 * 2.220446049250313e-16 * resAbs)
        if unresolved then err <- max err resAsc
        struct (resK * half, err, resAbs)

    /// What the contour integral computes.
    type Target =
        /// Tail probabilities (the integrand has the 1/s factor).
        | Probability
        /// The density (no 1/s factor).
        | Density

    /// Result of one contour integral: `value = exp(LogScale) * Integral / pi`, with absolute error bound
    /// `exp(LogScale) * Error / pi`.
    [<Struct>]
    type Contour = { C: float; LogScale: float; Integral: float; Error: float; Evaluations: int }

    /// Integrates along the contour `s(t) = c + sign(y) a t^2 + i t`, `t >= 0` (by conjugate symmetry),
    /// at the point y. With `a = 0` it is the vertical line `Re s = c` (Imhof's own contour when also
    /// `c = 0`). With `a > 0` the parabola bends towards the side where `e^{-s y}` decays, so the
    /// integrand decays like `exp(-a |y| t^2)` instead of algebraically; it crosses no singularity (the
    /// branch points and the pole are on the real axis, which the contour meets only at `c`).
    /// `relTol` is relative to the integral, `absTolScaled` an absolute floor in integral units.
    let integrate (t: Terms) (target: Target) (c: float) (bend: float) (y: float) (relTol: float) (absTolScaled: float) : Contour =
        let n = t.W.Length
        let struct (k0, _, k2) = cumulants t c
        let sigma = if y >= 0.0 then 1.0 else -1.0
        let a = if y = 0.0 then 0.0 else bend
        let evaluations = ref 0
        // The largest magnitude of the terms that cancel in the exponent and the phase at the panel's nodes:
        // an absolute rounding error of eps times it in `u` or `v` is a relative error of the integrand. Each
        // `log |1 - 2 w_j s|^2` and `arg(1 - 2 w_j s)` carries an absolute error of about eps however small it
        // is, multiplied by `k_j / 2` (and the noncentral terms by `lambda_j`): hence the floor.
        let magnitudeFloor = 2.0 * (Array.sum t.HalfK + Array.sum t.L)
        let magnitude = ref 0.0
        // The integrand at `tt` from `K(s(tt))` (`re`, `im`), `sRe = Re s(tt)`.
        let finish (tt: float) (sRe: float) (re: float) (im: float) =
            let u = re - k0 - (sRe - c) * y
            let v = im - tt * y
            magnitude.Value <- max magnitude.Value (magnitudeFloor + abs re + abs k0 + abs ((sRe - c) * y) + abs im + abs (tt * y))
            let e = Math.Exp u
            // e^{iv} (1 - 2 sigma a t i) [/ s]
            let jr = 1.0
            let ji = -2.0 * sigma * a * tt
            let struct (ci, cr) = Math.SinCos v
            let pr = cr * jr - ci * ji
            let pi = cr * ji + ci * jr
            match target with
            | Density -> e * pr
            | Probability ->
                if c = 0.0 && a = 0.0 then
                    if tt = 0.0 then
                        let struct (_, d1, _) = cumulants t 0.0
                        d1 - y
                    else e * ci / tt
                else
                    // Re[(pr + i pi) / (sRe + i tt)]
                    e * (pr * sRe + pi * tt) / (sRe * sRe + tt * tt)
        // The integrand at the 15 nodes `ts` into `out`, eight points per call of the batch kernel.
        let bRe, bT, bKr, bKi, bLog, bArg = Array.zeroCreate 8, Array.zeroCreate 8, Array.zeroCreate 8, Array.zeroCreate 8, Array.zeroCreate 8, Array.zeroCreate 8
        let f (ts: float[]) (out: float[]) =
            evaluations.Value <- evaluations.Value + ts.Length
            let mutable start = 0
            while start < ts.Length do
                let count = min 8 (ts.Length - start)
                for p in 0 .. 7 do
                    let tt = if p < count then ts.[start + p] else 0.0
                    bT.[p] <- tt
                    bRe.[p] <- if p < count then c + sigma * a * tt * tt else 0.0
                cumulantOnContourBatch t bRe bT bKr bKi bLog bArg
                for p in 0 .. count - 1 do out.[start + p] <- finish bT.[p] bRe.[p] bKr.[p] bKi.[p]
                start <- start + 8
        // Bound on |integrand| for t >= T (normalised by exp(K(c) - c y)):
        // exp(-K(c) + sum_j [-(k_j/2) log(2|w_j|) + lambda_j (-1/2 + 1/(4|w_j| T))] - a|y| t^2) * t^{-n/2} (1 + 2 a t) [/ t].
        let halfN = Array.sum t.HalfK
        let logConst =
            -k0 - t.LogTwoAbsWDotHalfK
        let alpha = a * abs y
        let gminLog = Array.zeroCreate n
        let tailBound (tEnd: float) =
            let mutable nc = 0.0
            if t.HasNoncentrality then
                for j in 0 .. n - 1 do
                    nc <- nc + t.L.[j] * (-0.5 + 0.25 / (abs t.W.[j] * tEnd))
            let lb = logConst + nc
            // In logs (the factors can over- and underflow separately). The polynomial factor p(t) is
            // decreasing; bound it by p(T) and integrate the rest.
            let logPoly =
                lb + Math.Log(1.0 + 2.0 * a * tEnd)
                - (match target with Probability -> halfN + 1.0 | Density -> halfN) * Math.Log tEnd
            if alpha > 0.0 then
                // int_T^inf e^{-alpha t^2} dt <= e^{-alpha T^2} / (2 alpha T)
                let algebraic = Math.Exp(logPoly - alpha * tEnd * tEnd - Math.Log(2.0 * alpha * tEnd))
                // Tighter near the bell: bound each |1 - 2 w_j s(t)|^2 = (A_j - B_j u)^2 + 4 w_j^2 u,
                // u = t^2 >= T^2, A_j = 1 - 2 w_j c, B_j = 2 w_j sigma a, by its minimum over u >= T^2,
                // and let the Gaussian factor e^{-alpha t^2} alone give the decay.
                let u0 = tEnd * tEnd
                let mutable logM = -k0
                for j in 0 .. n - 1 do
                    let w = t.W.[j]
                    let aj = 1.0 - 2.0 * w * c
                    let bj = 2.0 * w * sigma * a
                    let g u = (aj - bj * u) * (aj - bj * u) + 4.0 * w * w * u
                    let gmin =
                        if bj <= 0.0 then g u0
                        else
                            let ustar = aj / bj - 2.0 * w * w / (bj * bj)
                            if ustar <= u0 then g u0 else g ustar
                    gminLog.[j] <- gmin
                    if t.HasNoncentrality then logM <- logM + t.L.[j] * (-0.5 + 0.5 / Math.Sqrt gmin)
                TensorPrimitives.Log(ReadOnlySpan gminLog, Span gminLog)
                logM <- logM - 0.5 * TensorPrimitives.Dot(ReadOnlySpan t.HalfK, ReadOnlySpan gminLog)
                let gaussian =
                    match target with
                    | Probability -> Math.Exp(logM - alpha * u0) * (1.0 / tEnd + 2.0 * a) / (2.0 * alpha * tEnd)
                    | Density -> Math.Exp(logM - alpha * u0) * (1.0 / tEnd + 2.0 * a) / (2.0 * alpha)
                min algebraic gaussian
            else
                // int_T^inf t^{-m} dt = T^{1-m}/(m-1) with the power left in poly
                match target with
                | Probability -> Math.Exp(logPoly + Math.Log tEnd) / halfN
                | Density -> if halfN > 1.0 then Math.Exp(logPoly + Math.Log tEnd) / (halfN - 1.0) else Double.PositiveInfinity
        let h0 = 1.0 / Math.Sqrt k2
        // Width of the pole's spike near t = 0 when c is small.
        let first = if c <> 0.0 then min h0 (abs c) else h0
        let panels = PriorityQueue<struct (float * float * float * float), float>()
        let mutable total = 0.0
        let mutable totalErr = 0.0
        // On Imhof's printed contour (c = 0, no bend) the integrand oscillates with angular frequency
        // |d/dt (Im K(it) - t y)| <= |y| + sum_j 2 |w_j| (k_j/2 + lambda_j) undamped: panels wider than half a
        // period are not resolved by 15 nodes, so their error estimate must not be trusted.
        let halfPeriod =
            if c = 0.0 && a = 0.0 then
                let mutable b = abs y
                for j in 0 .. n - 1 do b <- b + 2.0 * abs t.W.[j] * (t.HalfK.[j] + t.L.[j])
                Math.PI / b
            else Double.PositiveInfinity
        let nodeBuf = Array.zeroCreate 15
        let valueBuf = Array.zeroCreate 15
        let addPanel lo hi =
            magnitude.Value <- 0.0
            let struct (v, e, resAbs) = gk15 f nodeBuf valueBuf lo hi (hi - lo > halfPeriod)
            let e = max e (4.0 * 2.220446049250313e-16 * magnitude.Value * resAbs)
            total <- total + v
            totalErr <- totalErr + e
            panels.Enqueue(struct (lo, hi, v, e), -e)
        // Initial panels: [0, first], then doubling, until the tail bound is negligible.
        let mutable tEnd = first
        addPanel 0.0 first
        let mutable count = 0
        let tol () = max (relTol * abs total) absTolScaled
        while (tailBound tEnd > 0.05 * tol () || count < 3) && count < 400 do
            let next = if tEnd < h0 then min h0 (2.0 * tEnd) else 2.0 * tEnd
            addPanel tEnd next
            tEnd <- next
            count <- count + 1
        let tail = tailBound tEnd
        // Refinement: split the worst panel until the summed error estimate meets the tolerance.
        let mutable splits = 0
        while totalErr + tail > tol () && splits < 4000 && panels.Count > 0 do
            let struct (lo, hi, v, e) = panels.Dequeue()
            total <- total - v
            totalErr <- totalErr - e
            let mid = 0.5 * (lo + hi)
            addPanel lo mid
            addPanel mid hi
            splits <- splits + 1
        // Re-add from scratch to avoid drift in the running sums.
        let mutable sumV = 0.0
        let mutable sumE = 0.0
        for struct (struct (_, _, v, e), _) in panels.UnorderedItems do
            sumV <- sumV + v
            sumE <- sumE + e
        let logScale = if c = 0.0 && a = 0.0 && target = Probability then 0.0 else k0 - c * y
        { C = c; LogScale = logScale; Integral = sumV; Error = sumE + tail + 1e-15 * abs sumV; Evaluations = evaluations.Value }

    /// The parabola's curvature: `K''(c) / (2 |y|)`, so that `exp(-a |y| t^2)` matches the saddle's bell,
    /// but no more than keeps the contour's real part short of the nearest branch point (on the side it
    /// bends to) until `t` is eight bell widths out, where the integrand has long decayed.
    let bendFor (t: Terms) (c: float) (y: float) =
        if y = 0.0 then 0.0
        else
            let struct (_, k2) = derivatives t c
            let struct (sLo, sHi) = strip t
            let room = if y > 0.0 then sHi - c else c - sLo
            let cap = if Double.IsFinite room then room * k2 / 64.0 else Double.PositiveInfinity
            min (0.5 * k2 / abs y) cap
