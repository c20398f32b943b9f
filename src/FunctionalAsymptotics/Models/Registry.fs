namespace FunctionalAsymptotics.Models

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Simulation

/// The registry of shipped models, used by the command line (`fa simulate`, `fa reproduce`) and by scripts:
/// each entry builds a `ModelInstance` (its routes to the limit law and its simulation adapter) from numeric
/// parameters.
[<RequireQualifiedAccess>]
module ModelRegistry =

    /// Every shipped model: `toy`, `spectral`, `factor`, `gmm`.
    let all : ModelEntry list = [ ToyModel.entry; SpectralModel.entry; FactorModel.entry; GaussianMixtureModel.entry ]

    /// The entry called `name`; `InvalidArgumentException` listing the known names otherwise.
    let find (name: string) : ModelEntry =
        match all |> List.tryFind (fun e -> e.Name = name) with
        | Some e -> e
        | None -> Check.fail "model" (sprintf "unknown model '%s' (known: %s)" name (String.Join(", ", all |> List.map (fun e -> e.Name))))

    /// The simulation factories of every model with a simulation adapter (the engine's `ModelFactory`).
    let simulations : ModelFactory list = all |> List.map ModelEntry.simulation

    /// The simulation factory of the model called `name`.
    let simulation (name: string) : ModelFactory = ModelEntry.simulation (find name)
