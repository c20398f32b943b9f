namespace FunctionalAsymptotics.Groups

open System
open FunctionalAsymptotics

[<RequireQualifiedAccess>]
module Assignment =

    let hungarian (cost: float[,]) : int[] =
        if isNull (box cost) then raise (InvalidArgumentException("cost", "must not be null"))
        let n = Array2D.length1 cost
        if Array2D.length2 cost <> n then
            raise (DimensionMismatchException("cost", sprintf "%d x %d (square)" n n, sprintf "%d x %d" n (Array2D.length2 cost)))
        cost |> Array2D.iteri (fun i j c -> if not (Double.IsFinite c) then raise (NonFiniteException("cost", i * n + j)))
        let u = Array.zeroCreate<float> (n + 1)
        let v = Array.zeroCreate<float> (n + 1)
        let p = Array.zeroCreate<int> (n + 1)
        let way = Array.zeroCreate<int> (n + 1)
        for i in 1 .. n do
            p.[0] <- i
            let mutable j0 = 0
            let minv = Array.create (n + 1) Double.PositiveInfinity
            let used = Array.create (n + 1) false
            let mutable searching = true
            while searching do
                used.[j0] <- true
                let i0 = p.[j0]
                let mutable delta = Double.PositiveInfinity
                let mutable j1 = 0
                for j in 1 .. n do
                    if not used.[j] then
                        let cur = cost.[i0 - 1, j - 1] - u.[i0] - v.[j]
                        if cur < minv.[j] then
                            minv.[j] <- cur
                            way.[j] <- j0
                        if minv.[j] < delta then
                            delta <- minv.[j]
                            j1 <- j
                for j in 0 .. n do
                    if used.[j] then
                        u.[p.[j]] <- u.[p.[j]] + delta
                        v.[j] <- v.[j] - delta
                    else
                        minv.[j] <- minv.[j] - delta
                j0 <- j1
                searching <- p.[j0] <> 0
            let mutable unwinding = true
            while unwinding do
                let j1 = way.[j0]
                p.[j0] <- p.[j1]
                j0 <- j1
                unwinding <- j0 <> 0
        let assign = Array.zeroCreate<int> n
        for j in 1 .. n do
            if p.[j] > 0 then assign.[p.[j] - 1] <- j - 1
        assign
