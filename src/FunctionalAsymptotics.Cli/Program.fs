module FunctionalAsymptotics.Cli.Program

open System
open FunctionalAsymptotics.Cli.Commands

[<EntryPoint>]
let main argv =
    match List.ofArray argv with
    | "spectral" :: rest -> Spectral.run Console.Out Console.Error (Array.ofList rest)
    | "factor" :: rest -> Factor.run Console.Out Console.Error (Array.ofList rest)
    | _ ->
        eprintfn "fa: expected a command: spectral or factor (try 'fa spectral --help')"
        2
