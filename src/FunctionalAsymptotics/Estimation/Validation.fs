namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// Options of the validation of a model specification (docs/your-own-model.md, "Validation").
type ValidationOptions =
    { /// Validate at all (default true). The one switch that turns every check off.
      Enabled: bool
      /// Seed of the random points, group elements, samples and directions of the checks (default 1).
      Seed: int
      /// Random trials of each symmetry law (default 50).
      SymmetryTrials: int
      /// Accepted relative violation of a symmetry law (default 1e-9).
      SymmetryTolerance: float
      /// Random (point, sample, direction) trials of each supplied derivative (default 3).
      DerivativeTrials: int
      /// Accepted relative error of a supplied derivative against Richardson differences (default 1e-6).
      DerivativeTolerance: float
      /// Closed-form moments: `||grad L_pre(w*)||` must be `<= CriticalTolerance * lambda_max(H_h) *
      /// max(1, ||w*||)` (default 1e-8). Monte Carlo: this term is added to the statistical threshold.
      CriticalTolerance: float
      /// Monte Carlo: how many standard errors a statistic may be from its null value before the check
      /// fails (default 6: a false alarm has probability below 1e-8 for a Gaussian statistic).
      StandardErrors: float }

/// One user-supplied derivative compared with finite differences.
type DerivativeCheck =
    { /// The derivative (e.g. `spec.Pretraining.Gradient`).
      Field: string
      /// The worst relative error over the trials.
      RelativeError: float
      /// The tolerance it was compared with.
      Tolerance: float }

/// What the validation measured, when every check passed.
type ValidationReport =
    { /// Loss invariance `l(g.w; z) = l(w; z)` (worst trial).
      Invariance: LawReport
      /// Feature equivariance `psi(x, g.w) = rho(g) psi(x, w)` (worst trial).
      Equivariance: LawReport
      /// The supplied derivatives checked (empty when none was supplied).
      Derivatives: DerivativeCheck[]
      /// `||grad L_pre(w*)||` (closed form), or the norm of the Monte Carlo mean score on `Hor(w*)`.
      GradientNorm: float
      /// The threshold `GradientNorm` passed.
      GradientThreshold: float
      /// Monte Carlo standard error of `GradientNorm` (NaN for closed-form moments).
      GradientStandardError: float
      /// Eigenvalues of the horizontal Hessian `H_h` at `w*`, descending.
      HessianEigenvalues: float[]
      /// Monte Carlo (jackknife) standard error of the smallest eigenvalue (NaN for closed-form moments).
      SmallestEigenvalueStandardError: float }

/// Validation of a model specification before its law is computed: shapes, symmetry laws, supplied
/// derivatives, the critical point and the horizontal Hessian at `w*`. Each failure raises a typed
/// exception naming the field and giving the numbers.
[<RequireQualifiedAccess>]
module Validation =

    /// Enabled, seed 1, 50 symmetry trials at 1e-9, 3 derivative trials at 1e-6, critical tolerance 1e-8,
    /// 6 standard errors.
    let defaultOptions =
        { Enabled = true; Seed = 1; SymmetryTrials = 50; SymmetryTolerance = 1e-9; DerivativeTrials = 3
          DerivativeTolerance = 1e-6; CriticalTolerance = 1e-8; StandardErrors = 6.0 }

    /// A seeded draw from the downstream design (Gaussian `N(0, Sigma_down)` for a linear representation).
    let downstreamSampler (repr: Representation) : Random -> float[] =
        match repr with
        | Sampled r -> r.Sample
        | LinearGaussian r ->
            let s = Linalg.sqrtPsd r.DownstreamCovariance
            fun rng -> (s * (Linalg.vector (Linalg.randnVector rng s.ColumnCount))).ToArray()

    /// Shapes, before any computation: `w*` against the group action's point shape, `theta*` against the
    /// feature dimension `p`, the feature map, its differential and the downstream covariance against each
    /// other, supplied gradients against `w*`, and `sigma^2 >= 0`. Raises `DimensionMismatchException`
    /// (or `InvalidArgumentException`) naming the field.
    let checkShapes (spec: ModelSpec<'Z>) =
        let a = spec.Action
        Linalg.checkShape "spec.WStar" a.PointRows a.PointCols spec.WStar
        Linalg.checkFinite "spec.WStar" spec.WStar
        let p = a.FeatureDimension
        if isNull (box spec.ThetaStar) then Check.fail "spec.ThetaStar" "must not be null"
        Check.sameLength "spec.ThetaStar" p spec.ThetaStar.Length
        Check.finiteArray "spec.ThetaStar" spec.ThetaStar
        if not (Double.IsFinite spec.Sigma2) || spec.Sigma2 < 0.0 then
            Check.fail "spec.Sigma2" (sprintf "must be finite and >= 0, got %g" spec.Sigma2)
        let w = spec.WStar
        let dw = Linalg.zeros w.RowCount w.ColumnCount
        match spec.Representation with
        | LinearGaussian r ->
            let c = r.DownstreamCovariance
            if c.RowCount <> c.ColumnCount then
                raise (DimensionMismatchException("spec.Representation.DownstreamCovariance", "a square matrix", sprintf "%d x %d" c.RowCount c.ColumnCount))
            Linalg.checkShape "spec.Representation.FeatureMatrix(w*)" p c.RowCount (r.FeatureMatrix w)
            Linalg.checkShape "spec.Representation.FeatureDifferential(w*)" p c.RowCount (r.FeatureDifferential w dw)
        | Sampled r ->
            if r.Count < 1 then Check.fail "spec.Representation.Count" (sprintf "must be >= 1, got %d" r.Count)
            let x = r.Sample(Random 0)
            Check.sameLength "spec.Representation.Features(w*, x)" p (r.Features w x).Length
            Check.sameLength "spec.Representation.FeatureDifferential(w*, x)" p (r.FeatureDifferential w x dw).Length
        match spec.Population with
        | Some pop ->
            Linalg.checkShape "spec.Population.Gradient(w*)" w.RowCount w.ColumnCount (pop.Gradient w)
            Linalg.checkShape "spec.Population.HessianVector(w*)" w.RowCount w.ColumnCount (pop.HessianVector w dw)
        | None -> ()
        let z = spec.Pretraining.Sample(Random 0)
        match spec.Pretraining.Gradient with
        | Some g -> Linalg.checkShape "spec.Pretraining.Gradient(w*)" w.RowCount w.ColumnCount (g w z)
        | None -> ()

    /// A random point near `w*` (Gaussian perturbation of Frobenius size `~ 0.3 max(1, ||w*||)`).
    let private nearby (w: Matrix<float>) (rng: Random) =
        let e = Linalg.randn rng w.RowCount w.ColumnCount
        w + e * (0.3 * max 1.0 (Linalg.norm w) / max 1e-300 (Linalg.norm e))

    let private asSample (z: 'Z) : float[] =
        match box z with
        | :? (float[]) as a -> a
        | _ -> [||]

    /// Loss invariance and feature equivariance on seeded random points near `w*`, random group elements
    /// and samples. Raises `SymmetryViolationException` naming `spec.Pretraining.Loss` or the features.
    let checkSymmetry (opts: ValidationOptions) (spec: ModelSpec<'Z>) : LawReport * LawReport =
        let lawOpts = { Trials = opts.SymmetryTrials; Seed = opts.Seed; Tolerance = opts.SymmetryTolerance }
        let action = spec.Action
        // Loss invariance for any sample type 'Z (Laws.checkInvariance takes float[] samples).
        let rng = Random opts.Seed
        let mutable worst = None
        for _ in 1 .. opts.SymmetryTrials do
            let w = nearby spec.WStar rng
            let g = action.RandomElement rng
            let z = spec.Pretraining.Sample rng
            let l0 = spec.Pretraining.Loss w z
            let v = abs (spec.Pretraining.Loss (action.Act g w) z - l0) / max 1.0 (abs l0)
            let v = if Double.IsNaN v then Double.PositiveInfinity else v
            match worst with
            | Some (best, _, _, _) when best >= v -> ()
            | _ -> worst <- Some(v, w, g, asSample z)
        let v, w, g, z = worst.Value
        let invariance =
            { Law = "loss invariance l(g.w; z) = l(w; z)"; Trials = opts.SymmetryTrials; Tolerance = opts.SymmetryTolerance
              WorstViolation = v; Passed = v <= opts.SymmetryTolerance; WorstPoint = w; WorstElement = g; WorstSample = z }
        if not invariance.Passed then raise (SymmetryViolationException("spec.Pretraining.Loss", invariance))
        let equivariance =
            Laws.checkEquivariance lawOpts action (ModelSpec.features spec) (nearby spec.WStar) (downstreamSampler spec.Representation)
        if not equivariance.Passed then
            let field = match spec.Representation with LinearGaussian _ -> "spec.Representation.FeatureMatrix" | Sampled _ -> "spec.Representation.Features"
            raise (SymmetryViolationException(field, equivariance))
        invariance, equivariance

    let private unitRandom (rng: Random) (w: Matrix<float>) =
        let v = Linalg.randn rng w.RowCount w.ColumnCount
        v / Linalg.norm v

    /// Compares `supplied` with `reference` over `trials` seeded (point near `w*`, unit direction) pairs;
    /// `trial rng w v` returns both (drawing a sample from `rng` if it needs one). Raises
    /// `DerivativeMismatchException` for the worst one above the tolerance.
    let private compare (opts: ValidationOptions) (w0: Matrix<float>) (field: string)
                        (trial: Random -> Matrix<float> -> Matrix<float> -> Matrix<float> * Matrix<float>) : DerivativeCheck =
        let rng = Random(opts.Seed + 7919)
        let mutable worst = 0.0
        let mutable worstDir = Linalg.zeros 0 0
        for _ in 1 .. opts.DerivativeTrials do
            let w = nearby w0 rng
            let v = unitRandom rng w
            let supplied, reference = trial rng w v
            let scale = max (Linalg.norm supplied) (Linalg.norm reference)
            let e = if scale = 0.0 then 0.0 else Linalg.norm (supplied - reference) / scale
            let e = if Double.IsNaN e then Double.PositiveInfinity else e
            if e >= worst then
                worst <- e
                worstDir <- v
        if worst > opts.DerivativeTolerance then raise (DerivativeMismatchException(field, worst, opts.DerivativeTolerance, worstDir))
        { Field = field; RelativeError = worst; Tolerance = opts.DerivativeTolerance }

    let private fd = FiniteDifference.directional FiniteDifference.defaultStep

    /// Every supplied derivative against Richardson differences at seeded points near `w*` along random unit
    /// directions: the per-sample gradient (`<grad l, v>` against `d/dt l(w + t v)`), the per-sample
    /// Hessian-vector product (against the difference of the gradient), the population Hessian-vector
    /// product (against the difference of the population gradient), and the feature differential (against
    /// the difference of the features or of `W(w)`). Raises `DerivativeMismatchException` naming the field.
    let checkDerivatives (opts: ValidationOptions) (spec: ModelSpec<'Z>) : DerivativeCheck[] =
        let pre = spec.Pretraining
        let check = compare opts spec.WStar
        let scalar (x: float) = let m = Linalg.zeros 1 1 in m.[0, 0] <- x; m
        [| match pre.Gradient with
           | Some g ->
               yield check "spec.Pretraining.Gradient" (fun rng w v ->
                   let z = pre.Sample rng
                   scalar (Linalg.inner (g w z) v), scalar (Derivatives.directional (fun x -> pre.Loss x z) w v))
           | None -> ()
           match pre.HessianVector with
           | Some h ->
               yield check "spec.Pretraining.HessianVector" (fun rng w v ->
                   let z = pre.Sample rng
                   h w z v, fd (fun x -> ModelSpec.gradient pre x z) w v)
           | None -> ()
           match spec.Population with
           | Some pop -> yield check "spec.Population.HessianVector" (fun _ w v -> pop.HessianVector w v, fd pop.Gradient w v)
           | None -> ()
           match spec.Representation with
           | LinearGaussian r ->
               yield check "spec.Representation.FeatureDifferential" (fun _ w v -> r.FeatureDifferential w v, fd r.FeatureMatrix w v)
           | Sampled r ->
               yield check "spec.Representation.FeatureDifferential" (fun rng w v ->
                   let x = r.Sample rng
                   Linalg.column (r.FeatureDifferential w x v), fd (fun u -> Linalg.column (r.Features u x)) w v) |]

    /// The checks that need no population moment: shapes, symmetry laws, supplied derivatives.
    let checkSpecification (opts: ValidationOptions) (spec: ModelSpec<'Z>) : LawReport * LawReport * DerivativeCheck[] =
        checkShapes spec
        let inv, eqv = checkSymmetry opts spec
        inv, eqv, checkDerivatives opts spec

    /// `||g||` against `threshold`; raises `NotCriticalPointException` above it.
    let checkCritical (gradient: Matrix<float>) (threshold: float) (standardError: float) =
        let norm = Linalg.norm gradient
        if not (norm <= threshold) then raise (NotCriticalPointException(norm, threshold, standardError, gradient))
        norm

    /// The critical-point threshold's rounding term `CriticalTolerance * lambda_max(H_h) * max(1, ||w*||)`.
    let roundingThreshold (opts: ValidationOptions) (hessianEigenvalues: float[]) (w: Matrix<float>) =
        let top = if hessianEigenvalues.Length = 0 then 0.0 else hessianEigenvalues |> Array.map abs |> Array.max
        opts.CriticalTolerance * top * max 1.0 (Linalg.norm w)
