namespace FunctionalAsymptotics.Distributions

open System

/// Accurate scalar helpers that .NET lacks (or implements naively).
module internal ScalarMath =
    /// `log(1 + x)`, accurate for small `x` (Kahan's trick).
    let log1p (x: float) =
        let u = 1.0 + x
        if u = 1.0 then x else Math.Log u * x / (u - 1.0)

    /// `exp(x) - 1`, accurate for small `x` (Kahan's trick).
    let expm1 (x: float) =
        if abs x < 1e-5 then x + 0.5 * x * x + x * x * x / 6.0
        else
            let u = Math.Exp x
            if u = 1.0 then x
            elif u - 1.0 = -1.0 then -1.0
            elif Double.IsPositiveInfinity u then u
            else (u - 1.0) * x / Math.Log u

    /// `log(1 - exp(l))` for `l <= 0` (the log of the complement of a log-probability), accurate on both sides.
    let log1mexp (l: float) =
        if l >= 0.0 then Double.NegativeInfinity
        elif l > -0.6931471805599453 then Math.Log(-(expm1 l))
        else log1p (-(Math.Exp l))

    /// `log(exp a + exp b)` without overflow.
    let logAddExp (a: float) (b: float) =
        if Double.IsNegativeInfinity a then b
        elif Double.IsNegativeInfinity b then a
        else
            let m = max a b
            m + log1p (Math.Exp(-(abs (a - b))))
