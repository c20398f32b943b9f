namespace FunctionalAsymptotics.Distributions

open System
open MathNet.Numerics

/// Regularized incomplete gamma functions `P(a, x)` and `Q(a, x) = 1 - P(a, x)` in log space, each with
/// full relative accuracy on its own side (neither is computed as one minus the other where that
/// would cancel). Series for `x < a + 1`, Lentz continued fraction otherwise (Numerical Recipes 6.2);
/// for large `a` near the peak, where both need `O(sqrt a)` terms, Temme's (1979) uniform asymptotic
/// expansion. Either iteration that does not converge raises `ConvergenceException` (never a truncated sum).
module internal IncompleteGamma =

    let private eps = 1e-17

    /// The series and the continued fraction need about `sqrt(2 a log(1/eps))` terms at `x ~ a`.
    let private maxIterations (a: float) = 100_000 + int (min 1e8 (20.0 * Math.Sqrt a))

    let private notConverged (what: string) (a: float) (x: float) (iterations: int) (residual: float) =
        raise (FunctionalAsymptotics.ConvergenceException(sprintf "%s of the incomplete gamma function at a = %g, x = %g" what a x, iterations, residual, eps))

    /// From this `a` on, Temme's expansion with three coefficient functions has relative error below
    /// `|C_3(eta)| / a^3 < 1e-16` in the region where it is used.
    let private temmeMinA = 1e5

    /// Temme's region: `sqrt(a (lambda - 1 - log lambda)) < temmeMaxZ`, where the small side is above
    /// `erfc(26) / 2 ~ 3e-296`, so no part underflows. There `|eta| < 26 sqrt(2 / a) < 0.12`, well inside the
    /// radius where the Taylor polynomials of `C_k(eta)` below are accurate to double precision.
    let private temmeMaxZ = 26.0

    /// `log(1 + s) - s`, accurate for small `s` (the series `-s^2/2 + s^3/3 - ...` for `|s| < 0.25`).
    let private log1pmx (s: float) =
        if abs s < 0.25 then
            let mutable term = -s
            let mutable sum = 0.0
            let mutable k = 2
            let mutable fin = false
            while not fin do
                term <- -term * s
                let next = sum - term / float k
                if next = sum then fin <- true
                sum <- next
                k <- k + 1
            sum
        else Math.Log(1.0 + s) - s

    // Taylor coefficients in eta of Temme's C_0, C_1, C_2 (Temme 1979; DLMF 8.12.9-8.12.10; the values of
    // Boost.Math's igamma_temme_large). C_0(eta) = 1/(lambda - 1) - 1/eta = -1/3 + eta/12 - 2 eta^2/135 + ...
    let private c0 =
        [| -0.33333333333333333; 0.083333333333333333; -0.014814814814814815; 0.0011574074074074074
           0.0003527336860670194; -0.00017875514403292181; 0.39192631785224378e-4; -0.21854485106799922e-5
           -0.185406221071516e-5; 0.8296711340953086e-6; -0.17665952736826079e-6; 0.67078535434014986e-8
           0.10261809784240308e-7; -0.43820360184533532e-8; 0.91476995822367902e-9 |]
    let private c1 =
        [| -0.0018518518518518519; -0.0034722222222222222; 0.0026455026455026455; -0.00099022633744855967
           0.00020576131687242798; -0.40187757201646091e-6; -0.18098550334489978e-4; 0.76491609160811101e-5
           -0.16120900894563446e-5; 0.46471278028074343e-8; 0.1378633446915721e-6; -0.5752545603517705e-7
           0.11951628599778147e-7 |]
    let private c2 =
        [| 0.0041335978835978836; -0.0026813271604938272; 0.00077160493827160494; 0.20093878600823045e-5
           -0.00010736653226365161; 0.52923448829120125e-4; -0.12760635188618728e-4; 0.34235787340961381e-7
           0.13721957309062933e-5; -0.6298992138380055e-6; 0.14280614206064242e-6 |]

    let private horner (coefficients: float[]) (z: float) =
        let mutable acc = 0.0
        for i in coefficients.Length - 1 .. -1 .. 0 do acc <- acc * z + coefficients.[i]
        acc

    /// Temme's uniform expansion `Q(a, x) = erfc(eta sqrt(a/2)) / 2 + R`, `P(a, x) = erfc(-eta sqrt(a/2)) / 2 - R`,
    /// `R = e^{-a eta^2 / 2} / sqrt(2 pi a) (C_0(eta) + C_1(eta) / a + C_2(eta) / a^2)`, with
    /// `eta = sign(x - a) sqrt(2 (lambda - 1 - log lambda))`, `lambda = x / a`. Returns `Some (log P, log Q)` in
    /// its region, computing the small side directly; `None` outside it.
    let private temme (a: float) (x: float) =
        if a < temmeMinA then None
        else
            let sigma = (x - a) / a
            let phi = -(log1pmx sigma)
            let z = Math.Sqrt(a * phi)
            if z >= temmeMaxZ then None
            else
                let eta = if x < a then -(Math.Sqrt(2.0 * phi)) else Math.Sqrt(2.0 * phi)
                let series = horner c0 eta + (horner c1 eta + horner c2 eta / a) / a
                let r = Math.Exp(-(a * phi)) / Math.Sqrt(2.0 * Math.PI * a) * series
                let half = 0.5 * SpecialFunctions.Erfc z
                if x < a then
                    let lp = Math.Log(half - r)
                    Some(struct (lp, ScalarMath.log1mexp lp))
                else
                    let lq = Math.Log(half + r)
                    Some(struct (ScalarMath.log1mexp lq, lq))

    let private halfLog2Pi = 0.91893853320467274178

    /// Stirling's error `log Gamma(a+1) - (a + 1/2) log a + a - log sqrt(2 pi)`: its asymptotic series
    /// for a > 15, directly otherwise (where no term is large enough to cancel badly).
    let private stirlerr (a: float) =
        if a > 15.0 then
            let a2 = a * a
            (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * a2)) / a2) / a2) / a2) / a
        else SpecialFunctions.GammaLn(a + 1.0) - (a + 0.5) * Math.Log a + a - halfLog2Pi

    /// `a log(a/x) + x - a`, accurate when `a ~ x` (Loader 2000, bd0).
    let private bd0 (a: float) (x: float) =
        if abs (a - x) < 0.1 * (a + x) then
            let v = (a - x) / (a + x)
            let mutable s = (a - x) * v
            let mutable ej = 2.0 * a * v
            let v2 = v * v
            let mutable j = 1
            let mutable fin = false
            while not fin && j < 1000 do
                ej <- ej * v2
                let s1 = s + ej / float (2 * j + 1)
                if s1 = s then fin <- true
                s <- s1
                j <- j + 1
            s
        else a * Math.Log(a / x) + x - a

    /// `log(x^a e^-x / Gamma(a + 1))` for `a > 0`, `x > 0`, by Loader's (2000) saddle-point form
    /// `-log sqrt(2 pi a) - stirlerr(a) - bd0(a, x)`: relative accuracy of a few ulps even when
    /// `a log x`, `x` and `log Gamma(a+1)` are each large and nearly cancel.
    let logPrefactor (a: float) (x: float) =
        -halfLog2Pi - 0.5 * Math.Log a - stirlerr a - bd0 a x

    /// `log P(a, x)` by the series `P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n))`.
    let private logPSeries (a: float) (x: float) =
        let mutable term = 1.0
        let mutable sum = 1.0
        let mutable n = 1
        let limit = maxIterations a
        while term > eps * sum && n < limit do
            term <- term * x / (a + float n)
            sum <- sum + term
            n <- n + 1
        if term > eps * sum then notConverged "the series" a x n (term / sum)
        logPrefactor a x + Math.Log sum

    /// `log Q(a, x)` by the modified Lentz continued fraction.
    let private logQContinuedFraction (a: float) (x: float) =
        let tiny = 1e-300
        let mutable b = x + 1.0 - a
        let mutable c = 1.0 / tiny
        let mutable d = 1.0 / b
        let mutable h = d
        let mutable i = 1
        let mutable fin = false
        let limit = maxIterations a
        let mutable del = 0.0
        while not fin && i < limit do
            let an = -(float i) * (float i - a)
            b <- b + 2.0
            d <- an * d + b
            if abs d < tiny then d <- tiny
            c <- b + an / c
            if abs c < tiny then c <- tiny
            d <- 1.0 / d
            del <- d * c
            h <- h * del
            if abs (del - 1.0) < eps then fin <- true
            i <- i + 1
        if not fin then notConverged "the continued fraction" a x i (abs (del - 1.0))
        // Q = x^a e^-x / Gamma(a) * h = prefactor(a, x) * a * h
        logPrefactor a x + Math.Log a + Math.Log h

    /// `(log P(a, x), log Q(a, x))` for `a > 0`, `x >= 0`.
    let logPQ (a: float) (x: float) : struct (float * float) =
        if x <= 0.0 then struct (Double.NegativeInfinity, 0.0)
        elif Double.IsPositiveInfinity x then struct (0.0, Double.NegativeInfinity)
        else
            match temme a x with
            | Some pq -> pq
            | None when x < a + 1.0 ->
                let lp = logPSeries a x
                struct (lp, ScalarMath.log1mexp lp)
            | None ->
                let lq = logQContinuedFraction a x
                struct (ScalarMath.log1mexp lq, lq)

    /// `P(a, x)`.
    let p a x = let struct (lp, _) = logPQ a x in Math.Exp lp
    /// `Q(a, x)`.
    let q a x = let struct (_, lq) = logPQ a x in Math.Exp lq
