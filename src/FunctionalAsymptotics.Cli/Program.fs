module FunctionalAsymptotics.Cli.Program

[<EntryPoint>]
let main argv =
    match argv |> Array.tryHead with
    | Some ("gmm" | "gmm-sweep") -> Commands.Gmm.run argv
    | _ -> 0
