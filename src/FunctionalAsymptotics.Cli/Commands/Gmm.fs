/// `fa gmm` and `fa gmm-sweep`: the Gaussian-mixture case study (paper Section 6.3, Figure 2).
module FunctionalAsymptotics.Cli.Commands.Gmm

open System
open System.Globalization
open System.IO
open System.Text.Json
open Argu
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Cli
open FunctionalAsymptotics.Cli.Common

/// The largest number of components `K` and dimension `d` accepted (`K d` parameters; the Fisher
/// information is `(K d)^2`), and the largest sample counts.
let maxComponents, maxDimension, maxSamples = 1_000, 10_000, 100_000_000

/// Options of `fa gmm`.
type GmmArgs =
    | [<Unique>] Components of K: int
    | [<Unique>] D of d: int
    | [<Unique>] Beta of beta: string
    | [<Unique>] Theta_Norm of norm: string
    | [<Unique>] Alpha of alpha: string
    | [<Unique>] Sigma2 of sigma2: string
    | [<Unique>] Samples of samples: int
    | [<Unique>] Fisher_Samples of samples: int
    | [<Unique>] Seed of seed: int
    | [<CustomCommandLine("--generic")>] Generic_Route
    | [<CustomCommandLine("--monte-carlo")>] Monte_Carlo_Route
    | Json
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Components _ -> "number of mixture components K >= 2 (default 4)."
            | D _ -> "dimension d >= K (default 20)."
            | Beta _ -> "centre scale beta > 0, U* = beta I_{K,d} (default 2)."
            | Theta_Norm _ -> "norm of theta*: 1 (paper text, default) or 10 (authors' code)."
            | Alpha _ -> "alpha = m / n > 0 (default 1)."
            | Sigma2 _ -> "downstream noise variance sigma^2 >= 0 (default 1)."
            | Samples _ -> "Monte Carlo draws of the Gram matrices, >= 1000 (default 600000)."
            | Fisher_Samples _ -> "Monte Carlo draws of the Fisher information, >= 1000 (default 200000)."
            | Seed _ -> "seed of the Monte Carlo generators (default 1)."
            | Generic_Route -> "use the generic Monte Carlo route (the engine on the model specification) instead of the default."
            | Monte_Carlo_Route -> "use the specialised Monte Carlo route (jackknife standard error) instead of the default (quadrature for K <= 5 and beta <= 2.5)."
            | Json -> "print one JSON object."

/// Options of `fa gmm-sweep`.
type SweepArgs =
    | [<Mandatory; Unique>] Vary of parameter: string
    | [<Mandatory; Unique>] Values of values: string
    | [<Unique>] Fixed of assignments: string
    | [<Mandatory; Unique>] Out of dir: string
    | [<Unique>] Theta_Norm of norm: string
    | [<Unique>] Samples of samples: int
    | [<Unique>] Fisher_Samples of samples: int
    | [<Unique>] Seed of seed: int
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Vary _ -> "the swept parameter: components, d or beta."
            | Values _ -> "its values, comma-separated (integers for components and d)."
            | Fixed _ -> "the other parameters, e.g. components=4,d=20,beta=2 (default: Figure 2's values)."
            | Out _ -> "directory of gmm-sweep-<vary>.csv, .json and .png."
            | Theta_Norm _ -> "norm of theta*: 1 (paper text, default) or 10 (authors' code)."
            | Samples _ -> "Monte Carlo draws of the Gram matrices, >= 1000 (default 600000)."
            | Fisher_Samples _ -> "Monte Carlo draws of the Fisher information, >= 1000 (default 200000)."
            | Seed _ -> "seed of the Monte Carlo generators (default 1)."

/// The Monte Carlo options from the command line (`thetaNorm`, `samples`, `fisher`, `seed` as given).
let private options (thetaNorm: string option) (samples: int option) (fisher: int option) (seed: int option) =
    let o = GaussianMixturePretraining.defaultOptions
    let thetaNorm = thetaNorm |> Option.map (Parse.float "--theta-norm") |> Option.defaultValue 1.0
    if thetaNorm <> 1.0 && thetaNorm <> 10.0 then usageError "--theta-norm: must be 1 or 10"
    let samples = samples |> Option.defaultValue o.GramSamples |> Require.intBetween "--samples" 1000 maxSamples
    let fisher = fisher |> Option.defaultValue o.FisherSamples |> Require.intBetween "--fisher-samples" 1000 maxSamples
    { o with GramSamples = samples; FisherSamples = fisher; Seed = defaultArg seed o.Seed; ThetaNorm = thetaNorm }

/// Checks `K` and `d` (sizes that fit: `K <= d`, both bounded).
let private checkSizes (k: int) (d: int) =
    Require.intBetween "--components" 2 maxComponents k |> ignore
    Require.intBetween "--d" k maxDimension d |> ignore

let private quantileLevels = [| 0.05; 0.25; 0.5; 0.75; 0.95; 0.99 |]

let private writeResult (w: Utf8JsonWriter) (r: MixtureLimit) (law: LimitLaw) (sigma2: float) (alpha: float) =
    let prop = Json.property w
    w.WriteStartObject()
    w.WriteString("model", "gmm")
    w.WriteString("route", (match r.Route with Specialised -> "specialised" | Generic -> "generic" | Quadrature -> "quadrature"))
    w.WriteNumber("components", r.K); w.WriteNumber("d", r.D); prop "beta" r.Beta
    prop "thetaNorm" r.ThetaNorm
    w.WriteNumber("dEff", r.DEff); w.WriteNumber("dBase", r.DBase)
    prop "sigma2" sigma2; prop "alpha" alpha
    w.WriteStartArray("weights")
    for x in r.Weights do Json.number w x
    w.WriteEndArray()
    prop "pretrainMean" r.PretrainMean
    prop "pretrainMeanStdErr" r.PretrainMeanStdErr
    prop "mean" law.Mean; prop "variance" law.Variance
    w.WriteStartObject("quantiles")
    for p in quantileLevels do prop (p.ToString("0.0#", CultureInfo.InvariantCulture)) (LimitLaw.quantile law p)
    w.WriteEndObject()
    match AsymptoticSummary.alpha0 (GaussianMixtureModel.lawOf sigma2 r).Summary with
    | Some a -> prop "alpha0" a
    | None -> w.WriteNull("alpha0")
    w.WriteStartObject("priorArt"); w.WriteEndObject()
    let tf, tg, ta = r.Timings
    w.WriteStartObject("timingsSeconds")
    prop "fisher" tf; prop "gram" tg; prop "linearAlgebra" ta
    w.WriteEndObject()
    w.WriteEndObject()

/// Runs `fa gmm` on parsed options.
let estimateParsed (out: TextWriter) (args: ParseResults<GmmArgs>) : int =
    let k = args.GetResult(Components, 4)
    let d = args.GetResult(D, 20)
    checkSizes k d
    let beta = args.TryGetResult Beta |> Option.map (Parse.float "--beta") |> Option.defaultValue 2.0
    if not (beta > 0.0) then usageError (sprintf "--beta: must be > 0, got %s" (format beta))
    let alpha = args.TryGetResult Alpha |> Option.map (Parse.float "--alpha") |> Option.defaultValue 1.0 |> Require.positiveInvertible "--alpha"
    let sigma2 = args.TryGetResult Sigma2 |> Option.map (Parse.float "--sigma2") |> Option.defaultValue 1.0 |> Require.nonNegative "--sigma2"
    let o = options (args.TryGetResult GmmArgs.Theta_Norm) (args.TryGetResult GmmArgs.Samples) (args.TryGetResult GmmArgs.Fisher_Samples) (args.TryGetResult GmmArgs.Seed)
    let route =
        if args.Contains Generic_Route then Generic
        elif args.Contains Monte_Carlo_Route then Specialised
        else GaussianMixturePretraining.preferredRoute k beta
    let inputs = sprintf "--components %d --d %d --beta %s --alpha %s --sigma2 %s" k d (format beta) (format alpha) (format sigma2)
    compute "the mixture limit law" inputs (fun () ->
        let r = GaussianMixturePretraining.estimate route k d beta o
        let law = GaussianMixturePretraining.limitLaw sigma2 alpha r
        let check what x = finiteResult what inputs x |> ignore
        check "E||L(Z)||^2" r.PretrainMean
        check "the mean of E_alpha" law.Mean
        check "the variance of E_alpha" law.Variance
        if args.Contains Json then
            out.WriteLine(Json.render (fun w -> writeResult w r law sigma2 alpha))
        else
            let tf, tg, ta = r.Timings
            let line (text: string) = out.WriteLine text
            line (sprintf "Gaussian mixture, U* = %g I_{%d,%d}, theta* of norm %g (%s route)" beta k d r.ThetaNorm (match route with Generic -> "generic" | Specialised -> "specialised Monte Carlo" | Quadrature -> "quadrature"))
            line (sprintf "d_eff = %d, d_base = %d, r* = %d" r.DEff r.DBase r.RStar)
            line (sprintf "E||L(Z)||^2 = tr(V G) = %.6g +- %.2g (%s, rel %.3f%%)" r.PretrainMean r.PretrainMeanStdErr
                    (if route = Quadrature then "change from the previous quadrature order" else "jackknife SE") (100.0 * r.PretrainMeanStdErr / r.PretrainMean))
            line (sprintf "E_alpha: mean %.6g, variance %.6g (sigma2 = %g, alpha = %g)" law.Mean law.Variance sigma2 alpha)
            line (sprintf "stages: Fisher %.3f s, Gram %.3f s, linear algebra + SE %.3f s" tf tg ta)
        0)

/// The core's name of a swept parameter (`components` is the mixture's `K`).
let private coreName (parameter: string) =
    match parameter with
    | "components" -> "K"
    | "d" | "beta" -> parameter
    | other -> usageError (sprintf "--vary: must be components, d or beta, got '%s'" other)

/// Runs `fa gmm-sweep` on parsed options.
let sweepParsed (out: TextWriter) (args: ParseResults<SweepArgs>) : int =
    let vary = args.GetResult Vary
    let core = coreName vary
    let values =
        match core with
        | "beta" -> Parse.floats "--values" (args.GetResult Values)
        | _ -> Parse.ints "--values" (args.GetResult Values) |> Array.map float
    let fk, fd, fb = GaussianMixturePretraining.figure2Fixed core
    let mutable k, d, beta = fk, fd, fb
    match args.TryGetResult Fixed with
    | None -> ()
    | Some text ->
        for part in text.Split(',') do
            match part.Split('=') with
            | [| "components"; v |] -> k <- Parse.int "--fixed components" v
            | [| "d"; v |] -> d <- Parse.int "--fixed d" v
            | [| "beta"; v |] -> beta <- Parse.float "--fixed beta" v
            | _ -> usageError (sprintf "--fixed: bad entry '%s' (use components=..,d=..,beta=..)" part)
    for v in values do
        match core with
        | "K" -> checkSizes (int v) d
        | "d" -> checkSizes k (int v)
        | _ ->
            checkSizes k d
            if not (v > 0.0) then usageError (sprintf "--values: beta must be > 0, got %s" (format v))
    if core <> "beta" && not (beta > 0.0) then usageError (sprintf "--fixed: beta must be > 0, got %s" (format beta))
    let out' = args.GetResult Out
    if File.Exists out' then usageError (sprintf "--out: '%s' is a file, not a directory" out')
    let o = options (args.TryGetResult SweepArgs.Theta_Norm) (args.TryGetResult SweepArgs.Samples) (args.TryGetResult SweepArgs.Fisher_Samples) (args.TryGetResult SweepArgs.Seed)
    let inputs = sprintf "--vary %s --values %s" vary (String.Join(",", values |> Array.map format))
    let results = compute "the mixture sweep" inputs (fun () -> GaussianMixturePretraining.sweep core values k d beta o)
    for r in results do finiteResult "E||L(Z)||^2" inputs r.PretrainMean |> ignore
    Directory.CreateDirectory out' |> ignore
    let stem = Path.Combine(out', sprintf "gmm-sweep-%s" vary)
    File.WriteAllLines(stem + ".csv",
        [| yield "components,d,beta,thetaNorm,dEff,pretrainMean,pretrainMeanStdErr"
           for r in results do
               yield sprintf "%d,%d,%s,%s,%d,%s,%s" r.K r.D (format r.Beta) (format r.ThetaNorm) r.DEff (format r.PretrainMean) (format r.PretrainMeanStdErr) |])
    File.WriteAllText(stem + ".json",
        Json.render (fun w ->
            w.WriteStartObject()
            w.WriteString("model", "gmm"); w.WriteString("vary", vary); Json.property w "thetaNorm" o.ThetaNorm
            w.WriteNumber("samples", o.GramSamples); w.WriteNumber("seed", o.Seed)
            w.WriteStartArray("points")
            for r in results do
                w.WriteStartObject()
                w.WriteNumber("components", r.K); w.WriteNumber("d", r.D); Json.property w "beta" r.Beta
                Json.property w "pretrainMean" r.PretrainMean; Json.property w "pretrainMeanStdErr" r.PretrainMeanStdErr
                w.WriteEndObject()
            w.WriteEndArray()
            w.WriteEndObject()))
    let xs = results |> Array.map (fun r -> match core with "K" -> float r.K | "d" -> float r.D | _ -> r.Beta)
    let ys = results |> Array.map (fun r -> r.PretrainMean)
    let es = results |> Array.map (fun r -> r.PretrainMeanStdErr)
    use plt = new ScottPlot.Plot()
    plt.Add.Scatter(xs, ys) |> ignore
    plt.Add.ErrorBar(xs, ys, es) |> ignore
    let fixedText =
        match core with
        | "K" -> sprintf "d = %d, beta = %g" d beta
        | "d" -> sprintf "K = %d, beta = %g" k beta
        | _ -> sprintf "K = %d, d = %d" k d
    plt.Title(sprintf "E||L(Z)||^2 vs %s (%s, |theta*| = %g); bars: 1 SE" (if core = "K" then "K" else vary) fixedText o.ThetaNorm)
    plt.XLabel(if core = "K" then "K (components)" else vary)
    plt.YLabel "E||L(Z)||^2 = tr(V G)"
    if core <> "K" then
        plt.Axes.Bottom.TickGenerator <- ScottPlot.TickGenerators.NumericAutomatic()
    plt.SavePng(stem + ".png", 800, 600) |> ignore
    out.WriteLine(sprintf "wrote %s.csv, %s.json, %s.png" stem stem stem)
    0

/// Runs `fa gmm ARGS` (failures are raised to `Common.handle`).
let runEstimate (output: Output) (argv: string[]) : int =
    let parser = ArgumentParser.Create<GmmArgs>(programName = "fa gmm")
    estimateParsed output.Out (parser.ParseCommandLine(argv, raiseOnUsage = true))

/// Runs `fa gmm-sweep ARGS` (failures are raised to `Common.handle`).
let runSweep (output: Output) (argv: string[]) : int =
    let parser = ArgumentParser.Create<SweepArgs>(programName = "fa gmm-sweep")
    sweepParsed output.Out (parser.ParseCommandLine(argv, raiseOnUsage = true))
