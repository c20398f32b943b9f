namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// Linear spectral contrastive pre-training (paper Section 6.1, eq. (6.2); Appendix H; docs/case-studies.md §1).
/// Parameter `A in R^{k x d}`; one sample `z = (x, x+, x-)`; `O(k)` acts from the left, `rho(Q) = Q`.
[<RequireQualifiedAccess>]
module SpectralLoss =

    let private av (a: Matrix<float>) (x: float[]) = a * (Linalg.vector x)

    /// Per-sample loss (6.2): `l(A; x, x+, x-) = -2 <A x, A x+> + <A x, A x->^2`.
    let loss (a: Matrix<float>) (x: float[]) (xPlus: float[]) (xMinus: float[]) : float =
        Check.sameLength "x" a.ColumnCount x.Length
        Check.sameLength "xPlus" a.ColumnCount xPlus.Length
        Check.sameLength "xMinus" a.ColumnCount xMinus.Length
        let ax = av a x
        let c = ax.DotProduct(av a xMinus)
        -2.0 * ax.DotProduct(av a xPlus) + c * c

    /// `loss` on a packed sample `z = [x; x+; x-]` of length `3d`.
    let lossPacked (a: Matrix<float>) (z: float[]) : float =
        let d = a.ColumnCount
        Check.sameLength "z" (3 * d) z.Length
        loss a z.[0 .. d - 1] z.[d .. 2 * d - 1] z.[2 * d .. 3 * d - 1]

    /// Features `psi(x, A) = A x in R^k`.
    let features (a: Matrix<float>) (x: float[]) : float[] =
        Check.sameLength "x" a.ColumnCount x.Length
        (av a x).ToArray()

    /// Population loss `E l = -2 tr(A Sigma+ A^T) + tr((A Sigma A^T)^2)`, with `Sigma = E[x x^T]`,
    /// `Sigma+ = E[x+ x^T]` and `x-` an independent copy of `x` (only second moments enter).
    let populationLoss (sigma: Matrix<float>) (sigmaPlus: Matrix<float>) (a: Matrix<float>) : float =
        let s = a * sigma * a.Transpose()
        -2.0 * (a * sigmaPlus * a.Transpose()).Trace() + Linalg.inner s s

    /// Euclidean gradient of `populationLoss`: `-4 A Sigma+ + 4 (A Sigma A^T) A Sigma` (for symmetric `Sigma+`).
    let populationGradient (sigma: Matrix<float>) (sigmaPlus: Matrix<float>) (a: Matrix<float>) : Matrix<float> =
        a * sigmaPlus * -4.0 + (a * sigma * a.Transpose()) * a * sigma * 4.0

    /// A packed sample `[x; x+; x-]` from the Gaussian construction of docs/case-studies.md §1:
    /// `x ~ N(0, I)`, `x+ = C x + (I - C^2)^{1/2} w`, `x- ~ N(0, I)`, for diagonal `C = diag(c)`, `|c_i| <= 1`.
    let sampleGaussian (c: float[]) (rng: Random) : float[] =
        let d = c.Length
        let x = Linalg.randnVector rng d
        let w = Linalg.randnVector rng d
        let xPlus = Array.init d (fun i -> c.[i] * x.[i] + sqrt (max 0.0 (1.0 - c.[i] * c.[i])) * w.[i])
        let xMinus = Linalg.randnVector rng d
        Array.concat [ x; xPlus; xMinus ]
