// build.fsx — the project's build script. Dependency-free: it only calls `dotnet` through Process.
// Usage: dotnet fsi build.fsx <target>     targets: restore build test examples pack tool bench ci
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

/// Runs `file args` in `dir`; fails the build on a non-zero exit.
let exec (file: string) (args: string) (dir: string) =
    printfn "\n> %s %s" file args
    use p = Process.Start(ProcessStartInfo(file, args, WorkingDirectory = dir, UseShellExecute = false))
    p.WaitForExit()
    if p.ExitCode <> 0 then failwithf "%s %s exited with %d" file args p.ExitCode

/// The commit being built (`git rev-parse HEAD`), if this is a git checkout with git installed.
let gitCommit () =
    try
        let psi = ProcessStartInfo("git", "rev-parse HEAD", WorkingDirectory = root, UseShellExecute = false,
                                   RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Process.Start psi
        let sha = p.StandardOutput.ReadToEnd().Trim()
        p.WaitForExit()
        if p.ExitCode = 0 && sha.Length = 40 then Some sha else None
    with _ -> None

/// The package version (`<Version>` in Directory.Build.props).
let version () =
    let props = File.ReadAllText(Path.Combine(root, "Directory.Build.props"))
    let m = Text.RegularExpressions.Regex.Match(props, "<Version>([^<]+)</Version>")
    if m.Success then m.Groups.[1].Value else failwith "Directory.Build.props has no <Version>"

let artifacts = Path.Combine(root, "artifacts", "packages")

/// The packed projects: the kernels, the core, the C# facade (NuGet libraries) and the `fa` tool.
let packedProjects =
    [ "src/FunctionalAsymptotics.Kernels"; "src/FunctionalAsymptotics"; "src/FunctionalAsymptotics.CSharp"; "src/FunctionalAsymptotics.Cli" ]

/// The tool package's id (`PackageId` of src/FunctionalAsymptotics.Cli).
let toolPackage = "FunctionalAsymptotics.Cli"

let pack () =
    if Directory.Exists artifacts then Directory.Delete(artifacts, true)
    let commit = match gitCommit () with Some sha -> $" -p:RepositoryCommit={sha}" | None -> ""
    for project in packedProjects do
        dotnet $"pack {project} -c Release --no-build --no-restore{commit}"

/// Installs the `fa` tool from artifacts/ into a temporary tool path, with a NuGet configuration whose only
/// source is artifacts/ (so no registry is asked: the tool package carries all its dependencies), and runs it.
let installTool () =
    let temp = Path.Combine(Path.GetTempPath(), "fa-tool-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory temp |> ignore
    try
        let config = Path.Combine(temp, "nuget.config")
        File.WriteAllText(config, $"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration><packageSources><clear /><add key=\"artifacts\" value=\"{artifacts}\" /></packageSources></configuration>\n")
        let toolPath = Path.Combine(temp, "tools")
        dotnet $"tool install --tool-path \"{toolPath}\" --configfile \"{config}\" {toolPackage} --version {version ()}"
        exec (Path.Combine(toolPath, "fa")) "law --weights 1,2 --cdf 3" temp
    finally
        Directory.Delete(temp, true)

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
        "pack", ([ "build" ], pack)
        "tool", ([ "pack" ], installTool)
        "bench", ([ "build" ], fun () ->
            dotnet "run -c Release --no-build --project bench/FunctionalAsymptotics.Bench -- --filter *")
        // `tool` before `test`: the test runner's summary stays the last line CI prints.
        "ci", ([ "build"; "examples"; "pack"; "tool"; "test" ], ignore)
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
