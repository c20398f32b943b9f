namespace FunctionalAsymptotics.Models

open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The factor model (paper Section 6.2, Appendix I, eq. (I.3); docs/case-studies.md §2): parameter
/// `A in R^{d x k}`, `x ~ N(0, I + A A^T)`; `O(k)` acts from the right (`A -> A Q`).
[<RequireQualifiedAccess>]
module FactorLoss =

    /// Per-sample Gaussian negative log-likelihood (I.3), without the constant:
    /// `(1/2) [log det(I + A A^T) + z^T (I + A A^T)^-1 z]`.
    let loss (a: Matrix<float>) (z: float[]) : float =
        let d = a.RowCount
        Check.sameLength "z" d z.Length
        let s = Linalg.eye d + a * a.Transpose()
        let chol = s.Cholesky()
        let zv = Linalg.vector z
        0.5 * (chol.DeterminantLn + zv.DotProduct(chol.Solve(zv)))

    /// Features `psi(x, A) = A^T (I + A A^T)^-1 x in R^k` (the posterior mean of `h`); `psi(x, A Q) = Q^T psi(x, A)`.
    let features (a: Matrix<float>) (x: float[]) : float[] =
        let d = a.RowCount
        Check.sameLength "x" d x.Length
        let s = Linalg.eye d + a * a.Transpose()
        (a.Transpose() * s.Cholesky().Solve((Linalg.vector x))).ToArray()

    /// Population loss for `E[z z^T] = Sigma`: `(1/2) [log det S + tr(S^-1 Sigma)]`, `S = I + A A^T`.
    let populationLoss (sigma: Matrix<float>) (a: Matrix<float>) : float =
        let s = Linalg.eye a.RowCount + a * a.Transpose()
        let chol = s.Cholesky()
        0.5 * (chol.DeterminantLn + chol.Solve(sigma).Trace())

    /// Euclidean gradient of `populationLoss`: `S^-1 A - S^-1 Sigma S^-1 A`; zero when `Sigma = S`.
    let populationGradient (sigma: Matrix<float>) (a: Matrix<float>) : Matrix<float> =
        let s = Linalg.eye a.RowCount + a * a.Transpose()
        let sinvA = s.Cholesky().Solve(a)
        sinvA - s.Cholesky().Solve(sigma * sinvA)
