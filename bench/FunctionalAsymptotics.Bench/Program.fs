module FunctionalAsymptotics.Bench.Program

[<EntryPoint>]
let main _ = 0
