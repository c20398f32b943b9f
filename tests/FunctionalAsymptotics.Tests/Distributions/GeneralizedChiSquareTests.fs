module FunctionalAsymptotics.Tests.Distributions.GeneralizedChiSquareTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics
open FunctionalAsymptotics
open FunctionalAsymptotics.Distributions

type G = GeneralizedChiSquare
let private S = ChiSquareSettings.Default
let private ruben = { S with Algorithm = UseRuben }
let private imhof = { S with Algorithm = UseImhof }
let private algorithms = [ "auto", S; "ruben", ruben; "imhof", imhof ]

let private law w k l = GeneralizedChiSquare.create w k l 0.0 1.0
let private relErr (actual: float) (expected: float) = abs (actual - expected) / abs expected

/// `exp(x) - 1` to about one ulp (Kahan's trick; MathNet's Expm1 cancels for |x| > 1e-5).
let private expm1 (x: float) =
    let u = Math.Exp x
    if u = 1.0 then x elif u - 1.0 = -1.0 then -1.0 else (u - 1.0) * x / Math.Log u

/// `log(1 + x)` to about one ulp (Kahan's trick).
let private log1p (x: float) =
    let u = 1.0 + x
    if u = 1.0 then x else Math.Log u * x / (u - 1.0)

/// Checks one point against exact tails: cdf absolute error <= 1e-10 (and within the reported bound),
/// sf relative error <= 1e-8 (when the law has same-sign weights).
/// `refRelTol` and `refAbsTol` are the reference's own accuracy, allowed on top of the method's reported
/// error bound: 1e-15 for closed forms; MathNet's regularized incomplete gamma is good to a few 1e-13 at
/// these arguments (against 40-digit mpmath values it is 2.8e-14 off at P(500, 500) and 2.7e-13 off at
/// Q(500, 600), where this library is 1.3e-15 off); cdf references formed as 1 - sf carry about two ulps
/// of 1 (5e-16) of their own, more when the sf is a sum of terms of both signs.
let private checkPointRef (refRelTol: float) (refAbsTol: float) (name: string) (settings: ChiSquareSettings) (q: GeneralizedChiSquare) (x: float) (cdfExact: float) (sfExact: float) =
    let c = GeneralizedChiSquare.cdfWith settings q x
    let s = GeneralizedChiSquare.sfWith settings q x
    Expect.isLessThanOrEqual (abs (c.Value - cdfExact)) 1e-10 (sprintf "%s: |cdf - exact| at x=%g (%s: %.17g vs %.17g)" name x (string c.Method) c.Value cdfExact)
    Expect.isLessThanOrEqual (abs (c.Value - cdfExact)) (c.ErrorBound + refRelTol * cdfExact + refAbsTol + 5e-16) (sprintf "%s: cdf error within its bound at x=%g" name x)
    if sfExact > 0.0 then
        Expect.isLessThanOrEqual (relErr s.Value sfExact) 1e-8 (sprintf "%s: relative sf error at x=%g (%s: %.17g vs %.17g)" name x (string s.Method) s.Value sfExact)
        Expect.isLessThanOrEqual (abs (s.Value - sfExact)) (s.ErrorBound + refRelTol * sfExact + refAbsTol) (sprintf "%s: sf error within its bound at x=%g" name x)

let private checkPoint name settings q x cdfExact sfExact = checkPointRef 1e-15 0.0 name settings q x cdfExact sfExact
let private checkPointMathNet name settings q x cdfExact sfExact = checkPointRef 5e-13 0.0 name settings q x cdfExact sfExact

/// Points of a law from its body out to sf ~ 1e-300.
let private tailPoints (sfExact: float -> float) (start: float) =
    [ let mutable x = start
      while sfExact x > 1e-300 do
          yield x
          x <- x * 1.6 ]

let exactCases =
    testList "exact cases" [
        testCase "single weight, central (chi^2_k, k = 1..6), both algorithms, body to sf = 1e-300" <| fun () ->
            for k in 1 .. 6 do
                for w in [ 0.3; 1.0; 7.5 ] do
                    let q = law [| w |] [| k |] [| 0.0 |]
                    // MathNet's regularized incomplete gamma is an independent implementation; for k = 2 the
                    // law is exponential and for k = 1 its tail is erfc.
                    let sfExact x =
                        match k with
                        | 2 -> Math.Exp(-x / (2.0 * w))
                        | 1 -> SpecialFunctions.Erfc(Math.Sqrt(x / (2.0 * w)))
                        | _ -> SpecialFunctions.GammaUpperRegularized(float k / 2.0, x / (2.0 * w))
                    let cdfExact x =
                        match k with
                        | 2 -> -(expm1 (-x / (2.0 * w)))
                        | 1 -> SpecialFunctions.Erf(Math.Sqrt(x / (2.0 * w)))
                        | _ -> SpecialFunctions.GammaLowerRegularized(float k / 2.0, x / (2.0 * w))
                    for x in tailPoints sfExact (0.001 * w) do
                        for name, settings in algorithms do
                            let check = if k <= 2 then checkPoint else checkPointMathNet
                            check (sprintf "%s w=%g k=%d" name w k) settings q x (cdfExact x) (sfExact x)

        testCase "single weight, noncentral, against 50-digit mpmath values" <| fun () ->
            // Reference/noncentral_chisq_reference.py: k, lambda, x, cdf, sf.
            let reference =
                [ 1, 0.5, 0.01, 6.2087542308692828e-2, 9.3791245769130717e-1
                  1, 0.5, 2.0, 7.4330251214417863e-1, 2.5669748785582137e-1
                  1, 0.5, 40.0, 9.9999999030908625e-1, 9.6909137507943389e-9
                  3, 4.0, 1.0, 3.8535917846224286e-2, 9.6146408215377571e-1
                  3, 4.0, 7.0, 5.7885089473438786e-1, 4.2114910526561214e-1
                  3, 4.0, 80.0, 9.9999999999136183e-1, 8.6381730207693678e-12
                  2, 20.0, 5.0, 8.3330805765639364e-3, 9.9166691942343606e-1
                  2, 20.0, 22.0, 5.4309496437377099e-1, 4.5690503562622901e-1
                  2, 20.0, 300.0, 1.0, 8.6765062498422032e-38
                  5, 1.0, 1350.0, 1.0, 5.7211445689177832e-277 ]
            for k, l, x, cdf, sf in reference do
                for w in [ 1.0; 0.25 ] do
                    let q = law [| w |] [| k |] [| l |]
                    for name, settings in algorithms do
                        checkPoint (sprintf "%s k=%d lambda=%g w=%g" name k l w) settings q (w * x) cdf sf

        testCase "equal weights equal one chi-square with the summed dof" <| fun () ->
            let q = law (Array.create 7 1.5) [| 1; 2; 1; 3; 1; 1; 2 |] (Array.zeroCreate 7)
            let sfExact x = SpecialFunctions.GammaUpperRegularized(5.5, x / 3.0)
            let cdfExact x = SpecialFunctions.GammaLowerRegularized(5.5, x / 3.0)
            for x in tailPoints sfExact 0.05 do
                for name, settings in algorithms do
                    checkPointMathNet ("equal weights " + name) settings q x (cdfExact x) (sfExact x)

        testCase "distinct weights with k_j = 2: the hypoexponential law" <| fun () ->
            for w in [ [| 1.0; 2.0; 3.5 |]; [| 0.2; 0.5; 1.1; 2.9; 4.0 |]; [| 10.0; 1.0 |] ] do
                let q = law w (Array.create w.Length 2) (Array.zeroCreate w.Length)
                // P(Y > x) = sum_j prod_{l <> j} w_j / (w_j - w_l) exp(-x / (2 w_j))
                let coef j = w |> Array.mapi (fun l wl -> if l = j then 1.0 else w.[j] / (w.[j] - wl)) |> Array.fold (*) 1.0
                let sfExact x = w |> Array.mapi (fun j wj -> coef j * Math.Exp(-x / (2.0 * wj))) |> Array.sum
                // The alternating sum's own rounding: a few ulps of its largest term.
                let refAbs x = 4e-16 * (w |> Array.mapi (fun j wj -> abs (coef j) * Math.Exp(-x / (2.0 * wj))) |> Array.max)
                for x in tailPoints sfExact 0.5 do
                    for name, settings in algorithms do
                        checkPointRef 1e-15 (refAbs x) (sprintf "hypoexponential %A %s" w name) settings q x (1.0 - sfExact x) (sfExact x)

        testCase "mixed signs: difference of two exponentials (w chi^2_2 - v chi^2_2)" <| fun () ->
            let w, v = 1.5, 0.4
            let q = law [| w; -v |] [| 2; 2 |] [| 0.0; 0.0 |]
            let sfExact x = if x >= 0.0 then w / (w + v) * Math.Exp(-x / (2.0 * w)) else 1.0 - v / (w + v) * Math.Exp(x / (2.0 * v))
            for x in [ -30.0; -5.0; -1.0; -0.1; 0.0; 0.1; 1.0; 10.0; 100.0; 1000.0 ] do
                for name, settings in [ "auto", S; "imhof", imhof ] do
                    let cdfExact = if x >= 0.0 then 1.0 - sfExact x else v / (w + v) * Math.Exp(x / (2.0 * v))
                    checkPoint ("difference of exponentials " + name) settings q x cdfExact (sfExact x)
                    // The lower tail keeps its relative accuracy too.
                    if x < 0.0 then
                        let c = GeneralizedChiSquare.cdf q x
                        Expect.isLessThanOrEqual (relErr c cdfExact) 1e-9 (sprintf "relative cdf at x=%g" x)

        testCase "quantiles and isf to relative error 1e-10 (exponential law: q(p) = -2w log(1 - p))" <| fun () ->
            let w = 1.7
            let q = law [| w |] [| 2 |] [| 0.0 |]
            for p in [ 1e-12; 1e-6; 0.01; 0.3; 0.5; 0.9; 0.999; 1.0 - 1e-9 ] do
                let exact = -2.0 * w * log1p (-p)
                Expect.isLessThanOrEqual (relErr (GeneralizedChiSquare.quantile q p) exact) 1e-10 (sprintf "quantile %g" p)
            for p in [ 1e-300; 1e-100; 1e-10; 0.05; 0.5; 0.95 ] do
                let exact = -2.0 * w * Math.Log p
                Expect.isLessThanOrEqual (relErr (GeneralizedChiSquare.isf q p) exact) 1e-10 (sprintf "isf %g" p)

        testCase "quantile of a mixed-sign law inverts its cdf" <| fun () ->
            let q = GeneralizedChiSquare.create [| 1.0; -0.5; 2.0 |] [| 1; 2; 3 |] [| 0.5; 0.0; 1.0 |] 3.0 2.0
            for p in [ 1e-8; 0.001; 0.2; 0.5; 0.8; 0.999 ] do
                let x = GeneralizedChiSquare.quantile q p
                Expect.isLessThanOrEqual (relErr (GeneralizedChiSquare.cdf q x) p) 1e-9 (sprintf "cdf(quantile %g)" p)

        testCase "density: exact chi-square densities, both algorithms" <| fun () ->
            for k in [ 1; 2; 3; 7 ] do
                let w = 0.8
                let q = law [| w |] [| k |] [| 0.0 |]
                for x in [ 0.05; 0.7; 3.0; 15.0; 60.0 ] do
                    let exact = Distributions.ChiSquared.PDF(float k, x / w) / w
                    for name, settings in algorithms do
                        let d = GeneralizedChiSquare.pdfWith settings q x
                        Expect.isLessThanOrEqual (relErr d.Value exact) 1e-9 (sprintf "pdf %s k=%d x=%g" name k x)
        testCase "density integrates to the cdf (mixed signs, trapezoid on a fine grid)" <| fun () ->
            let q = GeneralizedChiSquare.create [| 1.0; -0.5; 2.0 |] [| 1; 2; 3 |] [| 0.5; 0.0; 1.0 |] 0.0 1.0
            let a, b, n = -2.0, 6.0, 4000
            let h = (b - a) / float n
            let mutable acc = 0.0
            for i in 0 .. n do
                let x = a + float i * h
                let wgt = if i = 0 || i = n then 0.5 else 1.0
                acc <- acc + wgt * GeneralizedChiSquare.pdf q x
            let integral = acc * h
            let exact = GeneralizedChiSquare.cdf q b - GeneralizedChiSquare.cdf q a
            Expect.floatClose { absolute = 1e-6; relative = 1e-6 } integral exact "int pdf = cdf difference"
    ]

let failureModes =
    testList "known failure modes" [
        testCase "points far in either tail stay in [0, 1], never NaN" <| fun () ->
            let laws =
                [ law [| 1.0; 2.0; 3.0 |] [| 1; 1; 1 |] [| 0.0; 0.0; 0.0 |]
                  law [| 1.0; -2.0; 3.0 |] [| 1; 3; 1 |] [| 0.0; 2.0; 0.0 |]
                  law [| -1.0; -0.1 |] [| 2; 1 |] [| 1.0; 0.0 |] ]
            for q in laws do
                let m, sd = q.Mean, sqrt q.Variance
                for z in [ -1e6; -1e3; -200.0; -40.0; -5.0; 0.0; 5.0; 40.0; 200.0; 1e3; 1e6 ] do
                    let x = m + z * sd
                    for _, settings in [ "auto", S; "imhof", imhof ] do
                        let c = GeneralizedChiSquare.cdfWith settings q x
                        let s = GeneralizedChiSquare.sfWith settings q x
                        for v in [ c.Value; s.Value ] do
                            Expect.isFalse (Double.IsNaN v) (sprintf "NaN at z=%g for %O" z q)
                            Expect.isGreaterThanOrEqual v 0.0 (sprintf "negative at z=%g" z)
                            Expect.isLessThanOrEqual v 1.0 (sprintf "above one at z=%g" z)
                        Expect.isLessThanOrEqual (abs (c.Value + s.Value - 1.0)) 1e-12 "cdf + sf = 1"
                        let p = GeneralizedChiSquare.pdf q x
                        Expect.isFalse (Double.IsNaN p || p < 0.0) "pdf non-negative"

        testCase "weights spanning 1e-8 to 1e8 (hypoexponential, exact)" <| fun () ->
            let w = [| 1e-8; 1e-4; 1.0; 1e4; 1e8 |]
            let q = law w (Array.create w.Length 2) (Array.zeroCreate w.Length)
            let coef j = w |> Array.mapi (fun l wl -> if l = j then 1.0 else w.[j] / (w.[j] - wl)) |> Array.fold (*) 1.0
            let sfExact x = w |> Array.mapi (fun j wj -> coef j * Math.Exp(-x / (2.0 * wj))) |> Array.sum
            for x in [ 1e-6; 1e-3; 1.0; 1e3; 1e6; 1e8; 1e9; 1e10; 1e11 ] do
                let c = GeneralizedChiSquare.cdfWith S q x
                Expect.isLessThanOrEqual (abs (c.Value - (1.0 - sfExact x))) 1e-10 (sprintf "cdf at %g (%O)" x c.Method)
                if sfExact x > 1e-300 then
                    Expect.isLessThanOrEqual (relErr (GeneralizedChiSquare.sf q x) (sfExact x)) 1e-8 (sprintf "sf at %g" x)

        testCase "1000 weights: Ruben and Imhof agree; 1000 equal weights are chi^2_1000" <| fun () ->
            let w = Array.init 1000 (fun j -> 1.0 + 2.0 * float j / 1000.0)
            let q = law w (Array.create 1000 1) (Array.zeroCreate 1000)
            for z in [ -4.0; -1.0; 0.0; 1.0; 4.0; 10.0 ] do
                let x = q.Mean + z * sqrt q.Variance
                let r = GeneralizedChiSquare.sfWith ruben q x
                let i = GeneralizedChiSquare.sfWith imhof q x
                Expect.isLessThanOrEqual (relErr r.Value i.Value) 1e-8 (sprintf "sf at z=%g: %.17g vs %.17g" z r.Value i.Value)
                let rc = (GeneralizedChiSquare.cdfWith ruben q x).Value
                let ic = (GeneralizedChiSquare.cdfWith imhof q x).Value
                Expect.isLessThanOrEqual (abs (rc - ic)) 1e-10 "cdf"
            let e = law (Array.create 1000 0.5) (Array.create 1000 1) (Array.zeroCreate 1000)
            for x in [ 400.0; 500.0; 600.0; 900.0 ] do
                checkPointMathNet "1000 equal" S e x (SpecialFunctions.GammaLowerRegularized(500.0, x)) (SpecialFunctions.GammaUpperRegularized(500.0, x))

        testCase "x exactly at the offset" <| fun () ->
            let pos = GeneralizedChiSquare.create [| 1.0; 2.0 |] [| 1; 1 |] [| 0.0; 0.0 |] 5.0 1.0
            Expect.equal (GeneralizedChiSquare.cdf pos 5.0) 0.0 "positive weights: cdf at the offset is 0"
            Expect.equal (GeneralizedChiSquare.sf pos 5.0) 1.0 "positive weights: sf at the offset is 1"
            let neg = GeneralizedChiSquare.create [| -1.0; -2.0 |] [| 1; 1 |] [| 0.0; 0.0 |] 5.0 1.0
            Expect.equal (GeneralizedChiSquare.cdf neg 5.0) 1.0 "negative weights: cdf at the offset is 1"
            let w, v = 1.5, 0.4
            let mixed = GeneralizedChiSquare.create [| w; -v |] [| 2; 2 |] [| 0.0; 0.0 |] 5.0 1.0
            Expect.floatClose Accuracy.veryHigh (GeneralizedChiSquare.sf mixed 5.0) (w / (w + v)) "mixed: sf at the offset"
            let struct (classic, _) = GeneralizedChiSquare.imhofClassic mixed 1e-12 5.0
            Expect.floatClose { absolute = 1e-10; relative = 0.0 } classic (w / (w + v)) "Imhof's printed form agrees"

        testCase "mixed signs with x below the offset: saddle-point contour vs Imhof's printed contour" <| fun () ->
            let q = GeneralizedChiSquare.create [| 1.0; -0.5; 2.0; -3.0 |] [| 1; 2; 3; 1 |] [| 0.5; 0.0; 1.0; 0.2 |] 2.0 1.5
            for x in [ -60.0; -20.0; -5.0; 0.0; 1.9; 2.0 ] do
                let c = GeneralizedChiSquare.cdfWith S q x
                let struct (classicSf, classicErr) = GeneralizedChiSquare.imhofClassic q 1e-13 x
                Expect.isLessThanOrEqual (abs (c.Value - (1.0 - classicSf))) (1e-10 + classicErr) (sprintf "x=%g: %.17g vs %.17g" x c.Value (1.0 - classicSf))
    ]

let badInput =
    let throwsArg (name: string) (f: unit -> unit) =
        let ex = Expect.throwsC f id
        match ex with
        | :? InvalidArgumentException as e -> Expect.equal e.Argument name (sprintf "error names %s: %s" name e.Message)
        | e -> failtestf "expected InvalidArgumentException(%s), got %s" name (e.GetType().Name)
    testList "bad input raises typed errors naming the argument" [
        testCase "empty weights" <| fun () -> throwsArg "weights" (fun () -> law [||] [||] [||] |> ignore)
        testCase "zero weight" <| fun () -> throwsArg "weights" (fun () -> law [| 1.0; 0.0 |] [| 1; 1 |] [| 0.0; 0.0 |] |> ignore)
        testCase "NaN weight" <| fun () -> throwsArg "weights" (fun () -> law [| nan |] [| 1 |] [| 0.0 |] |> ignore)
        testCase "infinite weight" <| fun () -> throwsArg "weights" (fun () -> law [| infinity |] [| 1 |] [| 0.0 |] |> ignore)
        testCase "negative dof" <| fun () -> throwsArg "dofs" (fun () -> law [| 1.0 |] [| -1 |] [| 0.0 |] |> ignore)
        testCase "zero dof" <| fun () -> throwsArg "dofs" (fun () -> law [| 1.0 |] [| 0 |] [| 0.0 |] |> ignore)
        testCase "negative noncentrality" <| fun () -> throwsArg "noncentralities" (fun () -> law [| 1.0 |] [| 1 |] [| -0.1 |] |> ignore)
        testCase "length mismatch" <| fun () -> throwsArg "dofs" (fun () -> law [| 1.0; 2.0 |] [| 1 |] [| 0.0; 0.0 |] |> ignore)
        testCase "non-positive scale" <| fun () -> throwsArg "scale" (fun () -> GeneralizedChiSquare.create [| 1.0 |] [| 1 |] [| 0.0 |] 0.0 0.0 |> ignore)
        testCase "p outside [0, 1]" <| fun () ->
            let q = law [| 1.0 |] [| 1 |] [| 0.0 |]
            throwsArg "p" (fun () -> GeneralizedChiSquare.quantile q 1.5 |> ignore)
            throwsArg "p" (fun () -> GeneralizedChiSquare.quantile q -0.1 |> ignore)
            throwsArg "p" (fun () -> GeneralizedChiSquare.isf q nan |> ignore)
        testCase "NaN point" <| fun () -> throwsArg "x" (fun () -> GeneralizedChiSquare.cdf (law [| 1.0 |] [| 1 |] [| 0.0 |]) nan |> ignore)
        testCase "Ruben beyond MaxRubenTerms: a ConvergenceException with the remainder left, and Auto uses Imhof" <| fun () ->
            // 50 weights over four decades: the series converges like (1 - 10^-4)^k.
            let q = GeneralizedChiSquare.ofWeights (Array.init 50 (fun j -> 10.0 ** (-3.0 + 4.0 * float j / 49.0)))
            let x = q.Mean + 1.5 * sqrt q.Variance
            let error =
                try GeneralizedChiSquare.cdfWith ruben q x |> ignore; None
                with :? ConvergenceException as e -> Some e
            match error with
            | None -> failtest "expected a ConvergenceException from Ruben's series"
            | Some e ->
                Expect.isTrue (Double.IsFinite e.Residual && e.Residual > e.Tolerance) (sprintf "the remainder left is reported (%g)" e.Residual)
                Expect.stringContains e.Message "MaxRubenTerms = 20000" "the message names the budget"
                Expect.stringContains e.Message "Imhof" "the message says what to use instead"
                Expect.isFalse (e.Message.Contains "NaN") "no NaN in the message"
            let auto = GeneralizedChiSquare.cdfWith ChiSquareSettings.Default q x
            let viaImhof = GeneralizedChiSquare.cdfWith imhof q x
            Expect.equal auto.Method Imhof "Auto routes to Imhof"
            Expect.equal auto.Value viaImhof.Value "Auto's value is Imhof's"
        testCase "Ruben asked for mixed signs" <| fun () ->
            throwsArg "settings" (fun () -> GeneralizedChiSquare.cdfWith ruben (law [| 1.0; -1.0 |] [| 1; 1 |] [| 0.0; 0.0 |]) 0.5 |> ignore)
    ]

/// A random law for property tests: 1–8 terms, |w| in [0.05, 20] of either sign, dof 1–5, lambda in [0, 5].
type LawCase =
    { Weights: float[]; Dofs: int[]; Noncentralities: float[]; Offset: float; Scale: float }
    member c.Law = GeneralizedChiSquare.create c.Weights c.Dofs c.Noncentralities c.Offset c.Scale
    override c.ToString() = sprintf "%O" c.Law

let private lawGen (sameSign: bool) =
    gen {
        let! n = Gen.choose (1, 8)
        let! mags = Gen.arrayOfLength n (Gen.choose (0, 10000) |> Gen.map (fun i -> 0.05 * Math.Pow(400.0, float i / 10000.0)))
        let! signs = Gen.arrayOfLength n (if sameSign then Gen.constant 1.0 else Gen.elements [ 1.0; -1.0 ])
        let! flip = if sameSign then Gen.elements [ 1.0; -1.0 ] else Gen.constant 1.0
        let! dofs = Gen.arrayOfLength n (Gen.choose (1, 5))
        let! ncs = Gen.arrayOfLength n (Gen.frequency [ 1, Gen.constant 0.0; 1, Gen.choose (0, 5000) |> Gen.map (fun i -> float i / 1000.0) ])
        let! offset = Gen.choose (-1000, 1000) |> Gen.map (fun i -> float i / 100.0)
        let! scale = Gen.choose (10, 1000) |> Gen.map (fun i -> float i / 100.0)
        return { Weights = Array.map2 (fun m s -> flip * m * s) mags signs; Dofs = dofs; Noncentralities = ncs; Offset = offset; Scale = scale }
    }

/// A law with a standardised point `z` in [-4, 6].
type LawAndPoint = { Case: LawCase; Z: float }

type Arbitraries =
    static member LawCase() = Arb.fromGen (lawGen false)
    static member LawAndPoint() =
        Arb.fromGen (gen {
            let! c = Gen.frequency [ 1, lawGen true; 1, lawGen false ]
            let! z = Gen.choose (-4000, 6000) |> Gen.map (fun i -> float i / 1000.0)
            return { Case = c; Z = z } })

let private config n = { FsCheckConfig.defaultConfig with maxTest = n; arbitrary = [ typeof<Arbitraries> ] }
let private pointOf (lp: LawAndPoint) = let q = lp.Case.Law in q, q.Mean + lp.Z * sqrt q.Variance

let properties =
    testList "laws (FsCheck)" [
        testPropertyWithConfig (config 150) "cdf is monotone and stays in [0, 1]" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            let h = 0.05 * sqrt q.Variance
            let c0 = GeneralizedChiSquare.cdf q x
            let c1 = GeneralizedChiSquare.cdf q (x + h)
            c0 >= 0.0 && c1 <= 1.0 && c0 <= c1 + 1e-13

        testPropertyWithConfig (config 150) "cdf + sf = 1" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            abs (GeneralizedChiSquare.cdf q x + GeneralizedChiSquare.sf q x - 1.0) <= 1e-12

        testPropertyWithConfig (config 60) "quantile(cdf(x)) = x" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            let p = GeneralizedChiSquare.cdf q x
            // Where the cdf is flat to rounding the inverse is not determined by p; skip those points.
            (p > 1e-9 && p < 1.0 - 1e-9 && GeneralizedChiSquare.pdf q x * sqrt q.Variance > 1e-6) ==> lazy (
                let back = GeneralizedChiSquare.quantile q p
                abs (back - x) <= 1e-8 * (abs x + sqrt q.Variance))

        testPropertyWithConfig (config 100) "scaling and offset laws: F_{aQ+b}(a x + b) = F_Q(x)" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            let a, b = 3.7, -12.5
            let moved = q |> GeneralizedChiSquare.rescale a |> GeneralizedChiSquare.shift b
            abs (GeneralizedChiSquare.cdf moved (a * x + b) - GeneralizedChiSquare.cdf q x) <= 1e-11
            && abs (moved.Mean - (a * q.Mean + b)) <= 1e-9 * (abs moved.Mean + 1.0)
            && abs (moved.Variance - a * a * q.Variance) <= 1e-9 * moved.Variance

        testPropertyWithConfig (config 100) "merging equal weights into one chi-square with summed dof changes nothing" <| fun (lp: LawAndPoint) ->
            let c = lp.Case
            // Duplicate the first term, splitting its dof and noncentrality into two pieces.
            let w0, k0, l0 = c.Weights.[0], c.Dofs.[0], c.Noncentralities.[0]
            let split = GeneralizedChiSquare.create (Array.append [| w0 |] c.Weights) (Array.append [| k0 |] c.Dofs) (Array.append [| 0.25 * l0 |] (Array.append [| 0.75 * l0 |] c.Noncentralities.[1..])) c.Offset c.Scale
            let merged = GeneralizedChiSquare.create c.Weights (Array.mapi (fun i k -> if i = 0 then 2 * k else k) c.Dofs) c.Noncentralities c.Offset c.Scale
            let q = merged
            let x = q.Mean + lp.Z * sqrt q.Variance
            abs (GeneralizedChiSquare.cdf split x - GeneralizedChiSquare.cdf merged x) <= 1e-11

        testPropertyWithConfig (config 80) "Ruben and Imhof agree on same-sign laws (two independent algorithms)" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            let sameSign = q.Weights |> Array.forall (fun w -> w > 0.0) || q.Weights |> Array.forall (fun w -> w < 0.0)
            sameSign ==> lazy (
                let i = GeneralizedChiSquare.cdfWith imhof q x
                let is = GeneralizedChiSquare.sfWith imhof q x
                try
                    let r = GeneralizedChiSquare.cdfWith ruben q x
                    let rs = GeneralizedChiSquare.sfWith ruben q x
                    abs (r.Value - i.Value) <= 1e-11
                    && (rs.Value < 1e-300 || abs (rs.Value - is.Value) <= 1e-9 * rs.Value)
                    && (r.Value < 1e-300 || abs (r.Value - i.Value) <= 1e-9 * r.Value)
                with :? ConvergenceException as e ->
                    // Weight ratios near 400 with a point far in the upper tail can need more than
                    // MaxRubenTerms terms: the documented behaviour is a ConvergenceException with the
                    // remainder left (finite, above the tolerance), and Auto answering by Imhof.
                    let auto = GeneralizedChiSquare.cdfWith ChiSquareSettings.Default q x
                    Double.IsFinite e.Residual && e.Residual > 0.0 && e.Message.Contains "MaxRubenTerms"
                    && auto.Method = Imhof && auto.Value = i.Value)

        testPropertyWithConfig (config 60) "Imhof's saddle-point contour agrees with Imhof's printed contour (mixed signs)" <| fun (lp: LawAndPoint) ->
            let q, x = pointOf lp
            let mixed = q.Weights |> Array.exists (fun w -> w > 0.0) && q.Weights |> Array.exists (fun w -> w < 0.0)
            // The printed contour's integrand decays like t^{-n/2-1}: with n = 2 it is too slow to be a
            // reference at 1e-9, so the cross-check takes n >= 3 and allows the printed form's own bound.
            // (That bound treats panels wider than half an oscillation period as unresolved; before it did,
            // the bound undercounted and the saddle-point value, right to 1e-17 by an mpmath convolution,
            // was reported wrong, e.g. weights [16.66, -0.1307], dofs [2; 2], lambda [0; 2.624].)
            (mixed && Array.sum q.Dofs >= 3) ==> lazy (
                let c = GeneralizedChiSquare.cdfWith imhof q x
                let struct (classic, err) = GeneralizedChiSquare.imhofClassic q 1e-12 x
                abs (c.Value - (1.0 - classic)) <= 1e-9 + err)
    ]

/// Powers of ten spanning the double range, as exponents.
type ScaleExponent = { Exponent: int }

type ScaleArbitraries =
    static member LawAndPoint() = Arbitraries.LawAndPoint()
    static member ScaleExponent() = Arb.fromGen (Gen.choose (-300, 300) |> Gen.map (fun e -> { Exponent = e }))

let private scaleConfig n = { FsCheckConfig.defaultConfig with maxTest = n; arbitrary = [ typeof<ScaleArbitraries> ] }

/// The Edgeworth expansion of `P(chi^2_k <= k + z sqrt(2k))`: `Phi(z) - phi(z) sqrt(2) (z^2 - 1) / (3 sqrt k)`,
/// with error O(1/k): an independent route to the cdf at huge degrees of freedom.
let private edgeworthChiSquareCdf (k: float) (z: float) =
    MathNet.Numerics.Distributions.Normal.CDF(0.0, 1.0, z) - MathNet.Numerics.Distributions.Normal.PDF(0.0, 1.0, z) * sqrt 2.0 * (z * z - 1.0) / (3.0 * sqrt k)

let scaleAndSize =
    testList "scale equivariance and huge sizes" [
        testPropertyWithConfig (scaleConfig 80) "cdf and quantile are scale-equivariant over scales 1e-300 .. 1e300 (through the weights and through the scale)" <| fun (lp: LawAndPoint) (se: ScaleExponent) ->
            let q, x = pointOf lp
            let f = 10.0 ** float se.Exponent
            let c = lp.Case
            let viaScale = GeneralizedChiSquare.create c.Weights c.Dofs c.Noncentralities (f * c.Offset) (f * c.Scale)
            let viaWeights = GeneralizedChiSquare.create (c.Weights |> Array.map (fun w -> f * w)) c.Dofs c.Noncentralities (f * c.Offset) c.Scale
            let p = GeneralizedChiSquare.cdf q x
            let quantileOk (scaled: GeneralizedChiSquare) =
                // Where the cdf is flat to rounding the quantile is not determined by p.
                p < 1e-9 || p > 1.0 - 1e-9 || GeneralizedChiSquare.pdf q x * sqrt q.Variance < 1e-6
                || abs (GeneralizedChiSquare.quantile scaled p / f - x) <= 1e-8 * (abs x + sqrt q.Variance)
            [ viaScale; viaWeights ]
            |> List.forall (fun scaled ->
                abs (GeneralizedChiSquare.cdf scaled (f * x) - p) <= 1e-12
                && relErr scaled.StandardDeviation (f * sqrt q.Variance) <= 1e-12
                && abs (scaled.LogVariance - (log q.Variance + 2.0 * log f)) <= 1e-12 * (1.0 + abs scaled.LogVariance)
                && abs (scaled.Skewness - q.Skewness) <= 1e-12 * (1.0 + abs q.Skewness)
                && quantileOk scaled)

        testCase "tiny weights: quantiles are 1e-200 times the unit law's, not the mean" <| fun () ->
            let unit = GeneralizedChiSquare.ofWeights [| 1.0 |]
            let tiny = GeneralizedChiSquare.ofWeights [| 1e-200 |]
            for p in [ 0.01; 0.5; 0.99 ] do
                let expected = GeneralizedChiSquare.quantile unit p
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } (GeneralizedChiSquare.quantile tiny p / 1e-200) expected (sprintf "quantile %g" p)
            Expect.floatClose { absolute = 0.0; relative = 1e-15 } tiny.StandardDeviation (sqrt 2.0 * 1e-200) "sd"
            Expect.floatClose { absolute = 0.0; relative = 1e-15 } tiny.Skewness unit.Skewness "skewness"

        testCase "opposite tiny weights: cdf at 0 is 1/2 (by symmetry), with a finite bound" <| fun () ->
            let q = GeneralizedChiSquare.ofWeights [| 1e-300; -1e-300 |]
            let c = GeneralizedChiSquare.cdfWith S q 0.0
            Expect.isLessThanOrEqual (abs (c.Value - 0.5)) 1e-12 "cdf(0)"
            Expect.isTrue (Double.IsFinite c.ErrorBound) "finite bound"

        testCase "huge weights: moments overflow only to +-infinity, with their logarithms finite" <| fun () ->
            let q = GeneralizedChiSquare.ofWeights [| 1e200; 2e200 |]
            Expect.floatClose { absolute = 0.0; relative = 1e-15 } q.Mean 3e200 "mean"
            Expect.equal q.Variance Double.PositiveInfinity "variance (1e401) overflows"
            Expect.floatClose { absolute = 0.0; relative = 1e-14 } q.LogVariance (401.0 * log 10.0) "log variance (of 1e401)"
            Expect.floatClose { absolute = 0.0; relative = 1e-14 } q.StandardDeviation (sqrt 10.0 * 1e200) "sd"
            let unit = GeneralizedChiSquare.ofWeights [| 1.0; 2.0 |]
            Expect.floatClose { absolute = 1e-14; relative = 0.0 } (GeneralizedChiSquare.cdf q 1e200) (GeneralizedChiSquare.cdf unit 1.0) "cdf"
            let huge = GeneralizedChiSquare.create [| 1e300; 1e300 |] [| 3; 4 |] [| 0.0; 0.0 |] 0.0 1e300
            Expect.isFalse (Double.IsFinite huge.Mean) "mean 7e600 overflows"
            Expect.floatClose { absolute = 0.0; relative = 1e-14 } huge.LogAbsMean (log 7.0 + 600.0 * log 10.0) "log mean"

        testCase "noncentrality beyond double precision's reach raises instead of returning a number" <| fun () ->
            let q = GeneralizedChiSquare.create [| 1.0 |] [| 1 |] [| 1e300 |] 0.0 1.0
            Expect.throwsT<FunctionalAsymptoticsException> (fun () -> GeneralizedChiSquare.cdf q 1e300 |> ignore) "cdf at the mean"

        testCase "degrees of freedom up to 2^31 - 1: Ruben (Temme's expansion) agrees with Imhof and with the Edgeworth expansion, within the bounds" <| fun () ->
            for k in [ 200_001; 2_000_000; 123_456_789; Int32.MaxValue ] do
                let q = GeneralizedChiSquare.create [| 1.0 |] [| k |] [| 0.0 |] 0.0 1.0
                let kf = float k
                for z in [ -6.0; -3.0; -1.0; 0.0; 0.5; 2.0; 5.0 ] do
                    let x = kf + z * sqrt (2.0 * kf)
                    let r = GeneralizedChiSquare.cdfWith ruben q x
                    let i = GeneralizedChiSquare.cdfWith imhof q x
                    Expect.isLessThanOrEqual (abs (r.Value - i.Value)) (r.ErrorBound + i.ErrorBound + 1e-15) (sprintf "k=%d z=%g: Ruben %.17g vs Imhof %.17g" k z r.Value i.Value)
                    // The Edgeworth expansion's own error is O(1/k) (about 0.1 / k here).
                    Expect.isLessThanOrEqual (abs (r.Value - edgeworthChiSquareCdf kf z)) (r.ErrorBound + 1.0 / kf) (sprintf "k=%d z=%g: Ruben vs Edgeworth" k z)
            // The issue's case: P(chi^2_k <= k) = 1/2 + 1/(3 sqrt(pi k)) + O(k^-3/2) (k/2 = a, Temme's C_0(0) = -1/3).
            let k = float Int32.MaxValue
            let q = GeneralizedChiSquare.create [| 1.0 |] [| Int32.MaxValue |] [| 0.0 |] 0.0 1.0
            let c = GeneralizedChiSquare.cdfWith S q k
            Expect.isLessThanOrEqual (abs (c.Value - (0.5 + 1.0 / (3.0 * sqrt (Math.PI * k))))) (c.ErrorBound + 1e-12) "P(chi^2_k <= k)"

        testCase "merged equal weights with dofs summing past Int32.MaxValue" <| fun () ->
            let q = GeneralizedChiSquare.create [| 1.0; 1.0 |] [| Int32.MaxValue; Int32.MaxValue |] [| 0.0; 0.0 |] 0.0 1.0
            let k = 2.0 * float Int32.MaxValue
            let c = GeneralizedChiSquare.cdfWith ruben q k
            Expect.isLessThanOrEqual (abs (c.Value - (0.5 + 1.0 / (3.0 * sqrt (Math.PI * k))))) (c.ErrorBound + 1e-12) "P(chi^2_2k <= 2k)"
    ]

let tests = testList "Distributions.GeneralizedChiSquare" [ exactCases; failureModes; badInput; properties; scaleAndSize ]
