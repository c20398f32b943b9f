module FunctionalAsymptotics.Tests.Main

open System
open System.Text
open Expecto

/// Every test list of the project, one per source concept (mirrors src/).
let allTests =
    testList "FunctionalAsymptotics" [
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
        CSharp.FacadeTests.tests
        Cli.LawCommandTests.tests
        CSharp.ModelSpecFacadeTests.tests
        Estimation.EstimationTests.tests
        Cli.ModelCommandTests.tests
        Asymptotics.TwoStageTests.tests
        Asymptotics.TwoStageTests.pushForwardTests
        Asymptotics.SimulationTests.tests
        Simulation.SimulationTests.tests
        Cli.SimulateCommandTests.tests
        Simulation.ModelPipelineTests.tests
        Cli.ReproduceCommandTests.tests
    ]

[<EntryPoint>]
let main argv =
    let mutable summary : Impl.TestRunSummary option = None
    let config =
        [ CLIArguments.Append_Summary_Handler(SummaryHandler(fun s -> summary <- Some s)) ]
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
