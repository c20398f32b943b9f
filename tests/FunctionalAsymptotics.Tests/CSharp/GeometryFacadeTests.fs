/// The C# facade (FunctionalAsymptotics.CSharp.Geometry) is usable without F# types.
module FunctionalAsymptotics.Tests.CSharp.GeometryFacadeTests

open System
open System.Reflection
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.CSharp.Geometry

type CsManifold = FunctionalAsymptotics.CSharp.Geometry.Manifold
type CsGroupAction = FunctionalAsymptotics.CSharp.Geometry.GroupAction
type CsDescriptor = FunctionalAsymptotics.CSharp.Geometry.Descriptor
type CsLaws = FunctionalAsymptotics.CSharp.Geometry.Laws

/// Types that must never appear in a public C# signature.
let isFSharpType (t: Type) =
    let rec check (t: Type) =
        let ns = match t.Namespace with | null -> "" | n -> n
        ns.StartsWith "Microsoft.FSharp"
        || (t.IsGenericType && t.GetGenericArguments() |> Array.exists check)
        || (match t.GetElementType() with | null -> false | e -> check e)
        || (ns = "System" && t.Name.StartsWith "Tuple")
        || (ns = "MathNet.Numerics.LinearAlgebra")
    check t

let quadratic (a: float[,]) (x: float[,]) =
    // f(X) = <A, X> + 1/2 ||X||^2 ; egrad = A + X ; ehess[V] = V
    let mutable s = 0.0
    for i in 0 .. Array2D.length1 x - 1 do
        for j in 0 .. Array2D.length2 x - 1 do
            s <- s + a.[i, j] * x.[i, j] + 0.5 * x.[i, j] * x.[i, j]
    s

let tests =
    testList "CSharp.GeometryFacade" [
        testCase "public signatures use no F# or MathNet types" (fun () ->
            let asm = typeof<CsManifold>.Assembly
            let offenders =
                [ for t in asm.GetExportedTypes() do
                      for m in t.GetMembers(BindingFlags.Public ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly) do
                          match m with
                          | :? MethodInfo as mi ->
                              if isFSharpType mi.ReturnType || mi.GetParameters() |> Array.exists (fun p -> isFSharpType p.ParameterType) then
                                  yield t.Name + "." + mi.Name
                          | :? PropertyInfo as pi -> if isFSharpType pi.PropertyType then yield t.Name + "." + pi.Name
                          | :? ConstructorInfo as ci ->
                              if ci.GetParameters() |> Array.exists (fun p -> isFSharpType p.ParameterType) then yield t.Name + ".ctor"
                          | _ -> () ]
            Expect.isEmpty offenders "no F# types in the C# surface")
        testCase "manifolds: project, retract, Hessian checks from C#" (fun () ->
            let m = CsManifold.FixedRankPsd(5, 2)
            Expect.equal m.Dimension 9 "dk - k(k-1)/2"
            let x = m.RandomPoint 1
            m.CheckPoint x
            let v = m.RandomTangent(x, 2)
            Expect.floatClose Accuracy.high (m.Norm(x, v)) 1.0 "unit tangent"
            let y = m.Retract(x, v)
            m.CheckPoint y
            let back = m.InverseRetract(x, y)
            Expect.floatClose Accuracy.medium (m.Norm(x, back)) 1.0 "inverse retraction"
            Expect.equal (m.TangentBasis x).Length 9 "basis"
            let a = (Linalg.randn (Random 3) 5 5).ToArray()
            let cost = Func<float[,], float>(quadratic a)
            let egrad = Func<float[,], float[,]>(fun p -> Array2D.init 5 5 (fun i j -> a.[i, j] + p.[i, j]))
            let ehess = Func<float[,], float[,], float[,]>(fun _ u -> Array2D.copy u)
            let g = m.CheckGradient(cost, egrad, x, v)
            let h = m.CheckHessian(cost, egrad, ehess, x, v)
            Expect.isTrue g.Passed (sprintf "gradient slope %g" g.FittedSlope)
            Expect.isTrue h.Passed (sprintf "Hessian slope %g" h.FittedSlope)
            let hm = m.HessianMatrix(x, egrad.Invoke x, Func<float[,], float[,]>(Array2D.copy))
            Expect.equal (Array2D.length1 hm) 9 "Hessian matrix size"
            Expect.isFalse m.HasExp "no closed-form exp"
            Expect.throwsT<InvalidArgumentException> (fun () -> m.Exp(x, v) |> ignore) "Exp unavailable"
            let s = CsManifold.Sphere 3
            Expect.isTrue s.HasExp "sphere exp"
            Expect.throwsT<OffManifoldException> (fun () -> s.Project(array2D [ [ 2.0 ]; [ 0.0 ]; [ 0.0 ] ], array2D [ [ 0.0 ]; [ 1.0 ]; [ 0.0 ] ]) |> ignore) "off the sphere"
            let p = CsManifold.Product(CsManifold.Sphere 3, CsManifold.Grassmann(4, 2))
            Expect.equal p.Dimension (2 + 4) "product dimension"
            Expect.throwsT<ArgumentNullException> (fun () -> m.Project(Unchecked.defaultof<float[,]>, x) |> ignore) "null checked")
        testCase "group actions, descriptors and law checks from C#" (fun () ->
            let act = CsGroupAction.OrthogonalLeft(2, 4)
            let w = (Linalg.randn (Random 1) 2 4).ToArray()
            let g = act.RandomElement 5
            let gw = act.Act(g, w)
            let al = act.Align(gw, w)
            Expect.isLessThan al.Distance 1e-10 "aligning g.w to w recovers w"
            Expect.equal (act.VerticalBasis w).Length 1 "dim O(2) = 1"
            Expect.equal (act.HorizontalBasis w).Length 7 "8 - 1"
            let desc = CsDescriptor.GramLeft w
            let omega = desc.Map gw
            let s = desc.Section omega
            Expect.isLessThan (Linalg.norm (Linalg.ofArray2 (desc.Map s) - Linalg.ofArray2 omega)) 1e-10 "D(s(Omega)) = Omega"
            let point = Func<Random, float[,]>(fun rng -> (Linalg.randn rng 2 4).ToArray())
            let sample = Func<Random, float[]>(fun rng -> Linalg.randnVector rng 4)
            let features = Func<float[,], float[], float[]>(fun a x -> Array.init 2 (fun i -> Seq.sum (seq { for j in 0 .. 3 -> a.[i, j] * x.[j] })))
            let loss = Func<float[,], float[], float>(fun a x -> let f = features.Invoke(a, x) in Array.sumBy (fun t -> t * t) f)
            let brokenLoss = Func<float[,], float[], float>(fun a x -> loss.Invoke(a, x) + a.[0, 0])
            Expect.isTrue (CsLaws.CheckInvariance(act, loss, point, sample, trials = 50)).Passed "invariant"
            let broken = CsLaws.CheckInvariance(act, brokenLoss, point, sample, trials = 50)
            Expect.isFalse broken.Passed "broken loss caught"
            Expect.equal (Array2D.length1 broken.WorstElement) 2 "worst element reported"
            Expect.isTrue (CsLaws.CheckEquivariance(act, features, point, sample, trials = 50)).Passed "equivariant"
            Expect.isTrue (CsLaws.CheckHomomorphism(act, point, trials = 50)).Passed "homomorphism"
            Expect.isTrue (CsLaws.CheckDescriptor(act, desc, point, trials = 20)).Passed "descriptor"
            Expect.isTrue (CsLaws.CheckOrbitInvariantPredictor(act, features, point, sample, trials = 20)).Passed "Lemma 4.1"
            let perm = CsGroupAction.PermutationBlocks(2, 5, 3)
            Expect.equal perm.FeatureDimension 15 "K * block"
            Expect.equal perm.LieAlgebraDimension 0 "finite group")
    ]
