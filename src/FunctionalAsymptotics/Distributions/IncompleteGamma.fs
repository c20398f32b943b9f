namespace FunctionalAsymptotics.Distributions

open System
open MathNet.Numerics

/// Regularized incomplete gamma functions `P(a, x)` and `Q(a, x) = 1 - P(a, x)` in log space, each with
/// full relative accuracy on its own side (neither is computed as one minus the other where that
/// would cancel). Series for `x < a + 1`, Lentz continued fraction otherwise (Numerical Recipes 6.2).
module internal IncompleteGamma =

    let private maxIterations = 100_000
    let private eps = 1e-17

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
        while term > eps * sum && n < maxIterations do
            term <- term * x / (a + float n)
            sum <- sum + term
            n <- n + 1
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
        while not fin && i < maxIterations do
            let an = -(float i) * (float i - a)
            b <- b + 2.0
            d <- an * d + b
            if abs d < tiny then d <- tiny
            c <- b + an / c
            if abs c < tiny then c <- tiny
            d <- 1.0 / d
            let del = d * c
            h <- h * del
            if abs (del - 1.0) < eps then fin <- true
            i <- i + 1
        // Q = x^a e^-x / Gamma(a) * h = prefactor(a, x) * a * h
        logPrefactor a x + Math.Log a + Math.Log h

    /// `(log P(a, x), log Q(a, x))` for `a > 0`, `x >= 0`.
    let logPQ (a: float) (x: float) : struct (float * float) =
        if x <= 0.0 then struct (Double.NegativeInfinity, 0.0)
        elif Double.IsPositiveInfinity x then struct (0.0, Double.NegativeInfinity)
        elif x < a + 1.0 then
            let lp = logPSeries a x
            struct (lp, ScalarMath.log1mexp lp)
        else
            let lq = logQContinuedFraction a x
            struct (ScalarMath.log1mexp lq, lq)

    /// `P(a, x)`.
    let p a x = let struct (lp, _) = logPQ a x in Math.Exp lp
    /// `Q(a, x)`.
    let q a x = let struct (_, lq) = logPQ a x in Math.Exp lq
