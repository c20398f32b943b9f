namespace FunctionalAsymptotics.Groups

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics

/// The worst violation of a symmetry law found over seeded random trials, with the input that caused it.
type LawReport =
    { /// The law checked, in words.
      Law: string
      /// Number of random trials.
      Trials: int
      /// The tolerance the violation is compared with.
      Tolerance: float
      /// The largest (relative) violation found; its definition is stated by each check.
      WorstViolation: float
      /// `WorstViolation <= Tolerance`.
      Passed: bool
      /// The parameter point of the worst trial.
      WorstPoint: Matrix<float>
      /// The group element of the worst trial (an empty 0 x 0 matrix when the law has none).
      WorstElement: Matrix<float>
      /// The sample `z` (or feature input `x`) of the worst trial (empty when the law has none).
      WorstSample: float[] }

/// Options of the law checks.
type LawOptions =
    { /// Number of random trials (default 200).
      Trials: int
      /// Seed of the `System.Random` driving the trials (default 1).
      Seed: int
      /// Accepted relative violation (default 1e-9).
      Tolerance: float }

/// Symmetry laws as checks for users' own models (docs/theory.md section 2; paper Section 4 and Appendix E):
/// invariance, equivariance, descriptor constancy and separation, the section property, and the
/// orbit-invariance of the min-norm OLS predictor (Lemma 4.1). Each returns the worst violation over
/// seeded random trials, with the input that caused it.
[<RequireQualifiedAccess>]
module Laws =

    /// Trials 200, seed 1, tolerance 1e-9.
    let defaultOptions = { Trials = 200; Seed = 1; Tolerance = 1e-9 }

    let private empty = Linalg.zeros 0 0

    let private run (law: string) (opts: LawOptions) (trial: Random -> float * Matrix<float> * Matrix<float> * float[]) =
        if opts.Trials < 1 then raise (InvalidArgumentException("Trials", sprintf "must be >= 1, got %d" opts.Trials))
        let rng = Random(opts.Seed)
        let mutable worst = (Double.NegativeInfinity, empty, empty, [||])
        for _ in 1 .. opts.Trials do
            let (v, _, _, _) as r = trial rng
            let (w, _, _, _) = worst
            // NaN counts as the worst possible violation
            if Double.IsNaN v || v > w then worst <- r
        let (v, p, g, z) = worst
        let v = if Double.IsNaN v then Double.PositiveInfinity else v
        { Law = law; Trials = opts.Trials; Tolerance = opts.Tolerance; WorstViolation = v
          Passed = v <= opts.Tolerance; WorstPoint = p; WorstElement = g; WorstSample = z }

    let private vecNorm (xs: float[]) = sqrt (Array.sumBy (fun x -> x * x) xs)

    /// One random point, group element and sample, drawn in that order from `rng`.
    let private draw (action: GroupAction) (randomPoint: Random -> Matrix<float>) (randomSample: Random -> float[]) (rng: Random) =
        let w = randomPoint rng
        let g = action.RandomElement rng
        w, g, randomSample rng

    /// Loss invariance `l(g.w; z) = l(w; z)`. Violation: `|l(g.w; z) - l(w; z)| / max(1, |l(w; z)|)`.
    let checkInvariance (opts: LawOptions) (action: GroupAction) (loss: Matrix<float> -> float[] -> float)
                        (randomPoint: Random -> Matrix<float>) (randomSample: Random -> float[]) : LawReport =
        run "loss invariance l(g.w; z) = l(w; z)" opts (fun rng ->
            let w, g, z = draw action randomPoint randomSample rng
            let l0 = loss w z
            let l1 = loss (action.Act g w) z
            abs (l1 - l0) / max 1.0 (abs l0), w, g, z)

    /// Feature equivariance `psi(x, g.w) = rho(g) psi(x, w)`, and `rho(g)` orthogonal. Violation:
    /// `max(||psi(x, g.w) - rho(g) psi(x, w)|| / max(1, ||psi(x, w)||), ||rho(g)^T rho(g) - I||_F)`.
    let checkEquivariance (opts: LawOptions) (action: GroupAction) (features: Matrix<float> -> float[] -> float[])
                          (randomPoint: Random -> Matrix<float>) (randomSample: Random -> float[]) : LawReport =
        run "feature equivariance psi(x, g.w) = rho(g) psi(x, w)" opts (fun rng ->
            let w, g, x = draw action randomPoint randomSample rng
            let p0 = features w x
            let p1 = features (action.Act g w) x
            let r = action.Rho g
            if r.RowCount <> p0.Length || r.ColumnCount <> p0.Length || p1.Length <> p0.Length then
                raise (DimensionMismatchException("features", sprintf "length %d (rho is %d x %d)" r.RowCount r.RowCount r.ColumnCount, sprintf "length %d" p0.Length))
            let rp = (r * (Linalg.vector p0)).ToArray()
            let e = vecNorm (Array.map2 (-) p1 rp) / max 1.0 (vecNorm p0)
            let orth = Linalg.norm (r.TransposeThisAndMultiply r - Linalg.eye r.RowCount)
            max e orth, w, g, x)

    /// `rho` is a homomorphism into the orthogonal group: violation
    /// `max(||rho(g h) - rho(g) rho(h)||_F, ||rho(g)^T rho(g) - I||_F)`; also checks that `Act` is a left action,
    /// `||(g h).w - g.(h.w)||_F / max(1, ||w||_F)`.
    let checkHomomorphism (opts: LawOptions) (action: GroupAction) (randomPoint: Random -> Matrix<float>) : LawReport =
        run "rho is a homomorphism into O(p); Act is a left action" opts (fun rng ->
            let g = action.RandomElement rng
            let h = action.RandomElement rng
            let w = randomPoint rng
            let rg = action.Rho g
            let hom = Linalg.norm (action.Rho (g * h) - rg * action.Rho h)
            let orth = Linalg.norm (rg.TransposeThisAndMultiply rg - Linalg.eye rg.RowCount)
            let left = Linalg.norm (action.Act (g * h) w - action.Act g (action.Act h w)) / max 1.0 (Linalg.norm w)
            List.max [ hom; orth; left ], w, g, [||])

    /// Descriptor laws at random points: orbit-constancy `D(g.w) = D(w)`, its infinitesimal form
    /// `dD(w)[xi.w] = 0`, and local separation: `dD(w)` is injective on the horizontal space, so nearby
    /// orbits get different descriptors. Violation: the maximum of
    /// `||D(g.w) - D(w)|| / max(1, ||D(w)||)`, `||dD(w)[xi.w]|| / max(1, ||w|| ||dD(w)||)` and the
    /// separation deficit `max(0, 1 - (s_min/s_max) / separationTolerance)` of the singular values of
    /// `dD(w)` restricted to the horizontal space (1 = not separating at all).
    let checkDescriptor (opts: LawOptions) (separationTolerance: float) (action: GroupAction) (descriptor: Descriptor)
                        (randomPoint: Random -> Matrix<float>) : LawReport =
        run "descriptor: orbit-constant and locally separating" opts (fun rng ->
            let w = randomPoint rng
            let g = action.RandomElement rng
            let d0 = descriptor.Map w
            let constancy = Linalg.norm (descriptor.Map (action.Act g w) - d0) / max 1.0 (Linalg.norm d0)
            let hor = GroupAction.horizontalBasis action w
            let q = descriptor.ValueRows * descriptor.ValueCols
            let j = Linalg.zeros q hor.Length
            hor |> Array.iteri (fun i h -> j.SetColumn(i, Linalg.values (descriptor.Differential w h)))
            let sv = if hor.Length = 0 then [| 1.0 |] else Linalg.singularValues j
            let smax = if sv.Length = 0 then 0.0 else sv.[0]
            let ratio = if hor.Length = 0 then 1.0 elif smax <= 0.0 then 0.0 else (if sv.Length < hor.Length then 0.0 else sv.[sv.Length - 1] / smax)
            let separation = max 0.0 (1.0 - ratio / separationTolerance)
            let infinitesimal =
                action.Generators
                |> Array.map (fun xi -> Linalg.norm (descriptor.Differential w (action.Infinitesimal xi w)) / max 1.0 (Linalg.norm w * max smax 1.0))
                |> Array.fold max 0.0
            List.max [ constancy; infinitesimal; separation ], w, g, [||])

    /// The section property `D(s(Omega)) = Omega` at `Omega = D(w)` for random points `w` (which should be
    /// drawn near the descriptor's reference, where the section is defined). Violation:
    /// `||D(s(Omega)) - Omega||_F / max(1, ||Omega||_F)`.
    let checkSection (opts: LawOptions) (descriptor: Descriptor) (randomPoint: Random -> Matrix<float>) : LawReport =
        run "section: D(s(Omega)) = Omega" opts (fun rng ->
            let w = randomPoint rng
            let omega = descriptor.Map w
            let back = descriptor.Map (descriptor.Section omega)
            Linalg.norm (back - omega) / max 1.0 (Linalg.norm omega), w, empty, [||])

    /// Lemma 4.1 (Appendix E.2.4): the minimum-norm least-squares predictor fitted on features
    /// `psi(x_i, w)` is the same for every representative `g.w` of the orbit. Each trial draws `w`, `g`,
    /// a design of `designSize` samples with arbitrary (Gaussian) labels, fits `theta = Psi^+ y` for both
    /// representatives and compares the predictions at `testSize` fresh points. Violation:
    /// `max_x |f_w(x) - f_{g.w}(x)| / max(1, max_x |f_w(x)|)`; the worst sample reported is the test point.
    let checkOrbitInvariantPredictor (opts: LawOptions) (designSize: int) (testSize: int) (action: GroupAction)
                                     (features: Matrix<float> -> float[] -> float[])
                                     (randomPoint: Random -> Matrix<float>) (randomSample: Random -> float[]) : LawReport =
        if designSize < 1 then raise (InvalidArgumentException("designSize", "must be >= 1"))
        if testSize < 1 then raise (InvalidArgumentException("testSize", "must be >= 1"))
        run "Lemma 4.1: the min-norm OLS predictor is orbit-invariant" opts (fun rng ->
            let w = randomPoint rng
            let g = action.RandomElement rng
            let gw = action.Act g w
            let xs = Array.init designSize (fun _ -> randomSample rng)
            let y = Linalg.vector (Array.init designSize (fun _ -> Linalg.gaussian rng))
            let fit (p: Matrix<float>) =
                let psi = DenseMatrix.OfRowArrays(xs |> Array.map (features p))
                psi.PseudoInverse() * y
            let t0 = fit w
            let t1 = fit gw
            let tests = Array.init testSize (fun _ -> randomSample rng)
            let pred (theta: Vector<float>) p x = theta.DotProduct(Linalg.vector (features p x))
            let diffs = tests |> Array.map (fun x -> abs (pred t0 w x - pred t1 gw x), abs (pred t0 w x))
            let i = diffs |> Array.mapi (fun i (d, _) -> i, d) |> Array.maxBy snd |> fst
            let scale = diffs |> Array.map snd |> Array.max
            fst diffs.[i] / max 1.0 scale, w, g, tests.[i])
