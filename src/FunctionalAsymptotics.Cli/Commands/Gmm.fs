/// `fa gmm` and `fa gmm-sweep`: the Gaussian-mixture case study (paper Section 6.3, Figure 2).
module FunctionalAsymptotics.Cli.Commands.Gmm

open System
open System.IO
open System.Text.Json
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

exception private Usage of string

let private parseArgs (argv: string[]) (flags: Set<string>) : Map<string, string> =
    let mutable m = Map.empty
    let mutable i = 0
    while i < argv.Length do
        let a = argv.[i]
        if flags.Contains a then m <- m.Add(a, "true"); i <- i + 1
        elif a.StartsWith "--" && i + 1 < argv.Length then m <- m.Add(a, argv.[i + 1]); i <- i + 2
        else raise (Usage(sprintf "unexpected argument '%s'" a))
    m

let private getInt (m: Map<string, string>) key dflt =
    match m.TryFind key with
    | None -> dflt
    | Some s ->
        match Int32.TryParse s with
        | true, v -> v
        | _ -> raise (Usage(sprintf "%s: expected an integer, got '%s'" key s))

let private getFloat (m: Map<string, string>) key dflt =
    match m.TryFind key with
    | None -> dflt
    | Some s ->
        match Double.TryParse(s, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> v
        | _ -> raise (Usage(sprintf "%s: expected a number, got '%s'" key s))

let private options (m: Map<string, string>) =
    let o = GaussianMixturePretraining.defaultOptions
    let thetaNorm = getFloat m "--theta-norm" 1.0
    if thetaNorm <> 1.0 && thetaNorm <> 10.0 then raise (Usage "--theta-norm: must be 1 or 10")
    let samples = getInt m "--samples" o.GramSamples
    if samples < 1000 then raise (Usage "--samples: must be >= 1000")
    let fisher = getInt m "--fisher-samples" o.FisherSamples
    if fisher < 1000 then raise (Usage "--fisher-samples: must be >= 1000")
    { o with GramSamples = samples; FisherSamples = fisher; Seed = getInt m "--seed" o.Seed; ThetaNorm = thetaNorm }

let private quantileLevels = [| 0.05; 0.25; 0.5; 0.75; 0.95; 0.99 |]

let private writeResult (w: Utf8JsonWriter) (r: MixtureLimit) (law: LimitLaw) (sigma2: float) (alpha: float) =
    w.WriteStartObject()
    w.WriteString("model", "gmm")
    w.WriteString("route", (match r.Route with Specialised -> "specialised" | Generic -> "generic" | Quadrature -> "quadrature"))
    w.WriteNumber("K", r.K); w.WriteNumber("d", r.D); w.WriteNumber("beta", r.Beta)
    w.WriteNumber("thetaNorm", r.ThetaNorm)
    w.WriteNumber("dEff", r.DEff); w.WriteNumber("dBase", r.DBase)
    w.WriteNumber("sigma2", sigma2); w.WriteNumber("alpha", alpha)
    w.WriteStartArray("weights")
    for x in r.Weights do w.WriteNumberValue x
    w.WriteEndArray()
    w.WriteNumber("pretrainMean", r.PretrainMean)
    w.WriteNumber("pretrainMeanStdErr", r.PretrainMeanStdErr)
    w.WriteNumber("mean", law.Mean); w.WriteNumber("variance", law.Variance)
    w.WriteStartObject("quantiles")
    for p in quantileLevels do w.WriteNumber(p.ToString("0.0#", Globalization.CultureInfo.InvariantCulture), LimitLaw.quantile law p)
    w.WriteEndObject()
    match GaussianMixturePretraining.alpha0 sigma2 r with
    | Some a -> w.WriteNumber("alpha0", a)
    | None -> w.WriteNull("alpha0")
    w.WriteStartObject("priorArt"); w.WriteEndObject()
    let tf, tg, ta = r.Timings
    w.WriteStartObject("timingsSeconds")
    w.WriteNumber("fisher", tf); w.WriteNumber("gram", tg); w.WriteNumber("linearAlgebra", ta)
    w.WriteEndObject()
    w.WriteEndObject()

let private toJson (write: Utf8JsonWriter -> unit) =
    use ms = new MemoryStream()
    (use w = new Utf8JsonWriter(ms, JsonWriterOptions(Indented = false))
     write w)
    Text.Encoding.UTF8.GetString(ms.ToArray())

let private gmm (argv: string[]) =
    let m = parseArgs argv (set [ "--json"; "--generic"; "--monte-carlo" ])
    for key in m.Keys do
        if not (List.contains key [ "--K"; "--d"; "--beta"; "--theta-norm"; "--alpha"; "--sigma2"; "--samples"; "--fisher-samples"; "--seed"; "--json"; "--generic"; "--monte-carlo" ]) then
            raise (Usage(sprintf "unknown option %s" key))
    let k = getInt m "--K" 4
    let d = getInt m "--d" 20
    let beta = getFloat m "--beta" 2.0
    let alpha = getFloat m "--alpha" 1.0
    let sigma2 = getFloat m "--sigma2" 1.0
    if alpha <= 0.0 then raise (Usage "--alpha: must be > 0")
    if sigma2 < 0.0 then raise (Usage "--sigma2: must be >= 0")
    let route = if m.ContainsKey "--generic" then Generic elif m.ContainsKey "--monte-carlo" then Specialised else GaussianMixturePretraining.preferredRoute k beta
    let r = GaussianMixturePretraining.estimate route k d beta (options m)
    let law = GaussianMixturePretraining.limitLaw sigma2 alpha r
    if m.ContainsKey "--json" then
        Console.Out.WriteLine(toJson (fun w -> writeResult w r law sigma2 alpha))
    else
        let tf, tg, ta = r.Timings
        printfn "Gaussian mixture, U* = %g I_{%d,%d}, theta* of norm %g (%s route)" beta k d r.ThetaNorm (match route with Generic -> "generic" | Specialised -> "specialised Monte Carlo" | Quadrature -> "quadrature")
        printfn "d_eff = %d, d_base = %d, r* = %d" r.DEff r.DBase r.RStar
        printfn "E||L(Z)||^2 = tr(V G) = %.6g +- %.2g (%s, rel %.3f%%)" r.PretrainMean r.PretrainMeanStdErr
            (if route = Quadrature then "change from the previous quadrature order" else "jackknife SE") (100.0 * r.PretrainMeanStdErr / r.PretrainMean)
        printfn "E_alpha: mean %.6g, variance %.6g (sigma2 = %g, alpha = %g)" law.Mean law.Variance sigma2 alpha
        printfn "stages: Fisher %.3f s, Gram %.3f s, linear algebra + SE %.3f s" tf tg ta
    0

let private sweepCmd (argv: string[]) =
    let m = parseArgs argv (set [])
    let vary = match m.TryFind "--vary" with Some v -> v | None -> raise (Usage "--vary: required (K, d or beta)")
    if not (List.contains vary [ "K"; "d"; "beta" ]) then raise (Usage "--vary: must be K, d or beta")
    let values =
        match m.TryFind "--values" with
        | None -> raise (Usage "--values: required, comma-separated")
        | Some s ->
            s.Split(',', StringSplitOptions.RemoveEmptyEntries)
            |> Array.map (fun t ->
                match Double.TryParse(t, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
                | true, v when Double.IsFinite v -> v
                | _ -> raise (Usage(sprintf "--values: bad number '%s'" t)))
    let out = match m.TryFind "--out" with Some o -> o | None -> raise (Usage "--out: required")
    let fk, fd, fb = GaussianMixturePretraining.figure2Fixed vary
    // --fixed K=4,d=20,beta=2 overrides
    let mutable k, d, beta = fk, fd, fb
    match m.TryFind "--fixed" with
    | None -> ()
    | Some s ->
        for part in s.Split(',', StringSplitOptions.RemoveEmptyEntries) do
            match part.Split('=') with
            | [| "K"; v |] -> k <- getInt (Map [ "K", v ]) "K" k
            | [| "d"; v |] -> d <- getInt (Map [ "d", v ]) "d" d
            | [| "beta"; v |] -> beta <- getFloat (Map [ "beta", v ]) "beta" beta
            | _ -> raise (Usage(sprintf "--fixed: bad entry '%s' (use K=..,d=..,beta=..)" part))
    let o = options m
    let results = GaussianMixturePretraining.sweep vary values k d beta o
    Directory.CreateDirectory out |> ignore
    let stem = Path.Combine(out, sprintf "gmm-sweep-%s" vary)
    let inv (x: float) = x.ToString("R", Globalization.CultureInfo.InvariantCulture)
    File.WriteAllLines(stem + ".csv",
        [| yield "K,d,beta,thetaNorm,dEff,pretrainMean,pretrainMeanStdErr"
           for r in results do
               yield sprintf "%d,%d,%s,%s,%d,%s,%s" r.K r.D (inv r.Beta) (inv r.ThetaNorm) r.DEff (inv r.PretrainMean) (inv r.PretrainMeanStdErr) |])
    File.WriteAllText(stem + ".json",
        toJson (fun w ->
            w.WriteStartObject()
            w.WriteString("model", "gmm"); w.WriteString("vary", vary); w.WriteNumber("thetaNorm", o.ThetaNorm)
            w.WriteNumber("samples", o.GramSamples); w.WriteNumber("seed", o.Seed)
            w.WriteStartArray("points")
            for r in results do
                w.WriteStartObject()
                w.WriteNumber("K", r.K); w.WriteNumber("d", r.D); w.WriteNumber("beta", r.Beta)
                w.WriteNumber("pretrainMean", r.PretrainMean); w.WriteNumber("pretrainMeanStdErr", r.PretrainMeanStdErr)
                w.WriteEndObject()
            w.WriteEndArray()
            w.WriteEndObject()))
    let xs = results |> Array.map (fun r -> match vary with "K" -> float r.K | "d" -> float r.D | _ -> r.Beta)
    let ys = results |> Array.map (fun r -> r.PretrainMean)
    let es = results |> Array.map (fun r -> r.PretrainMeanStdErr)
    use plt = new ScottPlot.Plot()
    plt.Add.Scatter(xs, ys) |> ignore
    plt.Add.ErrorBar(xs, ys, es) |> ignore
    let fixedText =
        match vary with
        | "K" -> sprintf "d = %d, beta = %g" d beta
        | "d" -> sprintf "K = %d, beta = %g" k beta
        | _ -> sprintf "K = %d, d = %d" k d
    plt.Title(sprintf "E||L(Z)||^2 vs %s (%s, |theta*| = %g); bars: 1 SE" vary fixedText o.ThetaNorm)
    plt.XLabel vary
    plt.YLabel "E||L(Z)||^2 = tr(V G)"
    if vary <> "K" then
        plt.Axes.Bottom.TickGenerator <- ScottPlot.TickGenerators.NumericAutomatic()
    plt.SavePng(stem + ".png", 800, 600) |> ignore
    printfn "wrote %s.csv, %s.json, %s.png" stem stem stem
    0

/// Entry point for `gmm` and `gmm-sweep`: `argv.[0]` is the subcommand. Exit code 2 with a one-line
/// stderr message on bad input.
let run (argv: string[]) : int =
    try
        match argv |> Array.tryHead with
        | Some "gmm" -> gmm argv.[1..]
        | Some "gmm-sweep" -> sweepCmd argv.[1..]
        | _ -> raise (Usage "expected gmm or gmm-sweep")
    with
    | Usage msg -> eprintfn "fa: %s" msg; 2
    | :? InvalidArgumentException as e -> eprintfn "fa: %s" e.Message; 2
    | :? FunctionalAsymptoticsException as e -> eprintfn "fa: %s" e.Message; 1
