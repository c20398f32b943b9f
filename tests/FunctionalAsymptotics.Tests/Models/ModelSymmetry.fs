/// Shared helpers for the model symmetry tests.
module FunctionalAsymptotics.Tests.Models.ModelSymmetry

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

let opts = { Laws.defaultOptions with Trials = 200; Seed = 7; Tolerance = 1e-10 }

let expectPassed (r: LawReport) =
    Expect.isTrue r.Passed (sprintf "%s: worst violation %g (tolerance %g)" r.Law r.WorstViolation r.Tolerance)

/// `H v` by central differences of an analytic gradient, relative to `||v||`.
let hessianVector (grad: Matrix<float> -> Matrix<float>) (w: Matrix<float>) (v: Matrix<float>) =
    let h = 1e-5
    (grad (w + v * h) - grad (w - v * h)) / (2.0 * h)

/// At a minimiser `w` of an invariant loss: the gradient vanishes, `H v = 0` for every vertical `v`,
/// and `H` is not zero on the horizontal space (so the first check is not vacuous).
let hessianVanishesOnVertical (action: GroupAction) (grad: Matrix<float> -> Matrix<float>) (w: Matrix<float>) =
    Expect.isLessThan (Linalg.norm (grad w)) 1e-10 "w is a critical point"
    let ver = GroupAction.verticalBasis action w
    Expect.equal ver.Length action.Generators.Length "vertical space of full dimension"
    for v in ver do
        Expect.isLessThan (Linalg.norm (hessianVector grad w v)) 1e-7 "H v = 0 on the vertical space"
    let hor = GroupAction.horizontalBasis action w
    let worstHorizontal = hor |> Array.map (fun h -> Linalg.inner h (hessianVector grad w h)) |> Array.min
    Expect.isGreaterThan worstHorizontal 1e-3 "H is positive definite on the horizontal space (identifiable)"
