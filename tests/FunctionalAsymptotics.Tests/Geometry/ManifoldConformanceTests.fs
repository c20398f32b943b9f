/// The reusable conformance suite (Manifolds.jl's `test_manifold`): the same laws, written once as
/// FsCheck properties over a seed, applied to every manifold.
module FunctionalAsymptotics.Tests.Geometry.ManifoldConformanceTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Geometry

/// A manifold with its own tangency equation (residual 0 iff `v in T_x M`), independent of `Project`.
type ConformanceCase =
    { Manifold: Manifold
      Tangency: Matrix<float> -> Matrix<float> -> float
      /// True when the Weingarten map vanishes identically (Euclidean space, open subsets of Sym).
      Flat: bool }

/// Cases per property (the acceptance asks for at least 200).
let cases = 200
let config = { FsCheckConfig.defaultConfig with maxTest = cases }

/// A generic quadratic cost `f(X) = <A, X> + 1/2 <X, B X>` on the ambient space, `B` a random symmetric
/// operator on vec(X): its Euclidean gradient has a generic (non-zero) normal component everywhere.
type Quadratic =
    { A: Matrix<float>
      B: Matrix<float>
      Rows: int
      Cols: int }
    member q.Apply(x: Matrix<float>) =
        let v = DenseVector(Linalg.values x)
        Linalg.ofColumnMajor q.Rows q.Cols ((q.B * v).ToArray())
    member q.Cost(x: Matrix<float>) = Linalg.inner q.A x + 0.5 * Linalg.inner x (q.Apply x)
    member q.Egrad(x: Matrix<float>) = q.A + q.Apply x
    member q.Ehess(_: Matrix<float>) (v: Matrix<float>) = q.Apply v

let randomQuadratic (rng: Random) (m: Manifold) =
    let n = m.AmbientRows * m.AmbientCols
    let b = Linalg.randn rng n n
    { A = Linalg.randn rng m.AmbientRows m.AmbientCols
      B = Linalg.sym b / sqrt (float n)
      Rows = m.AmbientRows
      Cols = m.AmbientCols }

/// A quadratic cost whose Euclidean gradient at `x` has a normal part of norm `sqrt N` (N the ambient
/// size) in a random normal direction, whatever the draw: the Weingarten term is then never negligible.
let randomQuadraticWithNormalPart (rng: Random) (m: Manifold) (x: Matrix<float>) =
    let q = randomQuadratic rng m
    let eg = q.Egrad x
    let n0 = eg - m.Project x eg
    let z = Linalg.randn rng m.AmbientRows m.AmbientCols
    let nz = z - m.Project x z
    let nn = Linalg.norm nz
    if nn < 1e-12 then q
    else { q with A = q.A - n0 + nz * (sqrt (float (m.AmbientRows * m.AmbientCols)) / nn) }

/// `g'(0)` and `g''(0)` of `g(t) = f(R_x(t v))` by central differences with one Richardson step.
let retractionDerivatives (m: Manifold) (f: Matrix<float> -> float) (x: Matrix<float>) (v: Matrix<float>) =
    let g t = f (m.Retract x (v * t))
    let g0 = f x
    let d1 h = (g h - g (-h)) / (2.0 * h)
    let d2 h = (g h - 2.0 * g0 + g (-h)) / (h * h)
    let h = 1e-3
    (4.0 * d1 (h / 2.0) - d1 h) / 3.0, (4.0 * d2 (h / 2.0) - d2 h) / 3.0

let relErr (a: float) (b: float) scale = abs (a - b) / (1.0 + abs b + scale)

/// Worst relative mismatch of `<Hess f[v], v>` against the second derivative along the retraction.
let hessianMismatch (m: Manifold) (rng: Random) =
    let x = m.RandomPoint rng
    let v = m.RandomTangent rng x
    let q = randomQuadraticWithNormalPart rng m x
    let hv = m.EhessToRhess x (q.Egrad x) (q.Ehess x v) v
    let _, fd2 = retractionDerivatives m q.Cost x v
    relErr fd2 (m.Inner x hv v) (abs (q.Cost x))

let private fail fmt = Printf.ksprintf (fun s -> failtest s) fmt

let suite (c: ConformanceCase) : Test =
    let m = c.Manifold
    let setup seed =
        let rng = Random(seed)
        let x = m.RandomPoint rng
        rng, x
    testList m.Name [
        testPropertyWithConfig config "random points lie on the manifold" (fun (DoNotSize (seed: int)) ->
            let _, x = setup seed
            Manifold.checkPoint m "x" x)

        testPropertyWithConfig config "project is idempotent and self-adjoint" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let a = Linalg.randn rng m.AmbientRows m.AmbientCols
            let b = Linalg.randn rng m.AmbientRows m.AmbientCols
            let pa = m.Project x a
            let idem = Linalg.norm (m.Project x pa - pa) / Linalg.norm a
            let adj = abs (Linalg.inner pa b - Linalg.inner a (m.Project x b)) / (Linalg.norm a * Linalg.norm b)
            if idem > 1e-10 || adj > 1e-10 then fail "idempotency %g, self-adjointness %g" idem adj)

        testPropertyWithConfig config "projected vectors satisfy the tangency equation" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let a = Linalg.randn rng m.AmbientRows m.AmbientCols
            let r = c.Tangency x (m.Project x a) / Linalg.norm a
            // and the normal part is orthogonal to every tangent vector
            let nrm = a - m.Project x a
            let w = m.RandomTangent rng x
            let o = abs (Linalg.inner nrm w) / Linalg.norm a
            if r > 1e-10 || o > 1e-10 then fail "tangency residual %g, normal-tangent inner %g" r o)

        testPropertyWithConfig config "tangent basis is orthonormal and spans the tangent space" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let basis = m.TangentBasis x
            if basis.Length <> m.Dimension then fail "basis has %d elements, dimension %d" basis.Length m.Dimension
            let mutable worst = 0.0
            for i in 0 .. basis.Length - 1 do
                worst <- max worst (c.Tangency x basis.[i])
                for j in 0 .. basis.Length - 1 do
                    let g = m.Inner x basis.[i] basis.[j]
                    worst <- max worst (abs (g - (if i = j then 1.0 else 0.0)))
            // spanning: a random tangent vector is reproduced from its coordinates
            let v = m.RandomTangent rng x
            let coords = Manifold.coordinates m x basis v
            let recon = Array.fold2 (fun (acc: Matrix<float>) (b: Matrix<float>) cI -> acc + b * cI) (Linalg.zeros m.AmbientRows m.AmbientCols) basis coords
            worst <- max worst (Linalg.norm (recon - v))
            if worst > 1e-9 then fail "orthonormality/spanning defect %g" worst)

        testPropertyWithConfig config "retraction: on the manifold, R(0) = x, dR/dt(0) = v, inverse retraction inverts it" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let v = m.RandomTangent rng x
            let t = 0.05 + 0.25 * rng.NextDouble()
            let y = m.Retract x (v * t)
            let onM = m.Residual y
            let r0 = Linalg.norm (m.Retract x (v * 0.0) - x)
            let h = 1e-5
            let dr = (m.Retract x (v * h) - m.Retract x (v * -h)) / (2.0 * h)
            let d1 = Linalg.norm (dr - v)
            let inv = Linalg.norm (m.InverseRetract x y - v * t)
            if onM > 1e-9 || r0 > 1e-10 || d1 > 1e-6 || inv > 1e-8 then
                fail "residual %g, R(0) %g, dR/dt %g, inverse %g" onM r0 d1 inv)

        testPropertyWithConfig config "exp(log y) = y and log(exp v) = v within the injectivity radius; retraction agrees with exp to first order" (fun (DoNotSize (seed: int)) ->
            match m.Exp, m.Log with
            | Some e, lg ->
                let rng, x = setup seed
                let v = m.RandomTangent rng x
                let radius = min m.InjectivityRadius 4.0
                let s = radius * (0.05 + 0.85 * rng.NextDouble())
                let y = e x (v * s)
                let onM = m.Residual y
                let logErr, expLogErr =
                    match lg with
                    | Some l ->
                        let u = l x y
                        Linalg.norm (u - v * s), Linalg.norm (e x u - y)
                    | None -> 0.0, 0.0
                let t = 1e-4
                let firstOrder = Linalg.norm (m.Retract x (v * t) - e x (v * t)) / t
                if onM > 1e-9 || logErr > 1e-8 || expLogErr > 1e-8 || firstOrder > 1e-3 then
                    fail "residual %g, log(exp) %g, exp(log) %g, |R - Exp|/t %g" onM logErr expLogErr firstOrder
            | None, _ -> ())

        testPropertyWithConfig config "vector transport lands in the target tangent space" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let v = m.RandomTangent rng x
            let y = m.Retract x (m.RandomTangent rng x * 0.3)
            let w = m.Transport x y v
            let r = c.Tangency y w
            if r > 1e-10 then fail "transported vector tangency residual %g" r)

        testPropertyWithConfig config "egradToRgrad: <grad f, v> = d/dt f(R(tv)) and grad f is tangent" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let v = m.RandomTangent rng x
            let q = randomQuadratic rng m
            let g = m.EgradToRgrad x (q.Egrad x)
            let fd1, _ = retractionDerivatives m q.Cost x v
            let e = relErr fd1 (m.Inner x g v) (abs (q.Cost x))
            let tang = c.Tangency x g
            if e > 1e-8 || tang > 1e-9 then fail "gradient mismatch %g, tangency %g" e tang)

        testPropertyWithConfig config "ehessToRhess: <Hess f[v], v> = d2/dt2 f(R(tv)) where the Euclidean gradient has a normal part" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let v = m.RandomTangent rng x
            let q = randomQuadraticWithNormalPart rng m x
            let eg = q.Egrad x
            let normalPart = Linalg.norm (eg - m.Project x eg) / Linalg.norm eg
            if m.Dimension < m.AmbientRows * m.AmbientCols && normalPart < 1e-3 then
                fail "test is too weak: the Euclidean gradient has normal part %g" normalPart
            let hv = m.EhessToRhess x eg (q.Ehess x v) v
            let _, fd2 = retractionDerivatives m q.Cost x v
            let e = relErr fd2 (m.Inner x hv v) (abs (q.Cost x))
            let tang = c.Tangency x hv
            if e > 1e-6 || tang > 1e-9 then fail "Hessian mismatch %g (fd %g, formula %g), tangency %g" e fd2 (m.Inner x hv v) tang)

        testPropertyWithConfig config "Riemannian Hessian is symmetric and the polarised bilinear form matches finite differences" (fun (DoNotSize (seed: int)) ->
            let rng, x = setup seed
            let v = m.RandomTangent rng x
            let w = m.RandomTangent rng x
            let q = randomQuadratic rng m
            let eg = q.Egrad x
            let hess u = m.EhessToRhess x eg (q.Ehess x u) u
            let sym = abs (m.Inner x w (hess v) - m.Inner x v (hess w))
            let quad u = snd (retractionDerivatives m q.Cost x u)
            let polar = (quad (v + w) - quad (v - w)) / 4.0
            let e = relErr polar (m.Inner x w (hess v)) (abs (q.Cost x))
            let hm = Manifold.hessianMatrix m x eg (q.Ehess x)
            let hmSym = Linalg.maxAbs (hm - hm.Transpose())
            if sym > 1e-9 * (1.0 + Linalg.norm (hess v)) || e > 1e-6 || hmSym > 1e-12 then
                fail "asymmetry %g, polarisation mismatch %g, matrix asymmetry %g" sym e hmSym)
    ]

// ----- the tangency equations, stated independently of each manifold's Project -----

let euclideanTangency (_: Matrix<float>) (_: Matrix<float>) = 0.0
let sphereTangency (x: Matrix<float>) (v: Matrix<float>) = abs (Linalg.inner x v)
let stiefelTangency (x: Matrix<float>) (v: Matrix<float>) =
    let a = x.TransposeThisAndMultiply v
    Linalg.norm (a + a.Transpose())
let grassmannTangency (p: Matrix<float>) (v: Matrix<float>) =
    Linalg.norm (v - v.Transpose()) + Linalg.norm (p * v + v * p - v)
let fixedRankPsdTangency (k: int) (x: Matrix<float>) (v: Matrix<float>) =
    let u, _ = FixedRankPsd.factor k x
    let pp = Linalg.eye x.RowCount - u * u.Transpose()
    Linalg.norm (v - v.Transpose()) + Linalg.norm (pp * v * pp)

let productCase (parts: ConformanceCase[]) =
    let fs = parts |> Array.map (fun p -> p.Manifold)
    { Manifold = Product.create fs
      Tangency =
        fun x v ->
            let xs = Product.split fs x
            let vs = Product.split fs v
            Array.init parts.Length (fun i -> parts.[i].Tangency xs.[i] vs.[i]) |> Array.sum
      Flat = parts |> Array.forall (fun p -> p.Flat) }

let allCases =
    let sphere = { Manifold = Sphere.create 5; Tangency = sphereTangency; Flat = false }
    let fixedRank = { Manifold = FixedRankPsd.create 4 2; Tangency = fixedRankPsdTangency 2; Flat = false }
    let euclid = { Manifold = Euclidean.create 2 1; Tangency = euclideanTangency; Flat = true }
    [ { Manifold = Euclidean.create 3 2; Tangency = euclideanTangency; Flat = true }
      sphere
      { Manifold = Stiefel.create 5 2; Tangency = stiefelTangency; Flat = false }
      { Manifold = Stiefel.create 3 3; Tangency = stiefelTangency; Flat = false }
      { Manifold = Grassmann.create 5 2; Tangency = grassmannTangency; Flat = false }
      { Manifold = Grassmann.create 4 1; Tangency = grassmannTangency; Flat = false }
      { Manifold = FixedRankPsd.create 5 2; Tangency = fixedRankPsdTangency 2; Flat = false }
      { Manifold = FixedRankPsd.create 4 1; Tangency = fixedRankPsdTangency 1; Flat = false }
      { Manifold = FixedRankPsd.create 3 3; Tangency = fixedRankPsdTangency 3; Flat = true }
      productCase [| { Manifold = Sphere.create 3; Tangency = sphereTangency; Flat = false }; fixedRank; euclid |]
      // a product with closed-form exp and log in every factor, so the exp/log laws apply to it
      productCase [| sphere; { Manifold = Grassmann.create 4 2; Tangency = grassmannTangency; Flat = false } |] ]

/// Dropping the Weingarten term must make the Hessian law fail, on every curved manifold: this is the
/// test that would catch the missing term behind the printed Cor. 6.3.
let weingartenIsNeeded =
    testList "dropping the Weingarten term breaks the Hessian law" [
        for c in allCases do
            let m = c.Manifold
            if not c.Flat then
                testCase m.Name (fun () ->
                    let broken = { m with EhessToRhess = fun x _ h _ -> m.Project x h }
                    let good = [| for s in 1 .. 20 -> hessianMismatch m (Random s) |] |> Array.max
                    let bad = [| for s in 1 .. 20 -> hessianMismatch broken (Random s) |]
                    Expect.isLessThan good 1e-6 "the full Riemannian Hessian passes"
                    Expect.isGreaterThan (Array.max bad) 1e-2 "without the Weingarten term the law fails clearly"
                    Expect.isGreaterThan (bad |> Array.filter (fun e -> e > 1e-4) |> Array.length) 15 "and it fails for most random cases")
    ]

/// The acceptance asks for at least 200 cases per manifold and law: count them through the same config.
let caseCount =
    testCase "each conformance property runs the configured number of cases" (fun () ->
        let n = ref 0
        let counted = testPropertyWithConfig config "count" (fun (DoNotSize (_: int)) -> n.Value <- n.Value + 1)
        Impl.evalTestsSilent counted |> Async.RunSynchronously |> ignore
        Expect.isGreaterThanOrEqual n.Value 200 "cases per property")

let tests =
    testList "Geometry.Conformance" [
        yield! allCases |> List.map suite
        yield weingartenIsNeeded
        yield caseCount
    ]
