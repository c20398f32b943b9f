/// Shared report of the model commands (`fa spectral`, `fa factor`): the JSON object and the human table.
module FunctionalAsymptotics.Cli.Commands.ModelReport

open System
open System.Globalization
open System.IO
open System.Text
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics

/// Raises `Common.UsageError` (a bad option value or inconsistent options: one line on stderr, exit code 2).
let usage (message: string) : 'T = FunctionalAsymptotics.Cli.Common.usageError message

/// Parses a number in the invariant culture.
let parseFloat (option: string) (text: string) =
    match Double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
    | true, x when Double.IsFinite x -> x
    | _ -> usage (sprintf "%s: '%s' is not a finite number" option text)

/// Parses a comma-separated list of numbers.
let parseFloats (option: string) (text: string) =
    if String.IsNullOrWhiteSpace text then usage (sprintf "%s: expected a comma-separated list of numbers" option)
    text.Split(',') |> Array.map (parseFloat option)

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

/// One row of the route comparison (`--compare`).
type RouteComparison =
    /// The route ran: the largest relative weight difference from the reported route, and its `E||L(Z)||^2`.
    | Compared of route: string * discrepancy: float * pretrainMean: float
    /// The route was not run at this size, and why.
    | NotRun of route: string * reason: string

/// The routes of the model commands.
let routes = [| "horizontal"; "descriptor"; "closed"; "paper" |]

/// The comparison rows for every route other than the reported one: `tooSlow route` gives the reason a
/// route is not run at this size (`None`: run it with `summaryOf`).
let compareRoutes (reported: AsymptoticSummary) (tooSlow: string -> string option) (summaryOf: string -> AsymptoticSummary) =
    routes
    |> Array.filter ((<>) reported.Route)
    |> Array.map (fun r ->
        match tooSlow r with
        | Some reason -> NotRun(r, reason)
        | None -> let o = summaryOf r in Compared(r, AsymptoticSummary.weightDiscrepancy reported o, AsymptoticSummary.pretrainMean o))

/// `--compare` runs the horizontal route (when it is not the reported one) up to this many parameters
/// `q0`; it takes about 10 s at `q0 = 2000` (docs/two-stage-engine.md, scaling table).
let compareHorizontalParameters = 2500

/// The reason `--compare` skips the horizontal route for `q0` parameters, if it does.
let horizontalTooSlow (parameters: int) =
    if parameters > compareHorizontalParameters then
        Some(sprintf "%d parameters > %d: run it alone with --route horizontal (it takes minutes at this size)" parameters compareHorizontalParameters)
    else None

/// The progress callback of a model command: lines `fa COMMAND [t s]: ...` on `err` once the computation
/// has run for half a second (short runs stay silent), nothing when `enabled` is false (`--json`, `--quiet`).
let progressLines (err: TextWriter) (command: string) (enabled: bool) : string -> unit =
    if not enabled then ignore
    else
        let clock = Diagnostics.Stopwatch.StartNew()
        let gate = obj ()
        fun line ->
            if clock.Elapsed.TotalSeconds >= 0.5 then
                lock gate (fun () -> err.WriteLine(sprintf "fa %s [%.1f s]: %s" command clock.Elapsed.TotalSeconds line))

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
      /// Other routes compared with the reported one (`--compare`; empty otherwise).
      Comparisons: RouteComparison[] }

let private num (x: float) =
    if Double.IsFinite x then x.ToString("R", CultureInfo.InvariantCulture) else "null"

let private str (s: string) = "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""

/// The JSON object of issue #4: model, route, dEff, dBase, sigma2, alpha, weights, pretrainMean, mean,
/// variance, quantiles (of `E_alpha`), alpha0, priorArt.
let json (r: Report) : string =
    let s = r.Summary
    let law = AsymptoticSummary.limitLaw r.Alpha s
    let sb = StringBuilder()
    let add (t: string) = sb.Append(t) |> ignore
    add "{"
    add (sprintf "\"model\":%s,\"route\":%s,\"dEff\":%d,\"dBase\":%d,\"sigma2\":%s,\"alpha\":%s," (str r.Model) (str s.Route) s.DEff s.DBase (num s.Sigma2) (num r.Alpha))
    add (sprintf "\"weights\":[%s]," (String.Join(",", s.Weights |> Array.map num)))
    add (sprintf "\"pretrainMean\":%s,\"mean\":%s,\"variance\":%s," (num (AsymptoticSummary.pretrainMean s)) (num law.Mean) (num law.Variance))
    add "\"quantiles\":{"
    add (String.Join(",", levels |> Array.map (fun p -> sprintf "%s:%s" (str (p.ToString("0.0#", CultureInfo.InvariantCulture))) (num (LimitLaw.quantile law p)))))
    add "},"
    add (sprintf "\"alpha0\":%s," (match AsymptoticSummary.alpha0 s with Some a -> num a | None -> "null"))
    add (sprintf "\"priorArt\":{\"reference\":%s,\"bound\":%s,\"pretrainTerm\":%s,\"improvementFactor\":%s}"
            (str r.PriorArt.Reference) (num r.PriorArt.Bound) (num r.PriorArt.PretrainTerm) (num r.PriorArt.ImprovementFactor))
    add "}"
    sb.ToString()

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
    if r.Comparisons.Length > 0 then
        out.WriteLine "Routes (weights compared with the reported route):"
        for c in r.Comparisons do
            match c with
            | Compared(route, disc, mean) ->
                row route (sprintf "E||L(Z)||^2 = %s, max relative weight difference %s" (num mean) (if Double.IsFinite disc then disc.ToString("0.##e+0", CultureInfo.InvariantCulture) else "different number of weights"))
            | NotRun(route, reason) -> row route ("not run: " + reason)
        for c in r.Comparisons do
            match c with
            | Compared(route, disc, _) when not (disc <= 1e-8) ->
                out.WriteLine(sprintf "Note: route '%s' disagrees with route '%s' (see docs/errata.md)." route s.Route)
            | _ -> ()

/// Runs a command body: usage and argument errors give exit code 2 with one line on stderr; other
/// failures exit 1.
let guard (err: TextWriter) (body: unit -> int) : int =
    let oneLine (m: string) = (m.Split([| '\n'; '\r' |], StringSplitOptions.RemoveEmptyEntries) |> Array.tryHead |> Option.defaultValue "error").Trim()
    try body ()
    with
    | :? Argu.ArguParseException as e when e.ErrorCode = Argu.ErrorCode.HelpText -> err.WriteLine e.Message; 0
    | :? Argu.ArguParseException as e -> err.WriteLine("fa: " + oneLine (e.Message.Replace("ERROR: ", ""))); 2
    | :? Argu.ArguException as e -> err.WriteLine("fa: " + oneLine e.Message); 2
    | FunctionalAsymptotics.Cli.Common.UsageError m -> err.WriteLine("fa: " + oneLine m); 2
    | :? InvalidArgumentException as e -> err.WriteLine("fa: " + oneLine (sprintf "%s: %s" e.Argument e.Constraint)); 2
    | :? RankDeficientException as e -> err.WriteLine("fa: " + oneLine e.Message); 2
    | e -> err.WriteLine("fa: " + oneLine (sprintf "%s: %s" (e.GetType().Name) e.Message)); 1
