/// Shared report of the model commands (`fa spectral`, `fa factor`): the JSON object and the human table.
module FunctionalAsymptotics.Cli.Commands.ModelReport

open System
open System.Globalization
open System.IO
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Cli.Common

/// Raises `Common.UsageError` (a bad option value or inconsistent options: one line on stderr, exit code 2).
let usage (message: string) : 'T = FunctionalAsymptotics.Cli.Common.usageError message

/// The largest dimension `d` the model commands accept (larger sizes cannot fit in memory).
let maxDimension = 500

/// The quantile levels reported.
let levels = [| 0.05; 0.25; 0.5; 0.75; 0.95; 0.99 |]

/// The Monte Carlo route of the model commands (`Model.monteCarloLaw`).
let monteCarloRoute = "monte-carlo"

/// The routes of the model commands (`--route`, `--compare`).
let routes = [ "horizontal"; "descriptor"; monteCarloRoute; "closed"; "paper" ]

/// Help texts of the options `fa spectral` and `fa factor` share.
[<RequireQualifiedAccess>]
module OptionHelp =
    /// `--compare`.
    let compare = "also run the other routes and print how far their weights (for --route monte-carlo: their E||L(Z)||^2, in standard errors) are from the reported route (routes too slow at this size are named, not run)."
    /// `--samples`.
    let samples = "with --route monte-carlo: pre-training samples (the initial sample with --rel-error; default 20000)."
    /// `--rel-error`.
    let relError = "with --route monte-carlo: grow the sample until the relative standard error of E||L(Z)||^2 is at most this (e.g. 0.01)."
    /// `--max-samples`.
    let maxSamples = "with --route monte-carlo: the cap of the growing sample (default 1000000; exit 1 if the target is not met by then)."
    /// `--mc-seed`.
    let mcSeed = "with --route monte-carlo: seed of the pre-training samples (default 1)."
    /// `--quiet`.
    let quiet = "no progress lines on stderr."
    /// `--json`.
    let json = "print one JSON object (no progress lines)."

/// A comparison route this many standard errors or more from the Monte Carlo estimate of `E||L(Z)||^2` is
/// noted under the `--compare` table.
let noteStandardErrors = 3.0

/// `--compare` runs the horizontal route (when it is not the reported one) up to this many parameters
/// `q0`; it takes a few seconds of CPU at `q0 = 2000` (docs/two-stage-engine.md, scaling table).
let compareHorizontalParameters = 2500

/// The reason `--compare` skips the horizontal route for `q0` parameters, if it does.
let horizontalTooSlow (parameters: int) =
    if parameters > compareHorizontalParameters then
        Some(sprintf "%d parameters > %d: run it alone with --route horizontal (it takes minutes at this size)" parameters compareHorizontalParameters)
    else None

/// A route asked with `--route` that is not offered at this size (`tooSlow` gives a reason for the
/// descriptor route above its size limit) is bad usage: exit 2 with the reason, before any work.
let requireOffered (route: string) (tooSlow: string -> string option) =
    match route with
    | "descriptor" -> tooSlow route |> Option.iter (fun reason -> usage (sprintf "--route descriptor: %s" reason))
    | _ -> ()

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

/// What the Monte Carlo route reports besides the summary.
type MonteCarloFigures =
    { /// Jackknife standard error of `E||L(Z)||^2`.
      StandardError: float
      /// Pre-training samples drawn.
      Samples: int
      /// Batches of the jackknife.
      Batches: int }

/// A route's law as the model commands present it.
type RouteLaw =
    { /// The route's quantities.
      Summary: AsymptoticSummary
      /// The Monte Carlo figures (`None` for an exact route).
      MonteCarlo: MonteCarloFigures option }

/// Functions on `RouteLaw`.
module RouteLaw =
    /// An exact route's law.
    let exact (s: AsymptoticSummary) = { Summary = s; MonteCarlo = None }

    /// The Monte Carlo route's law.
    let ofMonteCarlo (law: MonteCarloLaw) =
        { Summary = law.Summary
          MonteCarlo = Some { StandardError = law.PretrainMean.StandardError; Samples = law.Samples; Batches = law.Batches } }

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
      Comparisons: RouteComparison[]
      /// The Monte Carlo figures of the reported route (`None` for an exact route).
      MonteCarlo: MonteCarloFigures option }

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

/// The JSON object of `fa spectral` and `fa factor`: model, route, dEff, dBase, sigma2, alpha, weights, pretrainMean, mean,
/// variance, quantiles (of `E_alpha`), alpha0, priorArt; for the Monte Carlo route also pretrainMeanStdErr,
/// samples and batches.
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
        match r.MonteCarlo with
        | Some mc ->
            prop "pretrainMeanStdErr" mc.StandardError
            w.WriteNumber("samples", mc.Samples)
            w.WriteNumber("batches", mc.Batches)
        | None -> ()
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
    match r.MonteCarlo with
    | Some mc ->
        row "standard error of E||L(Z)||^2" (sprintf "%s (relative %.2g, jackknife over %d batches)" (num mc.StandardError) (mc.StandardError / abs (AsymptoticSummary.pretrainMean s)) mc.Batches)
        row "pre-training samples" (string mc.Samples)
    | None -> ()
    row "mean of E_alpha" (num law.Mean)
    row "variance of E_alpha" (num law.Variance)
    for p in levels do
        row (sprintf "quantile %g of E_alpha" p) (num (LimitLaw.quantile law p))
    row "alpha0 (crossover)" (match AsymptoticSummary.alpha0 s with Some a -> num a | None -> "none (d_base <= d_eff)")
    row ("prior art: " + r.PriorArt.Reference) (sprintf "bound %s, pre-training term %s, improvement factor %s" (num r.PriorArt.Bound) (num r.PriorArt.PretrainTerm) (num r.PriorArt.ImprovementFactor))
    // A Monte Carlo report compares E||L(Z)||^2 in standard errors; an exact one compares the weights.
    let standardErrors (mean: float) =
        match r.MonteCarlo with
        | Some mc -> Some((mean - AsymptoticSummary.pretrainMean s) / mc.StandardError)
        | None -> None
    if r.Comparisons.Length > 0 then
        out.WriteLine(if r.MonteCarlo.IsSome then "Routes (E||L(Z)||^2 compared with the Monte Carlo estimate):" else "Routes (weights compared with the reported route):")
        for c in r.Comparisons do
            match c with
            | Compared(route, disc, mean) ->
                match standardErrors mean with
                | Some z -> row route (sprintf "E||L(Z)||^2 = %s, %+.2f standard errors from the estimate" (num mean) z)
                | None -> row route (sprintf "E||L(Z)||^2 = %s, max relative weight difference %s" (num mean) (if Double.IsFinite disc then disc.ToString("0.##e+0", CultureInfo.InvariantCulture) else "different number of weights"))
            | NotRun(route, reason) -> row route ("not run: " + reason)
        for c in r.Comparisons do
            match c with
            | Compared(route, disc, mean) ->
                match standardErrors mean with
                | Some z when not (abs z < noteStandardErrors) ->
                    out.WriteLine(sprintf "Note: route '%s' is %.1f standard errors from the Monte Carlo estimate (see docs/errata.md)." route (abs z))
                | None when not (disc <= 1e-8) ->
                    out.WriteLine(sprintf "Note: route '%s' disagrees with route '%s' (see docs/errata.md)." route s.Route)
                | _ -> ()
            | NotRun _ -> ()

/// Why `--compare` does not run a route for `model` at its size (`None`: it runs): the descriptor route
/// above its size limit, the horizontal route (when it is not the reported one) above
/// `compareHorizontalParameters`, and the Monte Carlo route when it is not the reported one (an estimate
/// is compared with the exact routes, in standard errors, by `--route monte-carlo --compare`).
let tooSlow (model: Model<'Z>) (route: string) : string option =
    match route with
    | "horizontal" -> horizontalTooSlow (model.Spec.WStar.RowCount * model.Spec.WStar.ColumnCount)
    | "monte-carlo" -> Some "a Monte Carlo estimate: --route monte-carlo --compare compares it with the exact routes"
    | _ -> Model.notOffered route model

/// The Monte Carlo options of the model commands (`--samples`, `--rel-error`, `--max-samples`, `--mc-seed`),
/// each `None` when not given. Giving any with another route than `monte-carlo` is bad usage (exit 2); the
/// defaults are `SpecLaw.defaultOptions` (seed 1, 20 batches, 20000 samples, no target, cap 10^6).
let monteCarloOptions (route: string) (samples: int option) (relError: string option) (maxSamples: int option) (seed: int option) : MonteCarloLawOptions =
    if route <> monteCarloRoute && (samples.IsSome || relError.IsSome || maxSamples.IsSome || seed.IsSome) then
        usage "--samples, --rel-error, --max-samples and --mc-seed go with --route monte-carlo"
    let d = SpecLaw.defaultOptions
    let samples = samples |> Option.map (Require.intBetween "--samples" d.Batches 100_000_000) |> Option.defaultValue d.Samples
    let target = relError |> Option.map (Parse.float "--rel-error" >> Require.positiveInvertible "--rel-error")
    let cap = maxSamples |> Option.map (Require.intBetween "--max-samples" samples 100_000_000) |> Option.defaultValue (max samples d.MaxSamples)
    { d with Samples = samples; TargetRelativeError = target; MaxSamples = cap; Seed = defaultArg seed d.Seed }

/// Options every model command shares.
type Presentation =
    { /// Print one JSON object (`--json`).
      Json: bool
      /// No progress lines (`--quiet`).
      Quiet: bool
      /// Compare with the other routes (`--compare`).
      Compare: bool }

/// Computes `route` of `model` (the law of `name` at `alpha`; `inputs` names the options in error messages)
/// through `lawOf progress route` (usually `Model.lawWith`, `Model.monteCarloLaw` for the Monte Carlo route),
/// compares it with the other routes when asked, checks that every printed number is finite and prints the
/// JSON object or the table. Returns 0.
let present (out: TextWriter) (err: TextWriter) (options: Presentation) (name: string) (inputs: string) (alpha: float) (route: string)
            (model: Model<'Z>) (lawOf: (string -> unit) -> string -> RouteLaw) : int =
    if not (List.contains route routes) then usage (sprintf "--route: must be %s, got '%s'" (String.Join(", ", routes)) route)
    requireOffered route (tooSlow model)
    compute (sprintf "the %s limit law" name) inputs (fun () ->
        let progress = progressLines err name (not (options.Json || options.Quiet))
        let reported = lawOf progress route
        let s = { reported.Summary with Route = route }
        let comparisons =
            if options.Compare then RouteComparison.against routes s (tooSlow model) (fun r -> (lawOf progress r).Summary) else [||]
        let priorArt =
            match model.PriorArt with
            | Some p -> p alpha (AsymptoticSummary.pretrainMean s)
            | None -> { Reference = "none"; Bound = nan; PretrainTerm = nan; ImprovementFactor = nan }
        let report = { Model = name; Summary = s; Alpha = alpha; Comparisons = comparisons; PriorArt = priorArt; MonteCarlo = reported.MonteCarlo }
        checkFinite inputs report
        if options.Json then out.WriteLine(json report) else human out report
        0)
