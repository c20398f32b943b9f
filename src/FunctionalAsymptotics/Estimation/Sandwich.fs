namespace FunctionalAsymptotics.Estimation

open System
open MathNet.Numerics.LinearAlgebra
open FunctionalAsymptotics
open FunctionalAsymptotics.Groups

/// The sandwich covariance on the horizontal space at a point `w` (docs/theory.md section 3, step 4; paper
/// Section 4.1 and Appendix D): `V_h = H_h^-1 Sigma_h H_h^-1` with `H_h = B^T nabla^2 L B` and
/// `Sigma_h = B^T E[nabla l nabla l^T] B` in an orthonormal basis `B` of `Hor(w)`.
type Sandwich =
    { /// The orthonormal horizontal basis `B` (parameter-space matrices).
      Basis: Matrix<float>[]
      /// `H_h`.
      Hessian: Matrix<float>
      /// `Sigma_h`.
      ScoreCovariance: Matrix<float>
      /// `V_h = H_h^-1 Sigma_h H_h^-1`.
      Covariance: Matrix<float>
      /// Monte Carlo standard errors of the entries of `V_h` (jackknife over batches), for the Monte Carlo form.
      StandardError: Matrix<float> option }

/// The three forms of the sandwich: population closed form, seeded Monte Carlo, plug-in.
[<RequireQualifiedAccess>]
module Sandwich =

    /// Relative eigenvalue threshold below which `H_h` counts as singular.
    let defaultIdentifiabilityTolerance = 1e-10

    /// `H_h^-1` by symmetric eigendecomposition. An eigenvalue `< -tolerance * max |eig|` means the point
    /// is a saddle, not a minimiser: `NotLocalMinimiserException` naming the descent directions. Otherwise
    /// an eigenvalue `<= tolerance * max |eig|` raises `NotIdentifiableException` naming the flat
    /// directions (eigenvectors mapped back to parameter space). Never a pseudo-inverse.
    let inverseHessian (tolerance: float) (basis: Matrix<float>[]) (hH: Matrix<float>) : Matrix<float> =
        let lam, v = Linalg.eigSymDesc hH
        if lam.Length = 0 then Linalg.zeros 0 0
        else
            let scale = max (abs lam.[0]) (abs lam.[lam.Length - 1])
            let cut = tolerance * max scale 1e-300
            let toParameterSpace (idx: int[]) =
                idx |> Array.map (fun i -> basis |> Array.mapi (fun j b -> b * v.[j, i]) |> Array.reduce (+))
            let negative = [| for i in 0 .. lam.Length - 1 do if lam.[i] < -cut then yield i |]
            if negative.Length > 0 then
                raise (NotLocalMinimiserException(toParameterSpace negative, negative |> Array.map (fun i -> lam.[i])))
            let bad = [| for i in 0 .. lam.Length - 1 do if lam.[i] <= cut then yield i |]
            if bad.Length > 0 then
                raise (NotIdentifiableException(toParameterSpace bad, bad |> Array.map (fun i -> lam.[i]), cut))
            v * (Linalg.diag (lam |> Array.map (fun l -> 1.0 / l))) * v.Transpose()

    /// Assembles `V_h = H_h^-1 Sigma_h H_h^-1` from the two matrices in the basis.
    let ofMatrices (basis: Matrix<float>[]) (hH: Matrix<float>) (sigmaH: Matrix<float>) : Sandwich =
        Linalg.checkShape "hessian" basis.Length basis.Length hH
        Linalg.checkShape "scoreCovariance" basis.Length basis.Length sigmaH
        let hinv = inverseHessian defaultIdentifiabilityTolerance basis (Linalg.sym hH)
        { Basis = basis; Hessian = Linalg.sym hH; ScoreCovariance = Linalg.sym sigmaH
          Covariance = Linalg.sym (hinv * sigmaH * hinv); StandardError = None }

    /// The symmetric matrix `B^T A B` of a linear map `A` (e.g. a Hessian-vector product) in an orthonormal basis `B`.
    let inBasis (basis: Matrix<float>[]) (apply: Matrix<float> -> Matrix<float>) =
        let n = basis.Length
        let h = Linalg.zeros n n
        for j in 0 .. n - 1 do
            let hv = apply basis.[j]
            for i in 0 .. n - 1 do
                h.[i, j] <- Linalg.inner basis.[i] hv
        Linalg.sym h

    /// Form 1: population level with closed-form expectations (`spec.Population`), at `spec.WStar`.
    /// Raises `InvalidArgumentException` when the specification has no closed-form moments.
    let population (spec: ModelSpec<'Z>) : Sandwich =
        match spec.Population with
        | None -> Check.fail "spec" "has no closed-form population moments (use Sandwich.monteCarlo)"
        | Some pop ->
            let w = spec.WStar
            let basis = GroupAction.horizontalBasis spec.Action w
            let hH = inBasis basis (pop.HessianVector w)
            ofMatrices basis hH (pop.ScoreCovariance w basis)

    /// Accumulates `H_h` and `Sigma_h` from samples at `w`.
    let private accumulate (loss: PretrainingLoss<'Z>) (w: Matrix<float>) (basis: Matrix<float>[]) (zs: 'Z[]) =
        let n = basis.Length
        let hH = Linalg.zeros n n
        let sH = Linalg.zeros n n
        for z in zs do
            let g = ModelSpec.gradient loss w z
            let gh = Linalg.vector (basis |> Array.map (fun b -> Linalg.inner b g))
            sH.Add(gh.OuterProduct gh, sH)
            for j in 0 .. n - 1 do
                let hv = ModelSpec.hessianVector loss w z basis.[j]
                for i in 0 .. n - 1 do
                    hH.[i, j] <- hH.[i, j] + Linalg.inner basis.[i] hv
        let c = float zs.Length
        Linalg.sym (hH / c), Linalg.sym (sH / c)

    /// Form 2: population level by a seeded Monte Carlo of `count` pre-training samples at `spec.WStar`,
    /// averaging per-sample Hessians and score outer products; `V_h` is formed from the pooled `H_h` and
    /// `Sigma_h`. `StandardError` holds the entrywise jackknife standard error of `V_h` over `batches`
    /// batches (`count` is split evenly): leave-one-batch-out pooled estimates `V_(i)`,
    /// `se^2 = (B-1)/B sum_i (V_(i) - mean)^2`. Only pooled Hessians are inverted, so one batch with an
    /// indefinite Hessian does not fail a run whose pooled Hessian is fine.
    let monteCarlo (seed: int) (count: int) (batches: int) (spec: ModelSpec<'Z>) : Sandwich =
        if batches < 2 then Check.fail "batches" (sprintf "must be >= 2, got %d" batches)
        if count < batches then Check.fail "count" (sprintf "must be >= batches = %d, got %d" batches count)
        let rng = Random seed
        let w = spec.WStar
        let basis = GroupAction.horizontalBasis spec.Action w
        let per = count / batches
        let parts = Array.init batches (fun _ -> accumulate spec.Pretraining w basis (Array.init per (fun _ -> spec.Pretraining.Sample rng)))
        let hTotal = parts |> Array.map fst |> Array.reduce (+)
        let sTotal = parts |> Array.map snd |> Array.reduce (+)
        let b = float batches
        let whole = ofMatrices basis (hTotal / b) (sTotal / b)
        let vs = parts |> Array.map (fun (h, s) -> (ofMatrices basis ((hTotal - h) / (b - 1.0)) ((sTotal - s) / (b - 1.0))).Covariance)
        let n = basis.Length
        let se =
            Linalg.init n n (fun i j ->
                let xs = vs |> Array.map (fun v -> v.[i, j])
                let m = Array.average xs
                sqrt ((b - 1.0) / b * (xs |> Array.sumBy (fun x -> (x - m) * (x - m)))))
        { whole with StandardError = Some se }

    /// Form 3: the plug-in estimate from a data set at a fitted point `wHat` (an empirical minimiser):
    /// empirical Hessian and empirical score second moment on `Hor(wHat)`.
    let plugIn (spec: ModelSpec<'Z>) (data: 'Z[]) (wHat: Matrix<float>) : Sandwich =
        Check.nonEmpty "data" data
        let basis = GroupAction.horizontalBasis spec.Action wHat
        let hH, sH = accumulate spec.Pretraining wHat basis data
        ofMatrices basis hH sH
