namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The Gaussian mixture with subspace-aware gating (paper Section 6.3, eqs. (6.3)–(6.4); Appendix J;
/// docs/case-studies.md §3). Parameter `U = (u_1, ..., u_K) in R^{d x K}` (centres as columns); `S_K`
/// permutes the columns and the K feature blocks (block length `d + 1`).
[<RequireQualifiedAccess>]
module GaussianMixtureLoss =

    let private logSumExp (xs: float[]) =
        let m = Array.max xs
        m + log (Array.sumBy (fun x -> exp (x - m)) xs)

    /// Per-sample negative log-likelihood of the equal-weight, identity-covariance mixture:
    /// `-log((1/K) sum_i phi(z - u_i))`, `phi` the standard normal density on `R^d`.
    let loss (u: Matrix<float>) (z: float[]) : float =
        let d, kBlocks = u.RowCount, u.ColumnCount
        Check.sameLength "z" d z.Length
        let zv = Linalg.vector z
        let logs = Array.init kBlocks (fun i -> let r = zv - u.Column(i) in -0.5 * r.DotProduct(r))
        -(logSumExp logs - log (float kBlocks) - 0.5 * float d * log (2.0 * Math.PI))

    /// A sample from the mixture `(1/K) sum_i N(u_i, I_d)`.
    let sample (u: Matrix<float>) (rng: Random) : float[] =
        let i = rng.Next(u.ColumnCount)
        Array.init u.RowCount (fun r -> u.[r, i] + Linalg.gaussian rng)
