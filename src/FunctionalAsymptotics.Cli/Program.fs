/// `fa`: the FunctionalAsymptotics command line. Minimal dispatch (to be merged with the Argu
/// sub-command structure of the infra branch): `fa simulate ...`, `fa merge ...`.
module FunctionalAsymptotics.Cli.Program

open System
open FunctionalAsymptotics.Cli.Commands

[<EntryPoint>]
let main argv =
    match List.ofArray argv with
    | "simulate" :: rest -> Simulate.run (Array.ofList rest)
    | "merge" :: rest -> Merge.run (Array.ofList rest)
    | _ ->
        Console.Error.WriteLine "usage: fa simulate MODEL --n-grid N1,N2,.. --alpha A --reps R --out DIR [options] | fa merge DIR... --out DIR"
        2
