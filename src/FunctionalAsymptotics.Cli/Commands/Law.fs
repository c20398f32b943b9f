/// `fa law`: moments, probabilities and quantiles of a generalized chi-square law
/// `Q = c + s * sum_j w_j chi^2_{k_j}(lambda_j)`.
module FunctionalAsymptotics.Cli.Commands.Law

open System
open Argu
open Spectre.Console
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Cli
open FunctionalAsymptotics.Cli.Common

/// Options of `fa law`.
type LawArgs =
    /// `--weights 1,0.5,0.25`: the weights `w_j` (required).
    | [<Mandatory; Unique; AltCommandLine("-w")>] Weights of weights: string
    /// `--dof 1,2,1`: degrees of freedom `k_j`.
    | [<Unique>] Dof of dofs: string
    /// `--noncentrality 0,1.5,0`: noncentralities `lambda_j`.
    | [<Unique>] Noncentrality of lambdas: string
    /// `--offset C`: the offset `c`.
    | [<Unique>] Offset of c: string
    /// `--scale S`: the scale `s`.
    | [<Unique>] Scale of s: string
    /// `--cdf X,...`: points for `P(Q <= x)`.
    | [<Unique>] Cdf of points: string
    /// `--sf X,...`: points for `P(Q > x)`.
    | [<Unique>] Sf of points: string
    /// `--quantile P,...`: probabilities for quantiles.
    | [<Unique>] Quantile of probabilities: string
    /// `--json`: one JSON object on stdout instead of a table.
    | Json
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Weights _ -> "the non-zero weights w_j, comma-separated (e.g. 1,0.5,0.25); either sign."
            | Dof _ -> "degrees of freedom k_j >= 1, one per weight (default: all 1)."
            | Noncentrality _ -> "noncentralities lambda_j >= 0, one per weight (default: all 0)."
            | Offset _ -> "the constant c added to the sum (default 0)."
            | Scale _ -> "the factor s > 0 multiplying the sum (default 1)."
            | Cdf _ -> "points x at which to print P(Q <= x), comma-separated."
            | Sf _ -> "points x at which to print P(Q > x), comma-separated (computed directly, accurate in the tail)."
            | Quantile _ -> "probabilities p at which to print the x with P(Q <= x) = p, comma-separated."
            | Json ->
                "print one JSON object {mean, variance, cdf:[{x,value}], sf:[{x,value}], quantile:[{p,value}], method, errorBound} instead of a table."

/// What `fa law` computed, in the order the points were given.
type LawReport =
    { /// The law.
      Law: GeneralizedChiSquare
      /// `(x, P(Q <= x))` for each `--cdf` point.
      Cdf: (float * float)[]
      /// `(x, P(Q > x))` for each `--sf` point.
      Sf: (float * float)[]
      /// `(p, quantile p)` for each `--quantile` probability.
      Quantile: (float * float)[]
      /// Algorithm of the evaluations ("ruben", "imhof", or "exact" when every point was trivial).
      Method: string
      /// The largest absolute error bound of the evaluations.
      ErrorBound: float }

/// Builds the law from the parsed options (raises `UsageError` or the core's `InvalidArgumentException`).
let lawOf (args: ParseResults<LawArgs>) : GeneralizedChiSquare =
    let weights = Parse.floats "--weights" (args.GetResult Weights)
    let n = weights.Length
    let dofs = args.TryGetResult Dof |> Option.map (Parse.ints "--dof") |> Option.defaultWith (fun () -> Array.create n 1)
    let lambdas =
        args.TryGetResult Noncentrality |> Option.map (Parse.floats "--noncentrality") |> Option.defaultWith (fun () -> Array.zeroCreate n)
    if dofs.Length <> n then usageError (sprintf "--dof: expected %d values (one per weight), got %d" n dofs.Length)
    if lambdas.Length <> n then usageError (sprintf "--noncentrality: expected %d values (one per weight), got %d" n lambdas.Length)
    let offset = args.TryGetResult Offset |> Option.map (Parse.float "--offset") |> Option.defaultValue 0.0
    let scale = args.TryGetResult Scale |> Option.map (Parse.float "--scale") |> Option.defaultValue 1.0
    validating [ "weights", "--weights"; "dofs", "--dof"; "noncentralities", "--noncentrality"; "offset", "--offset"; "scale", "--scale" ] (fun () ->
        GeneralizedChiSquare.create weights dofs lambdas offset scale)

/// Evaluates the requested points. Method and error bound come from `cdfWith`/`sfWith` (default settings) at
/// the cdf and sf points and at the computed quantiles, or at the mean when no point was requested.
let report (args: ParseResults<LawArgs>) : LawReport =
    let law = lawOf args
    let cdfPoints = args.TryGetResult Cdf |> Option.map (Parse.floats "--cdf") |> Option.defaultValue [||]
    let sfPoints = args.TryGetResult Sf |> Option.map (Parse.floats "--sf") |> Option.defaultValue [||]
    let probabilities = args.TryGetResult Quantile |> Option.map (Parse.floats "--quantile") |> Option.defaultValue [||]
    if probabilities |> Array.exists (fun p -> p < 0.0 || p > 1.0) then usageError "--quantile: probabilities must be in [0, 1]"
    let settings = ChiSquareSettings.Default
    compute "the generalized chi-square law" (string law) (fun () ->
        let cdfEvals = cdfPoints |> Array.map (GeneralizedChiSquare.cdfWith settings law)
        let sfEvals = sfPoints |> Array.map (GeneralizedChiSquare.sfWith settings law)
        let quantiles = probabilities |> Array.map (GeneralizedChiSquare.quantile law)
        let quantileEvals =
            quantiles |> Array.filter Double.IsFinite |> Array.map (GeneralizedChiSquare.cdfWith settings law)
        let all =
            match Array.concat [ cdfEvals; sfEvals; quantileEvals ] with
            | [||] -> [| GeneralizedChiSquare.cdfWith settings law law.Mean |]
            | evals -> evals
        let methods = all |> Array.map (fun e -> e.Method) |> Array.filter (fun m -> m <> Exact) |> Array.distinct
        { Law = law
          Cdf = Array.zip cdfPoints (cdfEvals |> Array.map (fun e -> e.Value))
          Sf = Array.zip sfPoints (sfEvals |> Array.map (fun e -> e.Value))
          Quantile = Array.zip probabilities quantiles
          Method = if methods.Length = 0 then "exact" else String.Join("+", methods |> Array.map string)
          ErrorBound = all |> Array.map (fun e -> e.ErrorBound) |> Array.max })

/// Checks that every evaluated number is finite: a NaN or an infinity from an evaluation is a computation
/// error (exit 1) naming the quantity, never a NaN with exit code 0. (The moments are not checked here:
/// the law reports moments beyond the double range itself; quantiles at p = 0 or 1 are the support's
/// edges and may be infinite.)
let checkFinite (r: LawReport) =
    let inputs = string r.Law
    let check what x = finiteResult what inputs x |> ignore
    for x, v in r.Cdf do check (sprintf "P(Q <= %s)" (format x)) v
    for x, v in r.Sf do check (sprintf "P(Q > %s)" (format x)) v
    for p, v in r.Quantile do if p > 0.0 && p < 1.0 then check (sprintf "the %s quantile" (format p)) v
    check "the error bound" r.ErrorBound

/// A moment is a double when it is finite and did not underflow to 0 (a zero with a finite logarithm, e.g.
/// the variance 2e-400 of `--weights 1e-200`).
let private representable (value: float) (logAbs: float) =
    Double.IsFinite value && not (value = 0.0 && Double.IsFinite logAbs)

/// A moment in scientific notation: `format value` when it is a representable double, else (it overflowed or
/// underflowed) the decimal form of `sign * exp(logAbs)`, e.g. `5.000000E400` or `2.000000E-400`, so no
/// moment prints as an infinity, a NaN or a false 0.
let formatMoment (value: float) (logAbs: float) : string =
    if representable value logAbs then format value
    else
        let log10 = logAbs / Math.Log 10.0
        let exponent = Math.Floor log10
        let sign = if value < 0.0 then "-" else ""
        String.Format(Globalization.CultureInfo.InvariantCulture, "{0}{1:F6}E{2}", sign, Math.Pow(10.0, log10 - exponent), exponent)

/// The mean, variance and standard deviation as printed: numbers, or strings in scientific notation
/// beyond the double range (see `formatMoment`).
let private moments (r: LawReport) =
    let law = r.Law
    [| "mean", law.Mean, law.LogAbsMean
       "variance", law.Variance, law.LogVariance
       "standardDeviation", law.StandardDeviation, 0.5 * law.LogVariance |]

/// The report as one JSON object (see `LawArgs.Json`).
let toJson (r: LawReport) : string =
    Json.render (fun w ->
        w.WriteStartObject()
        for name, value, logAbs in moments r |> Array.take 2 do
            if representable value logAbs then Json.property w name value
            else w.WriteString(name, formatMoment value logAbs)
        let pairs (name: string) (key: string) (xs: (float * float)[]) =
            w.WriteStartArray name
            for x, v in xs do
                w.WriteStartObject()
                Json.property w key x
                Json.property w "value" v
                w.WriteEndObject()
            w.WriteEndArray()
        pairs "cdf" "x" r.Cdf
        pairs "sf" "x" r.Sf
        pairs "quantile" "p" r.Quantile
        w.WriteString("method", r.Method)
        Json.property w "errorBound" r.ErrorBound
        w.WriteEndObject())

/// The report as a Spectre.Console table.
let render (console: IAnsiConsole) (r: LawReport) =
    console.Write(Text(sprintf "Q = %O\n" r.Law))
    let table = Table()
    table.AddColumn("quantity") |> ignore
    table.AddColumn(TableColumn("value").RightAligned()) |> ignore
    let row (name: string) (value: string) = table.AddRow([| Text(name) :> Rendering.IRenderable; Text(value) |]) |> ignore
    let m = moments r
    for (_, value, logAbs), name in Array.zip m [| "mean"; "variance"; "standard deviation" |] do
        row name (formatMoment value logAbs)
    row "skewness" (format r.Law.Skewness)
    for x, v in r.Cdf do row (sprintf "P(Q <= %s)" (format x)) (format v)
    for x, v in r.Sf do row (sprintf "P(Q > %s)" (format x)) (format v)
    for p, v in r.Quantile do row (sprintf "quantile(%s)" (format p)) (format v)
    row "method" r.Method
    row "max error bound" (format r.ErrorBound)
    console.Write table

/// Runs `fa law`; returns the exit code.
let run (output: Output) (args: ParseResults<LawArgs>) : int =
    let r = report args
    checkFinite r
    if args.Contains Json then output.Out.WriteLine(toJson r)
    else render output.Console r
    0
