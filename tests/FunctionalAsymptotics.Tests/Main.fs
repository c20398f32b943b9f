module FunctionalAsymptotics.Tests.Main

open System
open System.Text
open Expecto

/// Every test list of the project, one per source concept (mirrors src/).
let allTests =
    testList "FunctionalAsymptotics" [
        Linalg.LinalgTests.tests
        Kernels.CumulantKernelsTests.tests
        Kernels.MixtureKernelsTests.tests
        Kernels.MixtureKernelsTests.blockTests
        Kernels.EmKernelsTests.tests
        Distributions.GeneralizedChiSquareTests.tests
        Asymptotics.LimitLawTests.tests
        Geometry.ManifoldConformanceTests.tests
        Geometry.ManifoldTests.tests
        Geometry.ChecksTests.tests
        Groups.AssignmentTests.tests
        Groups.GroupActionTests.tests
        Groups.DescriptorTests.tests
        Groups.LawsTests.tests
        Models.SpectralLossTests.tests
        Models.FactorLossTests.tests
        Models.GaussianMixtureLossTests.tests
        Models.GaussianMixtureTests.tests
        Models.GaussianMixtureTests.reproducibility
        Models.GaussianMixtureTests.emTests
        Models.GaussianMixtureQuadratureTests.tests
        CSharp.GeometryFacadeTests.tests
        Kernels.SamplingKernelsTests.tests
        Distributions.ChiSquareSamplerTests.tests
        Distributions.WishartTests.tests
        CSharp.FacadeTests.tests
        CSharp.LongRunFacadeTests.tests
        Cli.LawCommandTests.tests
        CSharp.ModelSpecFacadeTests.tests
        Estimation.EstimationTests.tests
        Estimation.DerivativesTests.tests
        Estimation.ValidationTests.tests
        Asymptotics.SpecLawTests.tests
        CSharp.SpecLawFacadeTests.tests
        Cli.ModelCommandTests.tests
        Asymptotics.TwoStageTests.tests
        Asymptotics.TwoStageTests.pushForwardTests
        Asymptotics.LowRankRouteTests.tests
        Asymptotics.LowRankMonteCarloTests.tests
        Asymptotics.SimulationTests.tests
        Simulation.SimulationTests.tests
        Simulation.StoreTests.tests
        Cli.SimulateCommandTests.tests
        Simulation.ModelPipelineTests.tests
        Cli.ReproduceCommandTests.tests
        Simulation.VerdictTests.tests
        Asymptotics.CrossoverTests.tests
        Models.ModelRegistryTests.tests
        Docs.DocsTests.tests
        Cli.CommonTests.tests
        Cli.CommandContractTests.tests
        Cli.FuzzTests.tests
        Examples.SlurmExampleTests.tests
        Prediction.DataFileTests.tests
        Prediction.PlugInTests.tests
        Prediction.MixturePlugInTests.tests
        Prediction.PredictiveLawTests.tests
        Cli.PredictCommandTests.tests
        CSharp.PredictionFacadeTests.tests
    ]

/// A writer that drops ANSI escape sequences (`ESC [ ... final-byte`), for output that is not a terminal:
/// Expecto still writes colour resets and cursor codes at colour level 0.
type private PlainWriter(inner: IO.TextWriter) =
    inherit IO.TextWriter()
    let mutable state = 0 // 0 text, 1 after ESC, 2 inside a CSI sequence
    override _.Encoding = inner.Encoding
    override _.Write(c: char) : unit =
        match state with
        | 0 when c = '\u001b' -> state <- 1
        | 0 -> inner.Write c
        | 1 when c = '[' -> state <- 2
        | 1 -> state <- 0
        | _ -> if c >= '@' && c <= '~' then state <- 0
    override _.Flush() : unit = inner.Flush()

[<EntryPoint>]
let main argv =
    let mutable summary : Impl.TestRunSummary option = None
    // No colour or cursor escapes when the output is not a terminal (CI logs, pipes): colour level 0, no spinner.
    let config =
        [ yield CLIArguments.Append_Summary_Handler(SummaryHandler(fun s -> summary <- Some s))
          if Console.IsOutputRedirected then
              yield CLIArguments.Colours 0
              yield CLIArguments.No_Spinner ]
    if Console.IsOutputRedirected then Console.SetOut(new PlainWriter(Console.Out))
    let code = runTestsWithCLIArgs config argv allTests
    let passed, failed =
        match summary with
        | Some s -> s.passed.Length, s.failed.Length + s.errored.Length
        | None -> 0, 1
    // Expecto wraps Console.Out; CI reads the raw stream, so the count goes there, last.
    Console.Out.Flush()
    use raw = Console.OpenStandardOutput()
    let line = Encoding.UTF8.GetBytes(sprintf "%d passed, %d failed\n" passed failed)
    raw.Write(line, 0, line.Length)
    raw.Flush()
    code
