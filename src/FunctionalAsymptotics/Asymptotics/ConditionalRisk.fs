namespace FunctionalAsymptotics.Asymptotics

open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics

/// The three parts of the exact conditional excess risk (Proposition B.1, eq. (B.3)).
type RiskDecomposition =
    { /// `Rep(Omega) = ||(I - Pi_Omega) f*||^2`.
      Rep: float
      /// `Leak_n(Omega) = ||Pi_{Omega,n} f* - Pi_Omega f*||^2`.
      Leak: float
      /// `Var_n(Omega) = (sigma^2 / n) tr(Sigma(Omega) Sigma_n(Omega)^+)`.
      Var: float }
    /// `R - sigma^2 = Rep + Leak + Var`.
    member r.Excess = r.Rep + r.Leak + r.Var

/// Proposition B.1 (paper L1392–L1420, proof Appendix F; docs/theory.md section 5): the exact conditional risk
/// of the min-norm OLS fit on features `phi(x) = W x` for a fixed design, when `f*(x) = b^T x` and
/// `x ~ N(0, Sigma_down)`: every population moment is a closed form.
[<RequireQualifiedAccess>]
module ConditionalRisk =

    /// `R - sigma^2` split into Rep, Leak and Var, for feature matrix `w` (p x d), target coefficients
    /// `b` (`f*(x) = b^T x`), downstream covariance `sigmaDown`, noise variance `sigma2`, and an `n`-point
    /// design given by its scatter matrix `scatter = X^T X` (d x d; the risk depends on the design only
    /// through it). `Sigma = W Sigma_down W^T`, `theta_pop = Sigma^+ W Sigma_down b`,
    /// `Sigma_n = Phi^T Phi / n = W X^T X W^T / n`, `theta_n = Sigma_n^+ Phi^T X b / n = Sigma_n^+ W X^T X b / n`;
    /// the pseudo-inverses are the theory's own (min-norm least squares), not a substitute for an inverse.
    let linearGaussianScatter (sigmaDown: Matrix<float>) (sigma2: float) (b: float[]) (w: Matrix<float>) (scatter: Matrix<float>) (n: int) : RiskDecomposition =
        let d = sigmaDown.RowCount
        Check.sameLength "b" d b.Length
        Linalg.checkShape "scatter" d d scatter
        if n < 1 then Check.fail "n" (sprintf "must be >= 1, got %d" n)
        let nf = float n
        let bv = Linalg.vector b
        let sigma = Linalg.sym (w * sigmaDown * w.Transpose())
        let sigmaPlus = sigma.PseudoInverse()
        let thetaPop = sigmaPlus * (w * (sigmaDown * bv))
        let resid = bv - w.TransposeThisAndMultiply(thetaPop)
        let rep = resid.DotProduct(sigmaDown * resid)
        let sigmaN = Linalg.sym (w * scatter * w.Transpose() / nf)
        let sigmaNPlus = sigmaN.PseudoInverse()
        let thetaN = sigmaNPlus * (w * (scatter * bv) / nf)
        let dt = thetaN - thetaPop
        { Rep = max 0.0 rep
          Leak = dt.DotProduct(sigma * dt)
          Var = sigma2 / nf * (sigma * sigmaNPlus).Trace() }

    /// `R - sigma^2` split into Rep, Leak and Var, for feature matrix `w` (p x d), target coefficients
    /// `b` (`f*(x) = b^T x`), downstream covariance `sigmaDown`, noise variance `sigma2` and design
    /// `design` (n x d, one sample per row): `linearGaussianScatter` at the scatter `X^T X` of the design.
    let linearGaussian (sigmaDown: Matrix<float>) (sigma2: float) (b: float[]) (w: Matrix<float>) (design: Matrix<float>) : RiskDecomposition =
        Linalg.checkShape "design" design.RowCount sigmaDown.RowCount design
        linearGaussianScatter sigmaDown sigma2 b w (design.TransposeThisAndMultiply design) design.RowCount
