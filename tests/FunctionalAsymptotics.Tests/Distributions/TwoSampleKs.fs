/// The two-sample Kolmogorov–Smirnov statistic, for tests that compare two samplers' laws.
module FunctionalAsymptotics.Tests.Distributions.TwoSampleKs

/// `sup_x |F_a(x) - F_b(x)|` of the empirical distribution functions of `a` and `b`.
let statistic (a: float[]) (b: float[]) =
    let a, b = Array.sort a, Array.sort b
    let mutable i, j, d = 0, 0, 0.0
    while i < a.Length && j < b.Length do
        let x = min a.[i] b.[j]
        while i < a.Length && a.[i] <= x do i <- i + 1
        while j < b.Length && b.[j] <= x do j <- j + 1
        d <- max d (abs (float i / float a.Length - float j / float b.Length))
    d

/// The 99.9% critical value of the statistic for two samples of size `n` each (asymptotic: 1.95 sqrt(2 / n)).
let critical999 (n: int) = 1.95 * sqrt (2.0 / float n)
