namespace FunctionalAsymptotics.Distributions

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics

/// Seeded draws of a Gaussian sample's scatter matrix straight from its law.
///
/// For rows `x_1 .. x_n` i.i.d. `N(0, Sigma)` in dimension `d`, `Sigma = L L^T`, the scatter matrix
/// `X^T X = sum_s x_s x_s^T` has the Wishart law `W_d(n, Sigma)`. Bartlett's decomposition (Bartlett 1933;
/// Anderson, An Introduction to Multivariate Statistical Analysis, 3rd ed., Cor. 7.2.1) writes it as
/// `L A A^T L^T` with `A` lower triangular and independent entries `A_ii = sqrt(chi^2_{n - i})`
/// (`i = 0 .. d - 1`) and `A_ij ~ N(0, 1)` below the diagonal: `d (d + 1) / 2` draws instead of `n d`.
/// A statistic that depends on the sample only through `X^T X` (a least-squares fit, a sample covariance)
/// therefore has the same law when computed from this draw.
[<RequireQualifiedAccess>]
module Wishart =

    /// `X^T X` of `n` i.i.d. rows `N(0, L L^T)` for the lower-triangular (or any) `d x d` factor `l`,
    /// drawn from `W_d(n, L L^T)`: by Bartlett's decomposition when `n >= d + 1` (the chi-square
    /// diagonal as `2 Gamma((n - i) / 2)`, Marsaglia–Tsang, shape >= 1), otherwise from the `n` rows
    /// themselves (`X = Z L^T`, `Z` an `n x d` standard normal matrix). Normals by `Linalg.gaussian`,
    /// uniforms by `rng.NextDouble`, in a fixed order: the same `rng` state gives the same matrix.
    let scatter (rng: Random) (n: int) (l: Matrix<float>) : Matrix<float> =
        if n < 1 then Check.fail "n" (sprintf "must be >= 1, got %d" n)
        let d = l.RowCount
        Linalg.checkShape "l" d d l
        if n >= d + 1 then
            let a = DenseMatrix(d, d)
            for i in 0 .. d - 1 do
                a.[i, i] <- sqrt (2.0 * ChiSquareSampler.gammaFrom (fun () -> Linalg.gaussian rng) rng.NextDouble (0.5 * float (n - i)))
                for j in 0 .. i - 1 do a.[i, j] <- Linalg.gaussian rng
            let la = l * a
            Linalg.sym (la.TransposeAndMultiply la)
        else
            let x = Linalg.randn rng n d * l.Transpose()
            Linalg.sym (x.TransposeThisAndMultiply x)
