namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// A smooth objective on the parameter space `R^{q0}` (an empirical or population pre-training loss).
type Objective =
    { /// `F(w)`.
      Value: Matrix<float> -> float
      /// `nabla F(w)`.
      Gradient: Matrix<float> -> Matrix<float>
      /// `nabla^2 F(w)[v]`: arguments `w v`.
      HessianVector: Matrix<float> -> Matrix<float> -> Matrix<float> }

/// Options of the horizontal Newton method.
type NewtonOptions =
    { /// Stop when the Frobenius norm of the gradient is at most this.
      GradientTolerance: float
      /// Iteration budget per start.
      MaxIterations: int
      /// Armijo sufficient-decrease constant.
      Armijo: float }

/// The outcome of a minimisation.
type MinimiserResult =
    { /// The minimiser found.
      Point: Matrix<float>
      /// `F` there.
      Value: float
      /// `||nabla F||_F` there.
      GradientNorm: float
      /// Newton iterations used (by the winning start).
      Iterations: int
      /// Index of the winning start.
      Start: int }

/// M-estimation on the quotient: Newton's method with a backtracking line search on the horizontal space
/// (docs/theory.md section 3). At each iterate `w` the step solves `(H_h + mu I) s = -B^T nabla F` in an
/// orthonormal basis `B` of `Hor(w)` (`mu >= 0` the smallest shift making the system positive definite,
/// so every step is a descent direction); the gradient is horizontal for an invariant `F`, so the
/// vertical (non-identifiable) directions are never moved along.
[<RequireQualifiedAccess>]
module Minimise =

    /// Defaults: gradient norm `<= 1e-10`, 100 iterations, Armijo constant `1e-4`.
    let defaultOptions = { GradientTolerance = 1e-10; MaxIterations = 100; Armijo = 1e-4 }

    let private hessianInBasis (objective: Objective) (w: Matrix<float>) (basis: Matrix<float>[]) =
        let n = basis.Length
        let h = Linalg.zeros n n
        for j in 0 .. n - 1 do
            let hv = objective.HessianVector w basis.[j]
            for i in 0 .. n - 1 do
                h.[i, j] <- Linalg.inner basis.[i] hv
        Linalg.sym h

    /// One run of horizontal Newton from `start`; raises `ConvergenceException` when the gradient test
    /// fails within the budget.
    let newton (options: NewtonOptions) (action: GroupAction) (objective: Objective) (start: Matrix<float>) : MinimiserResult =
        let mutable w = start.Clone()
        let mutable f = objective.Value w
        let mutable g = objective.Gradient w
        let mutable it = 0
        let mutable stalled = false
        while Linalg.norm g > options.GradientTolerance && it < options.MaxIterations && not stalled do
            let basis = GroupAction.horizontalBasis action w
            let gh = Linalg.vector (basis |> Array.map (fun b -> Linalg.inner b g))
            let h = hessianInBasis objective w basis
            let lam, _ = Linalg.eigSymDesc h
            let lmin = lam.[lam.Length - 1]
            let scale = max 1e-12 (abs lam.[0])
            let mu = if lmin > 1e-8 * scale then 0.0 else -lmin + 1e-3 * scale
            let s = (h + (Linalg.eye basis.Length) * mu).Solve(-gh)
            let dir = basis |> Array.mapi (fun i b -> b * s.[i]) |> Array.reduce (+)
            let slope = gh.DotProduct(s)
            let mutable t = 1.0
            let mutable accepted = false
            while not accepted && t > 1e-12 do
                let wt = w + dir * t
                let ft = objective.Value wt
                // Near the optimum F stops decreasing measurably; accept a step that shrinks the gradient.
                if ft <= f + options.Armijo * t * slope || (abs (ft - f) <= 1e-14 * max 1.0 (abs f) && Linalg.norm (objective.Gradient wt) < Linalg.norm g) then
                    w <- wt
                    f <- ft
                    accepted <- true
                else t <- t / 2.0
            if not accepted then stalled <- true
            g <- objective.Gradient w
            it <- it + 1
        let gn = Linalg.norm g
        if not (gn <= options.GradientTolerance) then
            raise (ConvergenceException("horizontal Newton", it, gn, options.GradientTolerance))
        { Point = w; Value = f; GradientNorm = gn; Iterations = it; Start = 0 }

    /// Multi-start: runs `newton` from every start and returns the converged run with the lowest
    /// objective; raises `ConvergenceException` (of the last failure) when no start converges.
    let multiStart (options: NewtonOptions) (action: GroupAction) (objective: Objective) (starts: Matrix<float>[]) : MinimiserResult =
        if starts.Length = 0 then Check.fail "starts" "must be non-empty"
        let results =
            starts |> Array.mapi (fun i s ->
                try Choice1Of2 { newton options action objective s with Start = i }
                with :? ConvergenceException as e -> Choice2Of2 e)
        let ok = results |> Array.choose (function Choice1Of2 r -> Some r | _ -> None)
        if ok.Length = 0 then
            match results |> Array.tryPick (function Choice2Of2 e -> Some e | _ -> None) with
            | Some e -> raise e
            | None -> raise (InvalidOperationException "unreachable")
        ok |> Array.minBy (fun r -> r.Value)
