namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// Formatting of parameter-space directions in the messages of the specification errors.
module internal SpecificationText =
    /// `[a b c]` with entries in column-major order, 3 significant digits.
    let direction (d: Matrix<float>) =
        "[" + String.Join(" ", Linalg.values d |> Array.map (sprintf "%.3g")) + "]"

    /// Several directions separated by `; `.
    let directions (ds: Matrix<float>[]) = String.Join("; ", ds |> Array.map direction)

/// The horizontal Hessian at `w*` has a clearly negative eigenvalue: `w*` is a saddle point (or a maximum)
/// of the population pre-training loss on the quotient, not a local minimiser, so Theorem 5.1 (which
/// expands around a minimiser, paper Section 4.1) does not apply. `Directions` are the descent directions
/// in parameter space (unit eigenvectors of `H_h` mapped back through the horizontal basis),
/// `Eigenvalues` their (negative) eigenvalues.
type NotLocalMinimiserException(directions: Matrix<float>[], eigenvalues: float[]) =
    inherit InvalidArgumentException(
        "spec.WStar",
        sprintf "must be a local minimiser of the population loss: the horizontal Hessian has %d negative eigenvalue(s) %s along (parameter space, column-major) %s"
            eigenvalues.Length (String.Join(", ", eigenvalues |> Array.map (sprintf "%.3g"))) (SpecificationText.directions directions))
    /// Descent directions in parameter space (unit Frobenius norm).
    member _.Directions = directions
    /// The negative eigenvalues of `H_h` along them.
    member _.Eigenvalues = eigenvalues

/// `w*` is not a critical point of the population pre-training loss: `||grad L_pre(w*)||` exceeds
/// `Threshold`. For closed-form moments the threshold is a rounding tolerance; for Monte Carlo it is a
/// multiple of the standard error `StandardError` of the mean score (so a failure is not noise).
type NotCriticalPointException(gradientNorm: float, threshold: float, standardError: float, gradient: Matrix<float>) =
    inherit InvalidArgumentException(
        "spec.WStar",
        sprintf "must be a critical point of the population loss: ||grad L_pre(w*)|| = %.3g exceeds %.3g%s; gradient (column-major) %s"
            gradientNorm threshold
            (if Double.IsNaN standardError then "" else sprintf " (Monte Carlo standard error %.3g)" standardError)
            (SpecificationText.direction gradient))
    /// `||grad L_pre(w*)||_F` (the Monte Carlo mean score on the horizontal space for the sampled route).
    member _.GradientNorm = gradientNorm
    /// The threshold it exceeded.
    member _.Threshold = threshold
    /// The Monte Carlo standard error of `GradientNorm` (NaN for closed-form moments).
    member _.StandardError = standardError
    /// The gradient (parameter space).
    member _.Gradient = gradient

/// A user-supplied derivative disagrees with Richardson-extrapolated finite differences of the function
/// it differentiates: `RelativeError = ||supplied - finite difference|| / max(||supplied||, ||finite
/// difference||)` along `Direction` exceeds `Tolerance`. `Field` names the derivative (e.g.
/// `spec.Population.HessianVector`).
type DerivativeMismatchException(field: string, relativeError: float, tolerance: float, direction: Matrix<float>) =
    inherit InvalidArgumentException(
        field,
        sprintf "does not match finite differences: relative error %.3g exceeds %.3g along direction (column-major) %s"
            relativeError tolerance (SpecificationText.direction direction))
    /// The derivative concerned.
    member _.Field = field
    /// The relative error found.
    member _.RelativeError = relativeError
    /// The tolerance exceeded.
    member _.Tolerance = tolerance
    /// The direction of differentiation of the worst case.
    member _.Direction = direction

/// A symmetry law of the specification fails on seeded random trials (paper Section 4, Appendix E): the
/// loss is not invariant under the group, or the features are not equivariant. `Report` holds the worst
/// violation and the point, group element and sample that caused it.
type SymmetryViolationException(field: string, report: LawReport) =
    inherit InvalidArgumentException(
        field,
        sprintf "breaks the law '%s': worst violation %.3g exceeds %.3g over %d seeded trials"
            report.Law report.WorstViolation report.Tolerance report.Trials)
    /// The field concerned (`spec.Pretraining.Loss` or the features).
    member _.Field = field
    /// The worst trial.
    member _.Report = report
