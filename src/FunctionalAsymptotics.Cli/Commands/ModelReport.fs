/// Shared report of the model commands (`fa spectral`, `fa factor`): the JSON object and the human table.
module FunctionalAsymptotics.Cli.Commands.ModelReport

open System
open System.Globalization
open System.IO
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics

/// Raises `Common.UsageError` (a bad option value or inconsistent options: one line on stderr, exit code 2).
let usage (message: string) : 'T = FunctionalAsymptotics.Cli.Common.usageError message

/// The largest dimension `d` the model commands accept (larger sizes cannot fit in memory).
let maxDimension = 500

/// The quantile levels reported.
let levels = [| 0.05; 0.25; 0.5; 0.75; 0.95; 0.99 |]

/// Prior-art comparison: reference, bound, its pre-training term, the improvement factor.
type PriorArt =
    { /// The cited theorem.
      Reference: string
      /// The whole bound (constants and logs dropped).
      Bound: float
      /// Its pre-training term (the coefficient of `alpha^-1`).
      PretrainTerm: float
      /// `PretrainTerm / E||L(Z)||^2` of the reported route.
      ImprovementFactor: float }

/// Everything a model command reports.
type Report =
    { /// "spectral" or "factor".
      Model: string
      /// The reported route's quantities.
      Summary: AsymptoticSummary
      /// `alpha = m / n`.
      Alpha: float
      /// The prior-art comparison.
      PriorArt: PriorArt
      /// Other routes' weight discrepancy relative to the reported one (route, discrepancy, E||L||^2).
      Comparisons: (string * float * float)[] }

let private num (x: float) =
    if Double.IsFinite x then x.ToString("R", CultureInfo.InvariantCulture) else "null"

/// Checks that every number the report prints is finite: an overflow inside the computation (e.g. the
/// `alpha^-1` term of the variance for a tiny alpha) is a computation error (exit 1) naming the quantity
/// and `inputs`, never a NaN, an infinity or a null with exit code 0. The prior-art bounds are not
/// checked: they grow like a high power of the inputs and may honestly be "Infinity" in double precision.
let checkFinite (inputs: string) (r: Report) =
    let s = r.Summary
    let check what x = FunctionalAsymptotics.Cli.Common.finiteResult what inputs x |> ignore
    Array.iter (check "a weight of ||L(Z)||^2") s.Weights
    check "E||L(Z)||^2" (AsymptoticSummary.pretrainMean s)
    let law = AsymptoticSummary.limitLaw r.Alpha s
    check "the mean of E_alpha" law.Mean
    check "the variance of E_alpha" law.Variance
    for p in levels do check (sprintf "the %g quantile of E_alpha" p) (LimitLaw.quantile law p)

/// The JSON object of issue #4: model, route, dEff, dBase, sigma2, alpha, weights, pretrainMean, mean,
/// variance, quantiles (of `E_alpha`), alpha0, priorArt.
let json (r: Report) : string =
    let s = r.Summary
    let law = AsymptoticSummary.limitLaw r.Alpha s
    FunctionalAsymptotics.Cli.Json.render (fun w ->
        let prop = FunctionalAsymptotics.Cli.Json.property w
        w.WriteStartObject()
        w.WriteString("model", r.Model)
        w.WriteString("route", s.Route)
        w.WriteNumber("dEff", s.DEff)
        w.WriteNumber("dBase", s.DBase)
        prop "sigma2" s.Sigma2
        prop "alpha" r.Alpha
        w.WriteStartArray "weights"
        for x in s.Weights do FunctionalAsymptotics.Cli.Json.number w x
        w.WriteEndArray()
        prop "pretrainMean" (AsymptoticSummary.pretrainMean s)
        prop "mean" law.Mean
        prop "variance" law.Variance
        w.WriteStartObject "quantiles"
        for p in levels do prop (p.ToString("0.0#", CultureInfo.InvariantCulture)) (LimitLaw.quantile law p)
        w.WriteEndObject()
        match AsymptoticSummary.alpha0 s with
        | Some a -> prop "alpha0" a
        | None -> w.WriteNull "alpha0"
        w.WriteStartObject "priorArt"
        w.WriteString("reference", r.PriorArt.Reference)
        prop "bound" r.PriorArt.Bound
        prop "pretrainTerm" r.PriorArt.PretrainTerm
        prop "improvementFactor" r.PriorArt.ImprovementFactor
        w.WriteEndObject()
        w.WriteEndObject())

/// The human-readable table, with a note for every route that disagrees with the reported one.
let human (out: TextWriter) (r: Report) =
    let s = r.Summary
    let law = AsymptoticSummary.limitLaw r.Alpha s
    let row (name: string) (value: string) = out.WriteLine(sprintf "  %-34s %s" name value)
    out.WriteLine(sprintf "%s, route %s" r.Model s.Route)
    row "d_eff" (string s.DEff)
    row "d_base" (string s.DBase)
    row "sigma^2" (num s.Sigma2)
    row "alpha" (num r.Alpha)
    row "weights of ||L(Z)||^2 (chi2_1)" (String.Join(", ", s.Weights |> Array.map (fun w -> w.ToString("G10", CultureInfo.InvariantCulture))))
    row "E||L(Z)||^2" (num (AsymptoticSummary.pretrainMean s))
    row "mean of E_alpha" (num law.Mean)
    row "variance of E_alpha" (num law.Variance)
    for p in levels do
        row (sprintf "quantile %g of E_alpha" p) (num (LimitLaw.quantile law p))
    row "alpha0 (crossover)" (match AsymptoticSummary.alpha0 s with Some a -> num a | None -> "none (d_base <= d_eff)")
    row ("prior art: " + r.PriorArt.Reference) (sprintf "bound %s, pre-training term %s, improvement factor %s" (num r.PriorArt.Bound) (num r.PriorArt.PretrainTerm) (num r.PriorArt.ImprovementFactor))
    out.WriteLine "Routes (weights compared with the reported route):"
    for (route, disc, mean) in r.Comparisons do
        row route (sprintf "E||L(Z)||^2 = %s, max relative weight difference %s" (num mean) (if Double.IsFinite disc then disc.ToString("0.##e+0", CultureInfo.InvariantCulture) else "different number of weights"))
    for (route, disc, _) in r.Comparisons do
        if not (disc <= 1e-8) then
            out.WriteLine(sprintf "Note: route '%s' disagrees with route '%s' (see docs/errata.md)." route s.Route)

/// The routes a model command reports and compares.
let routes = [| "horizontal"; "descriptor"; "closed"; "paper" |]

/// Computes the reported `route` and its comparison with the other routes (`summaryOf`), checks that every
/// printed number is finite (`checkFinite`), and prints the JSON object (`asJson`) or the table. Returns 0.
let present (out: TextWriter) (asJson: bool) (model: string) (inputs: string) (alpha: float) (route: string)
            (summaryOf: string -> AsymptoticSummary) (priorArt: AsymptoticSummary -> PriorArt) : int =
    let s = summaryOf route
    let comparisons =
        routes
        |> Array.filter ((<>) route)
        |> Array.map (fun r -> let o = summaryOf r in r, AsymptoticSummary.weightDiscrepancy s o, AsymptoticSummary.pretrainMean o)
    let report = { Model = model; Summary = s; Alpha = alpha; Comparisons = comparisons; PriorArt = priorArt s }
    checkFinite inputs report
    if asJson then out.WriteLine(json report) else human out report
    0
