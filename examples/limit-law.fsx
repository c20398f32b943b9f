// The limit law of Theorem 5.1 from F#: n (R - sigma^2) => sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1.
// Build first (dotnet build FunctionalAsymptotics.sln -c Release), then: dotnet fsi examples/limit-law.fsx
#r "../src/FunctionalAsymptotics/bin/Release/net10.0/FunctionalAsymptotics.dll"

open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Distributions

// sigma^2 = 1, d_eff = 5, alpha = m / n = 2, and the eigenvalues lambda_j of V^1/2 G V^1/2.
let law = LimitLaw.create 1.0 5 2.0 [| 1.0; 0.5; 0.25; 0.125 |]

let row (label: string) (value: string) = printfn "%-30s = %s" label value

printfn "%O" law
row "OLS term sigma^2 d_eff" (sprintf "%g" law.OlsTerm)
row "pre-training mean E||L(Z)||^2" (sprintf "%g" law.PretrainingMean)
row "mean" (sprintf "%g" (LimitLaw.mean law))
row "variance" (sprintf "%g" (LimitLaw.variance law))
for p in [ 0.5; 0.9; 0.99 ] do
    row (sprintf "quantile(%g)" p) (sprintf "%.10g" (LimitLaw.quantile law p))
let t = LimitLaw.exceedanceThreshold law 0.05
row "95% exceedance threshold t" (sprintf "%.10g  (P(E_alpha >= t) = 0.05)" t)

let draws = LimitLaw.sample 2026UL 5 law
row "5 draws (seed 2026)" (draws |> Array.map (sprintf "%.6g") |> String.concat ", ")

// A Monte Carlo check of the threshold: the fraction of 10^6 draws at or above t.
let many = LimitLaw.sample 7UL 1_000_000 law
let fraction = (many |> Array.filter (fun x -> x >= t) |> Array.length |> float) / float many.Length
row "Monte Carlo P(E_alpha >= t)" (sprintf "%.4f (10^6 draws)" fraction)

// The same law as a generalized chi-square, with method and error bound.
match law.Distribution with
| Some q ->
    let e = GeneralizedChiSquare.sfWith ChiSquareSettings.Default q t
    printfn "P(E_alpha > t) = %.10g by %O, error <= %.3g" e.Value e.Method e.ErrorBound
| None -> ()
