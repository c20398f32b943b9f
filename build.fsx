// build.fsx — the project's build script. Dependency-free: it only calls `dotnet` through Process.
// Usage: dotnet fsi build.fsx <target>     targets: restore build test examples bench ci
open System
open System.Diagnostics
open System.IO

let root = __SOURCE_DIRECTORY__
let sln = Path.Combine(root, "FunctionalAsymptotics.sln")

/// Runs `dotnet args` in the repository root, streaming its output; fails the build on a non-zero exit.
let dotnet (args: string) =
    printfn "\n> dotnet %s" args
    let psi = ProcessStartInfo("dotnet", args, WorkingDirectory = root, UseShellExecute = false)
    psi.Environment.["DOTNET_CLI_TELEMETRY_OPTOUT"] <- "1"
    psi.Environment.["DOTNET_NOLOGO"] <- "1"
    use p = Process.Start psi
    p.WaitForExit()
    if p.ExitCode <> 0 then failwithf "dotnet %s exited with %d" args p.ExitCode

let fsiScripts () =
    Directory.GetFiles(Path.Combine(root, "examples"), "*.fsx") |> Array.sort

/// target -> (dependencies, action)
let targets : Map<string, string list * (unit -> unit)> =
    Map.ofList [
        "restore", ([], fun () -> dotnet $"restore \"{sln}\" --locked-mode")
        "build", ([ "restore" ], fun () -> dotnet $"build \"{sln}\" -c Release --no-restore")
        "test", ([ "build" ], fun () ->
            dotnet "run -c Release --no-build --project tests/FunctionalAsymptotics.Tests -- --summary")
        "examples", ([ "build" ], fun () ->
            dotnet "run -c Release --no-build --project examples/CSharpExample"
            for script in fsiScripts () do dotnet $"fsi --quiet \"{script}\"")
        "bench", ([ "build" ], fun () ->
            dotnet "run -c Release --no-build --project bench/FunctionalAsymptotics.Bench -- --filter *")
        "ci", ([ "build"; "examples"; "test" ], ignore)
    ]

let clock = Stopwatch.StartNew()

// No output after a target's action: `ci` ends with `test`, so the test runner's
// `N passed, N failed` stays the last line CI prints.
let rec run (visited: Collections.Generic.HashSet<string>) name =
    match Map.tryFind name targets with
    | None -> failwithf "unknown target '%s'; known: %s" name (String.Join(", ", targets.Keys))
    | Some (deps, action) ->
        if visited.Add name then
            if List.isEmpty deps |> not then printfn "\n=== %s: needs %s ===" name (String.Join(", ", deps))
            for d in deps do run visited d
            if name <> "ci" then // `ci` only aggregates: nothing may follow the test runner's summary
                printfn "\n=== %s (at %.1fs) ===" name clock.Elapsed.TotalSeconds
                action ()

let target = match fsi.CommandLineArgs |> Array.tryItem 1 with Some t -> t | None -> "build"
try
    run (Collections.Generic.HashSet()) target
with e ->
    eprintfn "build failed: %s" e.Message
    exit 1
