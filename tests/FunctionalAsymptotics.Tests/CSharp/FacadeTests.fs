module FunctionalAsymptotics.Tests.CSharp.FacadeTests

open System
open System.Reflection
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Asymptotics
type CsChi = FunctionalAsymptotics.CSharp.GeneralizedChiSquare
type CsLaw = FunctionalAsymptotics.CSharp.LimitLaw

let private bits (xs: float[]) = xs |> Array.map BitConverter.DoubleToInt64Bits

/// True when a type comes from FSharp.Core (option, list, tuple, function, ...).
let private isFSharpType (t: Type) =
    let rec check (t: Type | null) =
        match t with
        | null -> false
        | t ->
        if t.IsByRef || t.IsArray || t.IsPointer then check (t.GetElementType())
        elif t.Assembly = typeof<int list>.Assembly then true
        elif t.IsGenericType then t.GetGenericArguments() |> Array.exists check
        else false
    check t

let private publicSignatureTypes (t: Type) =
    let flags = BindingFlags.Public ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    [ for m in t.GetMethods flags do
        yield m.Name, m.ReturnType
        for p in m.GetParameters() do yield m.Name, p.ParameterType
      for p in t.GetProperties flags do yield p.Name, p.PropertyType ]

let tests =
    testList "CSharp facade" [
        testCase "no F# types in public signatures" <| fun () ->
            let facade = typeof<CsChi>.Assembly.GetExportedTypes()
            Expect.isNonEmpty facade "exported types"
            for t in facade do
                for name, ty in publicSignatureTypes t do
                    Expect.isFalse (isFSharpType ty) (sprintf "%s.%s exposes %s" t.Name name ty.FullName)
        testCase "GeneralizedChiSquare: construction and moments match the core" <| fun () ->
            let w, k, l = [| 1.0; -0.5; 2.0 |], [| 1; 2; 3 |], [| 0.0; 1.0; 0.5 |]
            let cs = CsChi.Create(w, k, l, 1.5, 2.0)
            let core = GeneralizedChiSquare.create w k l 1.5 2.0
            Expect.equal cs.Mean core.Mean "mean"
            Expect.equal cs.Variance core.Variance "variance"
            Expect.equal cs.Skewness core.Skewness "skewness"
            Expect.equal cs.Weights w "weights"
            Expect.equal cs.Dofs k "dofs"
            Expect.equal cs.Noncentralities l "noncentralities"
            Expect.equal (cs.Offset, cs.Scale, cs.Count) (1.5, 2.0, 3) "offset, scale, count"
            let fromSpan = CsChi.Create(ReadOnlySpan w, ReadOnlySpan k, ReadOnlySpan l, 1.5, 2.0)
            Expect.equal fromSpan.Mean cs.Mean "span overload"
            Expect.equal (CsChi.Create(ReadOnlySpan [| 1.0; 2.0 |])).Mean 3.0 "weights-only span overload"
            Expect.equal (cs.Shift(1.0).Mean) (cs.Mean + 1.0) "shift"
            Expect.floatClose Accuracy.veryHigh (cs.Rescale(2.0).Variance) (4.0 * cs.Variance) "rescale"
        testCase "TryCreate reports the core's message" <| fun () ->
            let mutable q : CsChi = Unchecked.defaultof<_>
            let mutable err : string | null = null
            Expect.isFalse (CsChi.TryCreate([| 1.0; 0.0 |], &q, &err)) "zero weight"
            Expect.isNull (box q) "no result"
            Expect.stringContains (nonNull err) "weights" "names the argument"
            Expect.isTrue (CsChi.TryCreate([| 1.0 |], [| 2 |], [| 0.5 |], 0.0, 1.0, &q, &err)) "valid"
            Expect.isNull err "no error"
            Expect.equal q.Mean 2.5 "mean"
            let mutable law : CsLaw = Unchecked.defaultof<_>
            Expect.isFalse (CsLaw.TryCreate(1.0, 2, 0.0, [| 1.0 |], &law, &err)) "alpha = 0"
            Expect.stringContains (nonNull err) "alpha" "names alpha"
        testCase "core exceptions pass through as themselves" <| fun () ->
            Expect.throwsT<DimensionMismatchException> (fun () -> CsChi.Create([| 1.0 |], [| 1; 1 |], [| 0.0 |]) |> ignore) "lengths"
            Expect.throwsT<NonFiniteException> (fun () -> CsChi.Create([| nan |]) |> ignore) "nan"
            Expect.throwsT<InvalidArgumentException> (fun () -> CsLaw.Create(-1.0, 1, 1.0, [| 1.0 |]) |> ignore) "sigma2"
        testCase "Sample equals the core's draws, array and span" <| fun () ->
            let cs = CsChi.Create([| 1.0; 0.5 |], [| 1; 3 |], [| 0.0; 2.0 |], -1.0, 0.5)
            let core = GeneralizedChiSquare.sample 9UL 3000 (GeneralizedChiSquare.create [| 1.0; 0.5 |] [| 1; 3 |] [| 0.0; 2.0 |] -1.0 0.5)
            Expect.equal (bits (cs.Sample(9UL, 3000))) (bits core) "array"
            let span = Array.zeroCreate 3000
            cs.Sample(9UL, Span span)
            Expect.equal (bits span) (bits core) "span"
        testCase "LimitLaw: terms and moments match the core" <| fun () ->
            let law = CsLaw.Create(0.5, 4, 2.0, [| 1.0; 0.25; 0.0 |])
            let core = LimitLaw.create 0.5 4 2.0 [| 1.0; 0.25; 0.0 |]
            Expect.equal law.OlsTerm 2.0 "OLS term"
            Expect.equal law.PretrainingMean 1.25 "pre-training mean"
            Expect.equal law.Mean core.Mean "mean"
            Expect.equal law.Variance core.Variance "variance"
            Expect.equal (law.Sigma2, law.DEff, law.Alpha) (0.5, 4, 2.0) "parameters"
            Expect.equal law.Weights [| 1.0; 0.25; 0.0 |] "weights"
            Expect.isNotNull (box law.Distribution) "distribution"
            Expect.equal (nonNull law.Distribution).Mean law.Mean "distribution mean"
            Expect.equal (nonNull law.PretrainingTerm).Mean 1.25 "pre-training term"
            Expect.equal (bits (law.Sample(3UL, 100))) (bits (LimitLaw.sample 3UL 100 core)) "samples"
            let point = CsLaw.Create(0.5, 4, 2.0, ReadOnlySpan [| 0.0 |])
            Expect.isNull (box point.Distribution) "point mass"
            Expect.equal (point.Quantile 0.3) 2.0 "point-mass quantile"
            Expect.equal (point.Cdf 1.9, point.Cdf 2.0) (0.0, 1.0) "point-mass cdf"
        // These need the core's cdf/sf/quantile (Ruben/Imhof).
        testList "probabilities (need the core's cdf)" [
            testCase "Cdf, Sf, Quantile, Isf and Evaluate* agree with the core" <| fun () ->
                let cs = CsChi.Create([| 1.0; 0.5; 0.25 |])
                let q = GeneralizedChiSquare.ofWeights [| 1.0; 0.5; 0.25 |]
                Expect.equal (cs.Cdf 2.0) (GeneralizedChiSquare.cdf q 2.0) "cdf"
                Expect.equal (cs.Sf 2.0) (GeneralizedChiSquare.sf q 2.0) "sf"
                Expect.equal (cs.LogSf 2.0) (GeneralizedChiSquare.logSf q 2.0) "logSf"
                Expect.equal (cs.Pdf 2.0) (GeneralizedChiSquare.pdf q 2.0) "pdf"
                Expect.equal (cs.Quantile 0.9) (GeneralizedChiSquare.quantile q 0.9) "quantile"
                Expect.equal (cs.Isf 0.1) (GeneralizedChiSquare.isf q 0.1) "isf"
                let e = cs.EvaluateCdf(2.0, FunctionalAsymptotics.CSharp.Algorithm.Imhof, 1e-10)
                let core = GeneralizedChiSquare.cdfWith { ChiSquareSettings.Default with Algorithm = UseImhof; AbsoluteTolerance = 1e-10 } q 2.0
                Expect.equal e.Value core.Value "value"
                Expect.equal e.Method "imhof" "method"
                Expect.equal e.ErrorBound core.ErrorBound "error bound"
                let r = cs.EvaluateSf(2.0, FunctionalAsymptotics.CSharp.Algorithm.Ruben)
                Expect.equal r.Method "ruben" "ruben"
                Expect.floatClose { absolute = 1e-9; relative = 0.0 } (cs.EvaluateCdf(2.0).Value + r.Value) 1.0 "cdf + sf = 1"
            testCase "LimitLaw probabilities and the exceedance threshold" <| fun () ->
                let law = CsLaw.Create(0.5, 4, 2.0, [| 1.0; 0.25 |])
                let t = law.ExceedanceThreshold 0.05
                Expect.floatClose { absolute = 1e-8; relative = 0.0 } (law.Sf t) 0.05 "P(E >= t) = delta"
                Expect.floatClose { absolute = 1e-8; relative = 0.0 } (law.Cdf(law.Quantile 0.5)) 0.5 "cdf(quantile)"
        ]
    ]
