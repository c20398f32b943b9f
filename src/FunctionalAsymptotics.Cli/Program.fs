module FunctionalAsymptotics.Cli.Program

[<EntryPoint>]
let main _ = 0
