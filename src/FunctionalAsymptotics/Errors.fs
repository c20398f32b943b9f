namespace FunctionalAsymptotics

open System

/// An argument broke a documented constraint. `Argument` names the parameter and `Constraint` states
/// the rule it broke, in words a user can act on (e.g. "weights: must be non-empty").
type InvalidArgumentException(argument: string, constraintText: string, ?inner: exn) =
    inherit ArgumentException(sprintf "%s: %s" argument constraintText, argument, Option.toObj inner)
    /// The offending parameter's name.
    member _.Argument = argument
    /// The constraint, in words.
    member _.Constraint = constraintText

/// Two arguments (or an argument and the object it acts on) have incompatible shapes.
type DimensionMismatchException(argument: string, expected: string, actual: string) =
    inherit InvalidArgumentException(argument, sprintf "dimension mismatch: expected %s, got %s" expected actual)
    /// The expected shape, in words.
    member _.Expected = expected
    /// The shape that was given.
    member _.Actual = actual

/// An input contained NaN or an infinity where finite numbers are required.
type NonFiniteException(argument: string, index: int) =
    inherit InvalidArgumentException(argument, sprintf "must be finite, but element %d is NaN or infinite" index)
    /// Index of the first non-finite element (row-major for matrices).
    member _.Index = index

/// Base of the library's non-argument failures: a computation that cannot honestly return a number.
type FunctionalAsymptoticsException(message: string, ?inner: exn) =
    inherit Exception(message, Option.toObj inner)

/// An iterative algorithm stopped before its convergence test held.
type ConvergenceException(algorithm: string, iterations: int, residual: float, tolerance: float) =
    inherit FunctionalAsymptoticsException(
        sprintf "%s did not converge: residual %.3g after %d iterations (tolerance %.3g)" algorithm residual iterations tolerance)
    /// What did not converge.
    member _.Algorithm = algorithm
    /// Iterations spent.
    member _.Iterations = iterations
    /// The last value of the convergence criterion.
    member _.Residual = residual
    /// The tolerance that was asked for.
    member _.Tolerance = tolerance

/// A matrix that the theory needs to invert (or to have a given rank) is rank deficient.
type RankDeficientException(argument: string, expectedRank: int, numericalRank: int) =
    inherit FunctionalAsymptoticsException(
        sprintf "%s is rank deficient: numerical rank %d, required %d" argument numericalRank expectedRank)
    /// The matrix concerned.
    member _.Argument = argument
    /// The rank the theory needs.
    member _.ExpectedRank = expectedRank
    /// The rank found.
    member _.NumericalRank = numericalRank

/// A point given to a manifold operation does not lie on the manifold: the residual of its defining
/// equations (`Distance`, in the manifold's own units, documented per manifold) exceeds `Tolerance`.
type OffManifoldException(argument: string, manifold: string, distance: float, tolerance: float) =
    inherit InvalidArgumentException(
        argument, sprintf "must lie on %s: residual %.3g exceeds tolerance %.3g" manifold distance tolerance)
    /// The manifold the point should lie on.
    member _.Manifold = manifold
    /// The residual of the defining equations at the point.
    member _.Distance = distance
    /// The tolerance that was exceeded.
    member _.Tolerance = tolerance

/// Internal argument checks that raise the typed errors above.
module internal Check =
    let inline fail argument text = raise (InvalidArgumentException(argument, text))

    let finiteArray (argument: string) (xs: float[]) =
        if isNull (box xs) then fail argument "must not be null"
        for i in 0 .. xs.Length - 1 do
            if not (Double.IsFinite xs.[i]) then raise (NonFiniteException(argument, i))

    let finite (argument: string) (x: float) =
        if not (Double.IsFinite x) then fail argument (sprintf "must be finite, got %g" x)

    let nonEmpty (argument: string) (xs: 'T[]) =
        if isNull (box xs) || xs.Length = 0 then fail argument "must be non-empty"

    let probability (argument: string) (p: float) =
        if Double.IsNaN p || p < 0.0 || p > 1.0 then fail argument (sprintf "must be a probability in [0, 1], got %g" p)

    let positive (argument: string) (x: float) =
        if not (Double.IsFinite x) || x <= 0.0 then fail argument (sprintf "must be finite and > 0, got %g" x)

    let sameLength (argument: string) (expected: int) (actual: int) =
        if expected <> actual then
            raise (DimensionMismatchException(argument, sprintf "length %d" expected, sprintf "length %d" actual))

[<assembly: System.Runtime.CompilerServices.InternalsVisibleTo("FunctionalAsymptotics.Tests")>]
do ()
