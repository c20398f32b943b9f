/// `fa factor`: the limit law of the factor model (Section 6.2, Cor. 6.4).
module FunctionalAsymptotics.Cli.Commands.Factor

open System
open System.IO
open System.Threading
open Argu
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Cli.Common
open FunctionalAsymptotics.Cli.Commands.ModelReport

/// Options of `fa factor`.
type FactorArgs =
    | [<Unique>] Loadings of path: string
    | [<Unique>] D of int
    | [<Unique>] K of int
    | [<Unique>] Seed of int
    | [<Unique>] Beta_Star of string
    | [<Mandatory; Unique>] Sigma_Nu2 of sigmaNu2: string
    | [<Mandatory; Unique>] Alpha of alpha: string
    | [<Unique>] Route of string
    | [<Unique>] Compare
    | [<Unique>] Samples of samples: int
    | [<Unique>] Rel_Error of target: string
    | [<Unique>] Max_Samples of samples: int
    | [<Unique>] Mc_Seed of seed: int
    | [<Unique>] Quiet
    | [<Unique>] Json
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Loadings _ -> "CSV file with d rows and k columns: the loadings A*."
            | D _ -> "with --k and --seed instead of --loadings: draw A* with i.i.d. N(0,1) entries (System.Random(seed), column-major)."
            | K _ -> "number of factors k (with --d and --seed)."
            | Seed _ -> "seed of the loadings generator (with --d and --k)."
            | Beta_Star _ -> "beta* as b1,b2,..,bk (default: all ones)."
            | Sigma_Nu2 _ -> "variance of nu; sigma^2 = sigma_nu^2 + beta*^T (I + A*^T A*)^-1 beta* is derived."
            | Alpha _ -> "alpha = m / n > 0."
            | Route _ -> "horizontal (default), descriptor, monte-carlo (score covariance by seeded sampling, with its standard error), closed (corrected Cor. 6.4) or paper (printed Cor. 6.4)."
            | Compare -> OptionHelp.compare
            | Samples _ -> OptionHelp.samples
            | Rel_Error _ -> OptionHelp.relError
            | Max_Samples _ -> OptionHelp.maxSamples
            | Mc_Seed _ -> OptionHelp.mcSeed
            | Quiet -> OptionHelp.quiet
            | Json -> OptionHelp.json

/// Reads a CSV of numbers (d rows, k columns, invariant culture, no header).
let readLoadings (path: string) =
    if not (File.Exists path) then usage (sprintf "--loadings: file '%s' not found" path)
    let rows =
        File.ReadAllLines path
        |> Array.filter (fun l -> not (String.IsNullOrWhiteSpace l))
        |> Array.map (Parse.floats (sprintf "--loadings (%s)" path))
    if rows.Length = 0 then usage "--loadings: the file is empty"
    let k = rows.[0].Length
    if rows |> Array.exists (fun r -> r.Length <> k) then usage "--loadings: every row must have the same number of columns"
    DenseMatrix.OfRowArrays rows :> MathNet.Numerics.LinearAlgebra.Matrix<float>

/// Runs `fa factor` on parsed options.
let runParsed (out: TextWriter) (err: TextWriter) (args: ParseResults<FactorArgs>) : int =
    let loadings =
        match args.TryGetResult Loadings, args.TryGetResult D, args.TryGetResult K, args.TryGetResult Seed with
        | Some path, None, None, None -> readLoadings path
        | None, Some d, Some k, Some seed ->
            if k < 1 || k >= d then usage (sprintf "--d/--k: need 1 <= k < d, got d = %d, k = %d" d k)
            Require.intBetween "--d" 2 maxDimension d |> ignore
            Factor.drawLoadings seed d k
        | _ -> usage "give either --loadings FILE.csv or all of --d, --k, --seed"
    let k = loadings.ColumnCount
    let beta =
        match args.TryGetResult Beta_Star with
        | Some text -> Parse.floats "--beta-star" text
        | None -> Array.create k 1.0
    if beta.Length <> k then usage (sprintf "--beta-star: expected %d values (one per column of the loadings), got %d" k beta.Length)
    let alpha = args.GetResult Alpha |> Parse.float "--alpha" |> Require.positiveInvertible "--alpha"
    let sigmaNu2 = args.GetResult Sigma_Nu2 |> Parse.float "--sigma-nu2" |> Require.nonNegative "--sigma-nu2"
    let cfg = { Loadings = loadings; Beta = beta; SigmaNu2 = sigmaNu2 }
    Factor.validate cfg
    let inputs =
        sprintf "%s --beta-star %s --sigma-nu2 %s --alpha %s"
            (match args.TryGetResult Loadings with Some p -> sprintf "--loadings %s" p | None -> sprintf "--d %d --k %d --seed %d" (args.GetResult D) (args.GetResult K) (args.GetResult Seed))
            (String.Join(",", beta |> Array.map format)) (format sigmaNu2) (format alpha)
    let route = args.GetResult(Route, "horizontal")
    let model = FactorModel.create cfg
    let options = { Json = args.Contains Json; Quiet = args.Contains Quiet; Compare = args.Contains Compare }
    let mcOptions = monteCarloOptions route (args.TryGetResult Samples) (args.TryGetResult Rel_Error) (args.TryGetResult Max_Samples) (args.TryGetResult Mc_Seed)
    // Each route at unit scale (`Factor.unitScale`: beta* divided by a power of two, the weights and the
    // standard error scaled back by `Factor.scaleBack`).
    let scaled, c2 = Factor.unitScale cfg
    let unitModel = FactorModel.create scaled
    present out err options "factor" inputs alpha route model (fun progress r ->
        if r = monteCarloRoute then
            let law = RouteLaw.ofMonteCarlo (Model.monteCarloLaw mcOptions progress unitModel)
            { Summary = Factor.scaleBack cfg c2 law.Summary
              MonteCarlo = law.MonteCarlo |> Option.map (fun mc -> { mc with StandardError = mc.StandardError * c2 }) }
        else RouteLaw.exact (Factor.scaleBack cfg c2 (Model.lawWith CancellationToken.None progress r unitModel).Summary))

/// Runs `fa factor ARGS` (exit 0 success, 2 bad input, 1 computation failure; `Common.handle`).
let run (out: TextWriter) (err: TextWriter) (argv: string[]) : int =
    handle { Out = out; Error = err } (fun () ->
        let parser = ArgumentParser.Create<FactorArgs>(programName = "fa factor")
        runParsed out err (parser.ParseCommandLine(argv, raiseOnUsage = true)))
