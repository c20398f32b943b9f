/// `fa simulate MODEL ...`: Monte Carlo validation of the limit law (docs/theory.md section 6, Appendix K),
/// checkpointed, shardable and resumable.
module FunctionalAsymptotics.Cli.Commands.Simulate

open System
open System.IO
open System.Threading
open Argu
open Spectre.Console
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Cli.Common
open FunctionalAsymptotics.Cli.Plots

/// The models `fa simulate` can run, by name. Model adapters add their `ModelFactory` here.
let registry : ModelFactory list = ModelRegistry.simulations

let private usage (message: string) : 'T = usageError message

/// The registry entry called `name`.
let findModel (name: string) : ModelFactory =
    match registry |> List.tryFind (fun f -> f.Name = name) with
    | Some f -> f
    | None -> usage (sprintf "unknown model '%s' (known: %s)" name (registry |> List.map (fun f -> f.Name) |> String.concat ", "))

/// Options of `fa simulate`.
type SimulateArgs =
    /// The model name (first positional argument).
    | [<MainCommand; ExactlyOnce; First>] Model of name: string
    /// `--param name=value[,name=value...]`: model parameters (repeatable).
    | Param of assignments: string
    /// `--d D`: model parameter `d` (as in `fa spectral`/`fa factor`/`fa gmm`).
    | [<Unique; CustomCommandLine("--d")>] Dim of d: int
    /// `--k K`: model parameter `k` (spectral, factor).
    | [<Unique; CustomCommandLine("--k")>] Rank of k: int
    /// `--components K`: model parameter `K`, the number of mixture components (gmm).
    | [<Unique>] Components of components: int
    /// `--sigma2 S`: model parameter `sigma2` (spectral, gmm).
    | [<Unique>] Sigma2 of sigma2: string
    /// `--sigma-nu2 S`: model parameter `sigma-nu2` (factor).
    | [<Unique>] Sigma_Nu2 of sigmaNu2: string
    /// `--beta B`: model parameter `beta` (gmm centre scale; factor: every entry of beta*).
    | [<Unique>] Beta of beta: string
    /// `--theta-norm N`: model parameter `theta-norm` (gmm).
    | [<Unique>] Theta_Norm of thetaNorm: string
    /// `--population-draws N`: model parameter `population-draws` (gmm).
    | [<Unique>] Population_Draws of draws: int
    /// `--n-grid 100,1000,...`: downstream sample sizes.
    | [<Mandatory; Unique>] N_Grid of sizes: string
    /// `--alpha A`: `m / n`.
    | [<Mandatory; Unique>] Alpha of alpha: string
    /// `--reps R`: replicates per `n`.
    | [<Mandatory; Unique>] Reps of reps: int
    /// `--seed S`.
    | [<Unique>] Seed of seed: string
    /// `--out DIR`: the run directory.
    | [<Mandatory; Unique>] Out of dir: string
    /// `--shard i/N`.
    | [<Unique>] Shard of shard: string
    /// `--threads T`.
    | [<Unique>] Threads of threads: int
    /// `--resume`.
    | Resume
    /// `--quiet`.
    | Quiet
    /// `--json`.
    | Json
    /// `--no-plots`.
    | No_Plots
    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Model _ -> sprintf "the model: %s." (registry |> List.map (fun f -> sprintf "%s (%s; parameters %s)" f.Name f.Summary (f.Parameters |> List.map (fun p -> sprintf "%s=%g: %s" p.Name p.Default p.Description) |> String.concat "; ")) |> String.concat " | ")
            | Param _ -> "model parameters name=value, comma-separated or repeated (defaults otherwise)."
            | Dim _ -> "model parameter d (same as --param d=D)."
            | Rank _ -> "model parameter k of spectral/factor (same as --param k=K)."
            | Components _ -> "model parameter K of gmm, the number of mixture components (same as --param K=K)."
            | Sigma2 _ -> "model parameter sigma2 of spectral/gmm."
            | Sigma_Nu2 _ -> "model parameter sigma-nu2 of factor."
            | Beta _ -> "model parameter beta (gmm: centre scale; factor: every entry of beta*)."
            | Theta_Norm _ -> "model parameter theta-norm of gmm (1: paper text, 10: authors' code)."
            | Population_Draws _ -> "model parameter population-draws of gmm (per replicate)."
            | N_Grid _ -> "downstream sample sizes n, comma-separated (e.g. 100,1000,10000)."
            | Alpha _ -> "alpha = m / n > 0; m = floor(alpha n)."
            | Reps _ -> "replicates per n."
            | Seed _ -> "the run seed, an unsigned 64-bit integer (default 1)."
            | Out _ -> "directory of the run: manifest.json, replicates.jsonl, summary.json and the figures."
            | Shard _ -> "run only shard i of N (1 <= i <= N), e.g. 2/4; combine the shards with 'fa merge'."
            | Threads _ -> "worker threads (default: all processors); never changes the numbers."
            | Resume -> "continue an interrupted run in --out (same options), keeping its finished replicates."
            | Quiet -> "no progress bars and no table (for scripts)."
            | Json -> "print the summary as one JSON object on stdout."
            | No_Plots -> "do not write figure3.png and figure4.png."

/// Parses `i/N`.
let parseShard (text: string) : int * int =
    match text.Split('/') with
    | [| a; b |] ->
        match Parse.int "--shard" a, Parse.int "--shard" b with
        | i, n when n >= 1 && i >= 1 && i <= n -> i, n
        | _ -> usage (sprintf "--shard: expected i/N with 1 <= i <= N, got '%s'" text)
    | _ -> usage (sprintf "--shard: expected i/N, got '%s'" text)

/// Parses `name=value` assignments separated by commas (repeatable option).
let parseParams (texts: string list) : (string * float) list = texts |> List.collect (Parse.assignments "--param")

/// The largest number of replicates per `n` and of downstream samples `n` (larger runs cannot fit in
/// memory or time; `m = floor(alpha n)` must also stay a 32-bit count).
let maxReps, maxN = 10_000_000, 100_000_000

/// Parses the grid `100,1000,...`.
let parseGrid (text: string) : int[] =
    Parse.ints "--n-grid" text |> Array.map (Require.intBetween "--n-grid" 1 maxN)

/// Summarises a complete run directory: writes `summary.json` (and the figures unless `noPlots`), prints
/// the JSON (`json`) or a table (unless `quiet`) on `out`. Returns 0.
let report (out: IO.TextWriter) (json: bool) (quiet: bool) (noPlots: bool) (model: PipelineModel) (spec: RunSpec) (dir: string) : int =
    let records = Store.readRecords dir
    let table = Store.collect spec records
    let summaries = Engine.summarize model spec records
    let text = Report.toJson spec summaries
    Store.writeAtomic (Path.Combine(dir, "summary.json")) (text + "\n")
    if not noPlots then
        SimulationPlots.figure3 (Path.Combine(dir, "figure3.png")) model spec table
        SimulationPlots.figure4 (Path.Combine(dir, "figure4.png")) summaries
    if json then out.WriteLine text
    elif not quiet then
        let console = AnsiConsole.Create(AnsiConsoleSettings(Out = AnsiConsoleOutput(out)))
        console.WriteLine(sprintf "%s, alpha = %g, seed = %d; limit: %O" spec.Model spec.Alpha spec.Seed model.Law)
        console.WriteLine(
            if model.PopulationMomentError = 0.0 then "population moments: exact"
            else sprintf "population moments: Monte Carlo, largest standard error %.3g" model.PopulationMomentError)
        let t = Table()
        for h in [ "n"; "m"; "reps"; "KS total"; "KS pre"; "p_var"; "mean total (se)"; "mean pre (se)" ] do
            t.AddColumn(TableColumn(h).RightAligned()) |> ignore
        for s in summaries do
            t.AddRow(
                string s.N, string s.M, string s.Reps, sprintf "%.4f" s.KsTotal, sprintf "%.4f" s.KsPretrain,
                sprintf "%.4f" s.PVar, sprintf "%.4g (%.2g)" s.MeanTotal s.MeanTotalStdErr,
                sprintf "%.4g (%.2g)" s.MeanPretrain s.MeanPretrainStdErr) |> ignore
        console.Write t
        console.WriteLine(sprintf "limit mean %.4g; written to %s" model.Law.Mean dir)
    0

/// Runs the engine with Spectre progress bars on `progressOut` (one bar per n, with an ETA), or silently.
let execute (progressOut: IO.TextWriter option) (model: PipelineModel) (spec: RunSpec) (dir: string) (options: RunOptions) (cancel: CancellationToken) =
    match progressOut with
    | None -> Engine.run model spec dir options cancel
    | Some writer ->
        let console = AnsiConsole.Create(AnsiConsoleSettings(Out = AnsiConsoleOutput(writer)))
        console.Progress()
            .AutoClear(false)
            .Columns([| TaskDescriptionColumn() :> ProgressColumn; ProgressBarColumn(); PercentageColumn(); RemainingTimeColumn(); SpinnerColumn() |])
            .Start(fun ctx ->
                let tasks = spec.Grid |> Array.map (fun n -> ctx.AddTask(sprintf "n = %d" n))
                let progress =
                    { new IProgress<RunProgress> with
                        member _.Report p =
                            for g in 0 .. tasks.Length - 1 do
                                tasks.[g].MaxValue <- float (max p.Owned.[g] 1)
                                tasks.[g].Value <- float p.Stored.[g] }
                Engine.run model spec dir { options with Progress = progress } cancel)

/// `fa simulate` with parsed arguments; `out`/`err` receive the results and messages.
let runParsed (out: IO.TextWriter) (err: IO.TextWriter) (args: ParseResults<SimulateArgs>) (cancel: CancellationToken) : int =
    let factory = findModel (args.GetResult Model)
    let alpha = args.GetResult Alpha |> Parse.float "--alpha" |> Require.positiveInvertible "--alpha"
    let modelOptions =
        [ yield! args.TryGetResult Dim |> Option.map (fun v -> "d", float v) |> Option.toList
          yield! args.TryGetResult Rank |> Option.map (fun v -> "k", float v) |> Option.toList
          yield! args.TryGetResult Components |> Option.map (fun v -> "K", float v) |> Option.toList
          yield! args.TryGetResult Sigma2 |> Option.map (fun v -> "sigma2", Parse.float "--sigma2" v) |> Option.toList
          yield! args.TryGetResult Sigma_Nu2 |> Option.map (fun v -> "sigma-nu2", Parse.float "--sigma-nu2" v) |> Option.toList
          yield! args.TryGetResult Beta |> Option.map (fun v -> "beta", Parse.float "--beta" v) |> Option.toList
          yield! args.TryGetResult Theta_Norm |> Option.map (fun v -> "theta-norm", Parse.float "--theta-norm" v) |> Option.toList
          yield! args.TryGetResult Population_Draws |> Option.map (fun v -> "population-draws", float v) |> Option.toList ]
    let parameters = ModelFactory.resolve factory (parseParams (args.GetResults Param) @ modelOptions)
    let seed =
        match args.TryGetResult Seed with
        | None -> 1UL
        | Some s -> Parse.uint64 "--seed" s
    let shard, shards = args.TryGetResult Shard |> Option.map parseShard |> Option.defaultValue (1, 1)
    let spec =
        { Model = factory.Name; Parameters = parameters; Alpha = alpha; Seed = seed
          Grid = parseGrid (args.GetResult N_Grid); Reps = args.GetResult Reps |> Require.intBetween "--reps" 1 maxReps; Shard = shard; Shards = shards }
    match parameters.TryFind "d" with
    | Some d when d > float ModelReport.maxDimension -> usage (sprintf "--d: must be at most %d, got %g" ModelReport.maxDimension d)
    | _ -> ()
    validating [ "alpha", "--alpha"; "grid", "--n-grid"; "reps", "--reps"; "shard", "--shard"; "shards", "--shard" ] (fun () ->
        RunSpec.validate spec)
    // The model's own checks name its parameters (exit 2); anything else raised while its limit law is
    // computed is a computation error (exit 1). The law must be finite before any replicate runs.
    let inputs =
        sprintf "%s with %s, alpha %s" factory.Name (parameters |> Map.toList |> List.map (fun (k, v) -> sprintf "%s=%s" k (format v)) |> String.concat ",") (format alpha)
    let parameterOptions = factory.Parameters |> List.map (fun p -> p.Name, sprintf "--param %s" p.Name)
    let model = validatingThenComputing (("alpha", "--alpha") :: parameterOptions) "the limit law of the simulated model" inputs (fun () -> factory.Create alpha parameters)
    finiteResult "the mean of the limit law" inputs model.Law.Mean |> ignore
    finiteResult "the variance of the limit law" inputs model.Law.Variance |> ignore
    let dir = args.GetResult Out
    let quiet = args.Contains Quiet
    let json = args.Contains Json
    let options =
        { RunOptions.defaults with
            Resume = args.Contains Resume
            Threads = args.TryGetResult Threads |> Option.map (Require.intBetween "--threads" 1 1024) |> Option.defaultValue Environment.ProcessorCount }
    let progressOut = if quiet then None elif json then Some err else Some out
    let started = Diagnostics.Stopwatch.StartNew()
    match execute progressOut model spec dir options cancel with
    | Cancelled ->
        let stored = (Store.readRecords dir).Length
        err.WriteLine(sprintf "fa: interrupted; %d replicates of this shard are stored in %s; continue with --resume" stored dir)
        130
    | Completed ->
        if not quiet then
            err.WriteLine(sprintf "fa: shard %d/%d done in %.1f s" shard shards started.Elapsed.TotalSeconds)
        if shards = 1 then report out json quiet (args.Contains No_Plots) model spec dir
        else
            if not quiet then err.WriteLine(sprintf "fa: combine the %d shard directories with 'fa merge DIR... --out DIR'" shards)
            0

/// `fa simulate ARGS` writing to the given streams; returns the exit code.
let runWith (out: IO.TextWriter) (err: IO.TextWriter) (argv: string[]) : int =
    handle { Out = out; Error = err } (fun () ->
        let parser = ArgumentParser.Create<SimulateArgs>(programName = "fa simulate")
        let args = parser.ParseCommandLine(argv, raiseOnUsage = true)
        Interrupt.cooperate (runParsed out err args))

/// `fa simulate ARGS` on the console.
let run (argv: string[]) : int = runWith Console.Out Console.Error argv
