namespace FunctionalAsymptotics.Models

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
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
        let zv = DenseVector(z)
        let logs = Array.init kBlocks (fun i -> let r = zv - u.Column(i) in -0.5 * r.DotProduct(r))
        -(logSumExp logs - log (float kBlocks) - 0.5 * float d * log (2.0 * Math.PI))

    /// The projector `P_U` onto the leading `rStar` eigenvectors of the centred second moment
    /// `S(U) = sum_i (u_i - ubar)(u_i - ubar)^T`.
    let projector (rStar: int) (u: Matrix<float>) : Matrix<float> =
        let d = u.RowCount
        if rStar < 1 || rStar > d then raise (InvalidArgumentException("rStar", sprintf "must be in [1, %d], got %d" d rStar))
        let ubar = u.RowSums() / float u.ColumnCount
        let c = u.Clone()
        for i in 0 .. u.ColumnCount - 1 do
            c.SetColumn(i, u.Column(i) - ubar)
        let _, v = Linalg.eigSymDesc (c * c.Transpose())
        let vr = v.SubMatrix(0, d, 0, rStar)
        vr * vr.Transpose()

    /// Projected responsibilities `pi_i(x; U) = softmax_i(<P u_i, P x> - |P u_i|^2 / 2)`.
    let responsibilities (rStar: int) (u: Matrix<float>) (x: float[]) : float[] =
        Check.sameLength "x" u.RowCount x.Length
        let p = projector rStar u
        let px = p * DenseVector(x)
        let scores = Array.init u.ColumnCount (fun i -> let pu = p * u.Column(i) in pu.DotProduct(px) - 0.5 * pu.DotProduct(pu))
        let lse = logSumExp scores
        scores |> Array.map (fun s -> exp (s - lse))

    /// Features (6.4): `psi_U(x) = (pi_1 P(x - u_1), pi_1, ..., pi_K P(x - u_K), pi_K) in R^{K(d+1)}`.
    let features (rStar: int) (u: Matrix<float>) (x: float[]) : float[] =
        let p = projector rStar u
        let pis = responsibilities rStar u x
        let xv = DenseVector(x)
        [| for i in 0 .. u.ColumnCount - 1 do
               yield! ((p * (xv - u.Column(i))) * pis.[i]).ToArray()
               yield pis.[i] |]

    /// A sample from the mixture `(1/K) sum_i N(u_i, I_d)`.
    let sample (u: Matrix<float>) (rng: Random) : float[] =
        let i = rng.Next(u.ColumnCount)
        Array.init u.RowCount (fun r -> u.[r, i] + Linalg.gaussian rng)
