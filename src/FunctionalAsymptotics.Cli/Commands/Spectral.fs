/// `fa spectral`: the limit law of the linear spectral contrastive model (Section 6.1, Cor. 6.3).
module FunctionalAsymptotics.Cli.Commands.Spectral

open System.IO
open System.Threading
open Argu
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Cli.Common
open FunctionalAsymptotics.Cli.Commands.ModelReport

/// Options of `fa spectral`.
type SpectralArgs =
    | [<Mandatory; Unique>] D of int
    | [<Mandatory; Unique>] K of int
    | [<Mandatory; Unique>] Alpha of alpha: string
    | [<Mandatory; Unique>] Sigma2 of sigma2: string
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
            | D _ -> "ambient dimension d (C = diag(1, 1/2, ..., 1/d), Sigma_pre = I, mu_down = N(0, I))."
            | K _ -> "representation dimension k, 1 <= k < d (beta* = 1)."
            | Alpha _ -> "alpha = m / n > 0."
            | Sigma2 _ -> "downstream noise variance sigma^2 >= 0."
            | Route _ -> "horizontal (default), descriptor, monte-carlo (score covariance by seeded sampling, with its standard error), closed (corrected Cor. 6.3) or paper (printed Cor. 6.3)."
            | Compare -> OptionHelp.compare
            | Samples _ -> OptionHelp.samples
            | Rel_Error _ -> OptionHelp.relError
            | Max_Samples _ -> OptionHelp.maxSamples
            | Mc_Seed _ -> OptionHelp.mcSeed
            | Quiet -> OptionHelp.quiet
            | Json -> OptionHelp.json

/// Runs `fa spectral` on parsed options.
let runParsed (out: TextWriter) (err: TextWriter) (args: ParseResults<SpectralArgs>) : int =
    let d, k = args.GetResult D, args.GetResult K
    if d < 2 || k < 1 || k >= d then usage (sprintf "--d/--k: need 1 <= k < d, got d = %d, k = %d" d k)
    Require.intBetween "--d" 2 maxDimension d |> ignore
    let alpha = args.GetResult Alpha |> Parse.float "--alpha" |> Require.positiveInvertible "--alpha"
    let sigma2 = args.GetResult Sigma2 |> Parse.float "--sigma2" |> Require.nonNegative "--sigma2"
    let route = args.GetResult(Route, "horizontal")
    let cfg = Spectral.defaultConfig d k sigma2
    let inputs = sprintf "--d %d --k %d --alpha %s --sigma2 %s" d k (format alpha) (format sigma2)
    let model = SpectralModel.create cfg
    let options = { Json = args.Contains Json; Quiet = args.Contains Quiet; Compare = args.Contains Compare }
    let mcOptions = monteCarloOptions route (args.TryGetResult Samples) (args.TryGetResult Rel_Error) (args.TryGetResult Max_Samples) (args.TryGetResult Mc_Seed)
    present out err options "spectral" inputs alpha route model (fun progress r ->
        if r = monteCarloRoute then RouteLaw.ofMonteCarlo (Model.monteCarloLaw mcOptions progress model)
        else RouteLaw.exact (Model.lawWith CancellationToken.None progress r model).Summary)

/// Runs `fa spectral ARGS` (exit 0 success, 2 bad input, 1 computation failure; `Common.handle`).
let run (out: TextWriter) (err: TextWriter) (argv: string[]) : int =
    handle { Out = out; Error = err } (fun () ->
        let parser = ArgumentParser.Create<SpectralArgs>(programName = "fa spectral")
        runParsed out err (parser.ParseCommandLine(argv, raiseOnUsage = true)))
