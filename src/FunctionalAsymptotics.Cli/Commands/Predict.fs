/// `fa predict`: the downstream risk and the pre-training crossover estimated from a user's data files
/// (docs/predict.md).
module FunctionalAsymptotics.Cli.Commands.Predict

open System
open System.Globalization
open System.IO
open System.Text
open Argu
open Spectre.Console
open FunctionalAsymptotics.Prediction
open FunctionalAsymptotics.Cli
open FunctionalAsymptotics.Cli.Common

/// Options of `fa predict`.
type PredictArgs =
    /// The model: `factor` or `gmm`.
    | [<MainCommand; ExactlyOnce; First>] Model of model: string
    /// `--unlabelled FILE`: the pre-training inputs (.csv or .parquet).
    | [<Mandatory; Unique>] Unlabelled of path: string
    /// `--labelled FILE`: the downstream inputs with a `y` column (.csv or .parquet).
    | [<Mandatory; Unique>] Labelled of path: string
    /// `--k K`: number of factors.
    | [<Unique>] K of int
    /// `--components K`: number of mixture components (lowercase like every option; `fa gmm` spells it the same).
    | [<Unique>] Components of int
    /// `--n N`: the downstream sample size to predict for.
    | [<Unique>] N of int
    /// `--m M`: the pre-training sample size to predict for.
    | [<Unique>] M of int
    /// `--bootstrap B`: bootstrap replicates.
    | [<Unique>] Bootstrap of int
    /// `--seed S`: the bootstrap seed.
    | [<Unique>] Seed of int
    /// `--threads T`: bootstrap worker threads.
    | [<Unique>] Threads of int
    /// `--out DIR`: write predict.png and predict.md there.
    | [<Unique>] Out of dir: string
    /// `--json`: one JSON object instead of a table.
    | Json
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Model _ -> "the model fitted to the data: factor (the linear factor model of Section 6.2, PPCA pre-training) or gmm (the Gaussian mixture with subspace-gated features of Section 6.3, EM pre-training)."
            | Unlabelled _ -> "pre-training inputs: CSV (header row, invariant-culture numbers) or Parquet; every column is a feature."
            | Labelled _ -> "downstream data: the same feature columns (by name) plus the label column 'y'."
            | K _ -> "number of factors k, 1 <= k < d (factor; default 1)."
            | Components _ -> "number of mixture components K, 2 <= K <= d + 1 (gmm; required)."
            | N _ -> "downstream sample size n to predict for (default: rows of the labelled file)."
            | M _ -> "pre-training sample size m to predict for (default: rows of the unlabelled file)."
            | Bootstrap _ -> "bootstrap replicates over both data sets for standard errors and 95% intervals (default 200; 0 for none)."
            | Seed _ -> "bootstrap seed (default 1); results do not depend on --threads."
            | Threads _ -> "bootstrap worker threads (default: all cores)."
            | Out _ -> "directory for predict.png (risk against alpha) and predict.md (summary)."
            | Json -> "print one JSON object (model, n, m, dEff, dBase, sigma2, pretrainMean, alpha0, weights, predictive, riskCurve, ...)."

let private num (x: float) = format x

/// Five significant digits for the table and the Markdown summary (the JSON has every digit).
let private short (x: float) = x.ToString("G5", CultureInfo.InvariantCulture)

/// Writes `name: [lo, hi]`.
let private bounds (w: System.Text.Json.Utf8JsonWriter) (name: string) (lo: float) (hi: float) =
    w.WriteStartArray name
    Json.number w lo
    Json.number w hi
    w.WriteEndArray()

let private interval (w: System.Text.Json.Utf8JsonWriter) (name: string) (i: BootstrapInterval) =
    w.WriteStartObject name
    Json.property w "estimate" i.Estimate
    Json.property w "stdErr" i.StdErr
    bounds w "ci" i.Lower i.Upper
    w.WriteEndObject()

/// The JSON object: model, sizes, dEff, dBase, sigma2 (the estimate; its interval under sigma2Ci),
/// intervals {estimate, stdErr, ci} for pretrainMean, alpha0, m0, baseline and the limit law of n(R - sigma^2)
/// at the estimate at the user's alpha (`risk`: mean, q05, q50, q95), the predictive law there (`predictive`:
/// mean, q05, q50, q95, draws), the weights, theta, riskCurve (predictive mean, q05, q95; the limit law's lawMean,
/// lawQ05, lawQ95; meanCi, the bootstrap interval of lawMean) and the bootstrap's settings.
let toJson (p: RiskPrediction) : string =
    Json.render (fun w ->
        w.WriteStartObject()
        w.WriteString("model", p.Model)
        w.WriteNumber("n", p.N)
        w.WriteNumber("m", p.M)
        w.WriteNumber("labelledRows", p.LabelledRows)
        w.WriteNumber("unlabelledRows", p.UnlabelledRows)
        Json.property w "alpha" p.Alpha
        w.WriteNumber("dEff", p.DEff)
        w.WriteNumber("dBase", p.DBase)
        Json.property w "sigma2" p.Sigma2.Estimate
        interval w "sigma2Ci" p.Sigma2
        interval w "pretrainMean" p.PretrainMean
        interval w "alpha0" p.Alpha0
        interval w "m0" p.UnlabelledToPayOff
        interval w "baseline" p.Baseline
        w.WriteStartObject "risk"
        interval w "mean" p.Mean
        interval w "q05" p.Q05
        interval w "q50" p.Q50
        interval w "q95" p.Q95
        w.WriteEndObject()
        w.WriteStartObject "predictive"
        Json.property w "mean" p.Predictive.Mean
        Json.property w "q05" p.Predictive.Q05
        Json.property w "q50" p.Predictive.Q50
        Json.property w "q95" p.Predictive.Q95
        w.WriteNumber("draws", p.Predictive.Draws)
        w.WriteEndObject()
        w.WriteStartArray "weights"
        for x in p.Weights do Json.number w x
        w.WriteEndArray()
        w.WriteStartArray "theta"
        for x in p.Theta do Json.number w x
        w.WriteEndArray()
        w.WriteStartArray "riskCurve"
        for c in p.RiskCurve do
            w.WriteStartObject()
            Json.property w "alpha" c.Alpha
            Json.property w "mean" c.Mean
            Json.property w "q05" c.Q05
            Json.property w "q95" c.Q95
            Json.property w "lawMean" c.LawMean
            Json.property w "lawQ05" c.LawQ05
            Json.property w "lawQ95" c.LawQ95
            bounds w "meanCi" c.MeanLower c.MeanUpper
            w.WriteEndObject()
        w.WriteEndArray()
        w.WriteNumber("bootstrap", p.Bootstrap)
        w.WriteNumber("bootstrapFailures", p.BootstrapFailures.Length)
        w.WriteNumber("seed", p.Seed)
        Json.property w "level" p.Level
        w.WriteEndObject())

/// The rows of the summary table: (quantity, estimate, standard error, interval); the predictive law's rows
/// (Monte Carlo, no bootstrap interval: it already mixes over the replicates) leave the last two empty.
let private rows (p: RiskPrediction) =
    let ci (i: BootstrapInterval) = sprintf "[%s, %s]" (short i.Lower) (short i.Upper)
    [ for name, i in [ "sigma^2", p.Sigma2
                       "E||L(Z)||^2", p.PretrainMean
                       "alpha0", p.Alpha0
                       sprintf "m0 = alpha0 n (n = %d)" p.N, p.UnlabelledToPayOff
                       "baseline sigma^2 d_base", p.Baseline
                       sprintf "limit law of n(R - sigma^2) at alpha = %s: mean" (short p.Alpha), p.Mean
                       "  5% quantile", p.Q05
                       "  median", p.Q50
                       "  95% quantile", p.Q95 ] ->
        name, short i.Estimate, short i.StdErr, ci i
      for name, x in [ sprintf "predictive n(R - sigma^2) (%d draws): mean" p.Predictive.Draws, p.Predictive.Mean
                       "  5% quantile", p.Predictive.Q05
                       "  median", p.Predictive.Q50
                       "  95% quantile", p.Predictive.Q95 ] ->
        name, short x, "", "" ]

let private header (p: RiskPrediction) =
    sprintf "%s model: n = %d, m = %d (alpha = %s; data %d labelled, %d unlabelled rows), d_eff = %d, d_base = %d; bootstrap %d (seed %d, %d failed), %g%% intervals"
        p.Model p.N p.M (short p.Alpha) p.LabelledRows p.UnlabelledRows p.DEff p.DBase p.Bootstrap p.Seed p.BootstrapFailures.Length (100.0 * p.Level)

/// The summary as a Spectre.Console table.
let render (console: IAnsiConsole) (p: RiskPrediction) =
    console.Write(Text(header p + "\n"))
    let table = Table()
    for c in [ "quantity"; "estimate"; "std. error"; "interval" ] do table.AddColumn(c) |> ignore
    for a, b, c, d in rows p do
        table.AddRow([| Text(a) :> Rendering.IRenderable; Text(b); Text(c); Text(d) |]) |> ignore
    console.Write table
    console.Write(Text(sprintf "weights of ||L(Z)||^2: %s\n" (String.Join(", ", p.Weights |> Array.map short))))

/// The Markdown summary written by `--out`.
let markdown (p: RiskPrediction) (figure: string) : string =
    let sb = StringBuilder()
    let line (s: string) = sb.AppendLine s |> ignore
    line (sprintf "# fa predict: %s model" p.Model)
    line ""
    line (header p + ".")
    line ""
    line "| quantity | estimate | std. error | interval |"
    line "|---|---:|---:|---|"
    for a, b, c, d in rows p do line (sprintf "| %s | %s | %s | %s |" (a.Replace("|", "\\|")) b c d)
    line ""
    line (sprintf "Weights of `||L(Z)||^2`: %s." (String.Join(", ", p.Weights |> Array.map short)))
    line ""
    if Double.IsFinite p.Alpha0.Estimate then
        line (sprintf "Pre-training on `m` unlabelled samples beats fitting on the `n = %d` labelled samples alone, on average, once `m > m0 = %s` (interval %s to %s)."
                  p.N (short p.UnlabelledToPayOff.Estimate) (short p.UnlabelledToPayOff.Lower) (short p.UnlabelledToPayOff.Upper))
        line ""
    line (sprintf "![predicted risk against alpha](%s)" figure)
    sb.ToString()

/// Runs `fa predict` on parsed options (exit 0; errors propagate to `Program.run`: 2 bad input, 1 failure).
let run (output: Output) (args: ParseResults<PredictArgs>) : int =
    let model = args.GetResult Model
    let positive (name: string) (x: int option) =
        match x with
        | Some v when v < 1 -> usageError (sprintf "--%s: must be >= 1, got %d" name v)
        | _ -> x
    let settings =
        { RiskPrediction.defaults with
            N = positive "n" (args.TryGetResult N)
            M = positive "m" (args.TryGetResult M)
            Bootstrap = args.GetResult(Bootstrap, defaultValue = RiskPrediction.defaults.Bootstrap)
            Seed = (let s = args.GetResult(Seed, defaultValue = 1) in if s < 0 then usageError (sprintf "--seed: must be >= 0, got %d" s) else uint64 s)
            Threads = args.GetResult(Threads, defaultValue = 0) }
    if settings.Bootstrap < 0 || settings.Bootstrap = 1 then usageError (sprintf "--bootstrap: must be 0 or >= 2, got %d" settings.Bootstrap)
    let p =
        match model with
        | "factor" ->
            let k = args.GetResult(K, defaultValue = 1)
            if k < 1 then usageError (sprintf "--k: must be >= 1, got %d" k)
            if args.Contains Components then usageError "--components: is the number of mixture components (gmm); the factor model takes --k"
            RiskPrediction.factorFromFiles k settings (args.GetResult Unlabelled) (args.GetResult Labelled)
        | "gmm" ->
            if args.Contains K then usageError "--k: is the number of factors (factor); the mixture takes --components"
            let k =
                match args.TryGetResult Components with
                | Some k when k >= 2 -> k
                | Some k -> usageError (sprintf "--components: must be >= 2, got %d" k)
                | None -> usageError "--components: the number of mixture components is required for gmm"
            validating [ "K", "--components" ] (fun () -> RiskPrediction.gmmFromFiles k settings (args.GetResult Unlabelled) (args.GetResult Labelled))
        | other -> usageError (sprintf "model: must be factor or gmm, got '%s'" other)
    match args.TryGetResult Out with
    | Some dir ->
        Directory.CreateDirectory dir |> ignore
        Plots.PredictionPlots.riskCurve (Path.Combine(dir, "predict.png")) p
        File.WriteAllText(Path.Combine(dir, "predict.md"), markdown p "predict.png")
    | None -> ()
    if args.Contains Json then output.Out.WriteLine(toJson p) else render output.Console p
    0
